//! What a build produces and post-processors transform, the names of the
//! facts builders record in an artifact's `state`, and the accessors that
//! read those facts back (a post-processor asks `disk_image(a)`, not which
//! builder made `a`).

use crate::ui::Ui;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys of [`Artifact::state`] that builders write and post-processors
/// read. The camel-case ones are Packer's qemu builder's names, so that
/// Packer templates and tools reading them see the same facts.
pub mod state {
    /// The disk image's file name (qemu: `vm_name`).
    pub const DISK_NAME: &str = "diskName";
    /// The disk image's path, one of the artifact's files.
    pub const DISK_PATH: &str = "diskPath";
    /// The disk image's format (`qcow2`, `raw`).
    pub const DISK_TYPE: &str = "diskType";
    /// The disk's size as configured (`disk_size`).
    pub const DISK_SIZE: &str = "diskSize";
    /// The accelerator the machine ran under (`kvm`, `tcg`, …).
    pub const DOMAIN_TYPE: &str = "domainType";
    /// The artifact's format, when its builder states one.
    pub const FORMAT: &str = "format";
    /// Another builder's name for the image's format.
    pub const IMAGE_FORMAT: &str = "imageFormat";
    /// A container image's digest (`sha256:…`).
    pub const DIGEST: &str = "digest";
    /// Region → image id, for images in cloud regions.
    pub const REGION_IMAGES: &str = "region_images";
    /// The Vagrant provider a box is for.
    pub const PROVIDER: &str = "provider";
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Artifact {
    /// The plugin that made it: `qemu`, `amazon-ebs`, `compress` …
    pub builder_type: String,
    /// The artifact's id: an AMI id, an image digest, a file path.
    pub id: String,
    pub files: Vec<ArtifactFile>,
    /// Structured facts, such as `"region_images": {"us-east-1": "ami-…"}`.
    pub state: BTreeMap<String, serde_json::Value>,
    /// One line for the closing summary.
    pub description: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ArtifactFile {
    pub path: PathBuf,
    pub size: u64,
    /// Hex sha256, when known.
    pub sha256: Option<String>,
}

impl ArtifactFile {
    /// Describes a file on disk, hashing it.
    pub fn from_path(path: impl Into<PathBuf>) -> std::io::Result<ArtifactFile> {
        use sha2::Digest;
        let path = path.into();
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = sha2::Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)?;
        Ok(ArtifactFile { path, size, sha256: Some(hex(&hasher.finalize())) })
    }
}

/// The hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Disk image formats, by the file extension that names them.
const DISK_FORMATS: &[&str] = &["qcow2", "raw", "img", "vmdk", "vdi", "vhd", "vhdx", "iso", "ova", "ovf", "box"];

/// The artifact's format: what its builder says (`format`, `diskType`), else
/// the extension of its first file (`qcow2`, `tar.gz`, …).
pub fn artifact_format(a: &Artifact) -> Option<String> {
    for key in [state::FORMAT, state::DISK_TYPE, state::IMAGE_FORMAT] {
        if let Some(s) = a.state.get(key).and_then(Json::as_str).filter(|s| !s.is_empty()) {
            return Some(s.to_string());
        }
    }
    if a.state.contains_key(state::DIGEST) {
        return Some("oci".to_string());
    }
    let name = a.files.first()?.path.file_name()?.to_string_lossy().to_lowercase();
    for compound in ["tar.gz", "tar.zst", "tar.xz", "tar.bz2", "qcow2.gz", "raw.gz", "img.gz", "raw.zst", "img.zst"] {
        if name.ends_with(&format!(".{compound}")) {
            return Some(compound.to_string());
        }
    }
    let ext = Path::new(&name).extension()?.to_string_lossy().into_owned();
    Some(if ext == "img" { "raw".to_string() } else { ext })
}

/// Region → image id, for artifacts that are images in cloud regions: the
/// builder's `region_images` state, else an id of Packer's amazon form
/// (`us-east-1:ami-1,eu-west-1:ami-2`). Empty otherwise.
pub fn region_images(a: &Artifact) -> serde_json::Map<String, Json> {
    if let Some(Json::Object(m)) = a.state.get(state::REGION_IMAGES) {
        return m.clone();
    }
    let mut map = serde_json::Map::new();
    for part in a.id.split(',') {
        let Some((region, id)) = part.trim().split_once(':') else { return serde_json::Map::new() };
        let region_like = !region.is_empty() && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && region.contains('-');
        if !region_like || id.is_empty() || id.contains(':') {
            return serde_json::Map::new();
        }
        map.insert(region.to_string(), json!(id));
    }
    map
}

/// The disk image among the artifact's files, when it is a disk image.
pub fn disk_image(a: &Artifact) -> Option<&ArtifactFile> {
    if let Some(path) = a.state.get(state::DISK_PATH).and_then(Json::as_str) {
        if let Some(f) = a.files.iter().find(|f| f.path == Path::new(path)) {
            return Some(f);
        }
    }
    a.files.iter().find(|f| {
        let name = f.path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        DISK_FORMATS.iter().any(|ext| name.ends_with(&format!(".{ext}")))
    })
}

/// A container image's digest: the builder's `digest` state, or an id that
/// is one.
pub fn digest(a: &Artifact) -> Option<String> {
    if let Some(d) = a.state.get(state::DIGEST).and_then(Json::as_str) {
        return Some(d.to_string());
    }
    a.id.starts_with("sha256:").then(|| a.id.clone())
}

/// The files with size and sha256; a hash the builder did not give is
/// computed now (for files that still exist).
pub fn hashed_files(a: &Artifact) -> Vec<ArtifactFile> {
    a.files
        .iter()
        .map(|f| match &f.sha256 {
            Some(_) => f.clone(),
            None => ArtifactFile::from_path(&f.path).map(|h| ArtifactFile { path: f.path.clone(), ..h }).unwrap_or_else(|_| f.clone()),
        })
        .collect()
}

/// Removes an artifact that a chain does not keep (Packer's
/// `Artifact.Destroy`). The engine asks the plugin that made the artifact,
/// by its [`Artifact::builder_type`]: a plugin whose artifacts are more
/// than files (an AMI and its snapshots, a container image in a registry)
/// provides one and the engine registers it (`src/plugins.rs`); every other
/// artifact gets [`RemoveFiles`].
#[async_trait::async_trait]
pub trait DestroyArtifact: Send + Sync {
    /// Removes `artifact`, except what `next` (the artifact made from it,
    /// which the chain goes on with) still uses.
    async fn destroy(&self, artifact: &Artifact, next: &Artifact, ui: &Ui) -> anyhow::Result<()>;
}

/// The default [`DestroyArtifact`]: removes the artifact's files, except
/// those the next artifact still uses. A file that is already gone, or
/// cannot be removed, is left as it is.
pub struct RemoveFiles;

#[async_trait::async_trait]
impl DestroyArtifact for RemoveFiles {
    async fn destroy(&self, artifact: &Artifact, next: &Artifact, ui: &Ui) -> anyhow::Result<()> {
        for f in &artifact.files {
            if next.files.iter().any(|n| n.path == f.path) {
                continue;
            }
            if std::fs::remove_file(&f.path).is_ok() {
                ui.message(format!("Removed intermediate artifact file {}", f.path.display()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(id: &str, files: &[&str], state: &[(&str, Json)]) -> Artifact {
        Artifact {
            id: id.to_string(),
            files: files.iter().map(|f| ArtifactFile { path: f.into(), ..Default::default() }).collect(),
            state: state.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
            ..Default::default()
        }
    }

    #[test]
    fn format_from_state_then_extension() {
        assert_eq!(artifact_format(&artifact("VM", &["out/web"], &[("diskType", json!("raw"))])).as_deref(), Some("raw"));
        assert_eq!(artifact_format(&artifact("x", &["a/b.tar.gz"], &[])).as_deref(), Some("tar.gz"));
        assert_eq!(artifact_format(&artifact("x", &["disk.IMG"], &[])).as_deref(), Some("raw"));
        assert_eq!(artifact_format(&artifact("sha256:ab", &[], &[("digest", json!("sha256:ab"))])).as_deref(), Some("oci"));
        assert_eq!(artifact_format(&artifact("Null", &[], &[])), None);
    }

    #[test]
    fn region_images_from_state_or_packers_amazon_id() {
        let from_state = artifact("", &[], &[("region_images", json!({ "us-east-1": "ami-1" }))]);
        assert_eq!(region_images(&from_state), json!({ "us-east-1": "ami-1" }).as_object().unwrap().clone());
        let packer = artifact("us-east-1:ami-1,eu-west-1:ami-2", &[], &[]);
        assert_eq!(Json::Object(region_images(&packer)), json!({ "us-east-1": "ami-1", "eu-west-1": "ami-2" }));
        for id in ["Null", "VM", "sha256:abcd", "web.qcow2", "us-east-1:", "a:b:c"] {
            assert!(region_images(&artifact(id, &[], &[])).is_empty(), "{id}");
        }
    }

    #[test]
    fn disk_image_prefers_the_builders_disk_path() {
        let a = artifact("VM", &["out/efivars.fd", "out/web"], &[("diskPath", json!("out/web"))]);
        assert_eq!(disk_image(&a).unwrap().path, Path::new("out/web"));
        let b = artifact("x", &["notes.txt", "web.qcow2"], &[]);
        assert_eq!(disk_image(&b).unwrap().path, Path::new("web.qcow2"));
        assert!(disk_image(&artifact("x", &["notes.txt"], &[])).is_none());
    }

    #[test]
    fn remove_files_spares_what_the_next_artifact_uses() {
        let dir = std::env::temp_dir().join(format!("bake-destroy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (gone, kept) = (dir.join("gone.raw"), dir.join("kept.raw"));
        std::fs::write(&gone, "x").unwrap();
        std::fs::write(&kept, "y").unwrap();
        let input = artifact("VM", &[gone.to_str().unwrap(), kept.to_str().unwrap()], &[]);
        let next = artifact("next", &[kept.to_str().unwrap()], &[]);
        let sink = std::sync::Arc::new(crate::ui::RecordingSink::default());
        let ui = Ui::new("b", sink.clone());
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(RemoveFiles.destroy(&input, &next, &ui)).unwrap();
        assert!(!gone.exists() && kept.exists());
        let events = sink.events.lock().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].1, crate::ui::Event::Message(format!("Removed intermediate artifact file {}", gone.display())));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
