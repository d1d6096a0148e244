//! Post-processors that live in the engine (they need no heavy dependencies),
//! and what they share: the facts read off an artifact, the template's
//! provenance, and the locked read-modify-rename of a JSON file.

pub mod artifice;
pub mod manifest;
pub mod terraform;

use crate::load::Loaded;
use bake_sdk::{Artifact, ArtifactFile, TemplateInfo};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

/// What the manifest records about where a run's builds come from.
pub fn template_info(loaded: &Loaded) -> TemplateInfo {
    let mut files: Vec<(PathBuf, String)> = loaded
        .files
        .iter()
        .map(|f| {
            let hash = ArtifactFile::from_path(f).ok().and_then(|a| a.sha256).unwrap_or_default();
            (f.clone(), hash)
        })
        .collect();
    files.sort();
    let sha256 = match files.as_slice() {
        [(_, one)] => one.clone(),
        many => {
            let listing: String = many
                .iter()
                .map(|(p, h)| format!("{h}  {}\n", p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())))
                .collect();
            bake_sdk::artifact::sha256_hex(listing.as_bytes())
        }
    };
    let variables = loaded.variables.iter().map(|(name, v)| (name.clone(), if v.sensitive { json!("<sensitive>") } else { v.value.to_json() })).collect();
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&loaded.root_dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let git_commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let git_dirty = git_commit.is_some() && git(&["status", "--porcelain", "--", "."]).is_some_and(|s| !s.is_empty());
    TemplateInfo { path: loaded.template_path.clone(), files, sha256, variables, git_commit, git_dirty }
}

/// Disk image formats, by the file extension that names them.
const DISK_FORMATS: &[&str] = &["qcow2", "raw", "img", "vmdk", "vdi", "vhd", "vhdx", "iso", "ova", "ovf", "box"];

/// The artifact's format: what its builder says (`format`, `diskType`), else
/// the extension of its first file (`qcow2`, `tar.gz`, …).
pub fn artifact_format(a: &Artifact) -> Option<String> {
    for key in ["format", "diskType", "imageFormat"] {
        if let Some(s) = a.state.get(key).and_then(Json::as_str).filter(|s| !s.is_empty()) {
            return Some(s.to_string());
        }
    }
    if a.state.contains_key("digest") {
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
    if let Some(Json::Object(m)) = a.state.get("region_images") {
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
    if let Some(path) = a.state.get("diskPath").and_then(Json::as_str) {
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
    if let Some(d) = a.state.get("digest").and_then(Json::as_str) {
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

/// Reads the JSON file at `path` (or `empty` when it does not exist), lets
/// `change` edit it, and writes it back through a temp file renamed into
/// place, all under an exclusive lock on its directory, so that concurrent
/// writers (builds in this process or another bake) never lose each other's
/// changes.
pub fn update_json_locked(path: &Path, what: &str, empty: Json, change: impl FnOnce(&mut Json)) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::File::open(&dir)?;
    lock.lock()?;
    let mut doc: Json = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the existing {what} {} is not valid JSON ({e}); move it away or fix it", path.display()))?,
        _ => empty,
    };
    change(&mut doc);
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().map_or("bake".into(), |n| n.to_string_lossy()), std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(&doc)? + "\n")?;
    std::fs::rename(&tmp, path)?;
    lock.unlock()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
}
