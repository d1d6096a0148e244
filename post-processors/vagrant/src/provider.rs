//! Which Vagrant provider a box is for, and what each puts in the box.
//!
//! As in Packer, the provider follows from the builder that made the
//! artifact (`qemu` → `libvirt`, `file` → `file`), or from
//! `provider_override`, which an `artifice` artifact needs.
//!
//! **libvirt.** Packer copies the qemu disk in as `box.img` and writes its
//! format into metadata.json as it is; but vagrant-libvirt refuses any box
//! whose format is not `qcow2` (its `WrongBoxFormatSet` error, at `vagrant
//! up`). So bake converts a `raw` disk (or any other format qemu-img reads,
//! or a qcow2 that depends on a backing file) into a standalone qcow2 with
//! `qemu-img convert`, and says so; a standalone qcow2 goes in unchanged.
//! `virtual_size` is the disk's virtual size in GiB, rounded up, read from
//! the disk itself (Packer reads the builder's `disk_size`, which an
//! `artifice` artifact lacks). The Vagrantfile sets `libvirt.driver` from
//! the accelerator the build ran under, as Packer does: `kvm` for KVM,
//! `qemu` for TCG, `none` or `hvf`; vagrant-libvirt's default `kvm` when the
//! artifact does not say.
//!
//! **file.** Packer's provider for the `file` builder: every file of the
//! artifact goes into the box by its base name; metadata names the provider.

use crate::staging::Staging;
use bake_qemu_machine::qemu_img;
use bake_sdk::artifact::state;
use bake_sdk::{Artifact, CancellationToken, Ui};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The providers Packer's post-processor knows, for `provider_override`.
pub const PACKER_PROVIDERS: &[&str] =
    &["aws", "azure", "digitalocean", "docker", "file", "google", "hyperv", "libvirt", "lxc", "parallels", "scaleway", "virtualbox", "vmware"];

/// Packer's builder id for artifice artifacts.
const ARTIFICE: &str = "packer.post-processor.artifice";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Libvirt,
    File,
}

/// What a provider adds to the box besides its files.
pub struct Contents {
    /// The provider's part of the Vagrantfile (may be empty).
    pub vagrantfile: String,
    /// metadata.json, keys in order.
    pub metadata: BTreeMap<String, Json>,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Libvirt => "libvirt",
            Provider::File => "file",
        }
    }

    /// A `provider_override` value; the error says what is wrong.
    pub fn from_name(name: &str) -> Result<Provider, String> {
        match name {
            "libvirt" => Ok(Provider::Libvirt),
            "file" => Ok(Provider::File),
            other if PACKER_PROVIDERS.contains(&other) => {
                Err(format!("bake's vagrant post-processor makes boxes for the \"libvirt\" (qemu disks) and \"file\" providers; Packer's \"{other}\" provider is not implemented"))
            }
            other => Err(format!("\"{other}\" is not a Vagrant provider this post-processor knows; choose one of: {}", PACKER_PROVIDERS.join(", "))),
        }
    }

    /// The provider for an artifact: the override, else the one its builder
    /// implies.
    pub fn for_artifact(over: Option<Provider>, artifact: &Artifact) -> anyhow::Result<Provider> {
        if let Some(p) = over {
            return Ok(p);
        }
        match artifact.builder_type.as_str() {
            "qemu" => Ok(Provider::Libvirt),
            "file" => Ok(Provider::File),
            ARTIFICE => anyhow::bail!("unknown provider type: when using an artifact created by the artifice post-processor, you need to set the provider_override option (\"libvirt\" for a qemu disk)"),
            other => anyhow::bail!("unknown artifact type, can't build box: {other} (set provider_override to \"libvirt\" for a qemu disk)"),
        }
    }

    /// Puts the provider's files into the box directory.
    pub async fn process(self, input: &Artifact, staging: &mut Staging, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Contents> {
        match self {
            Provider::Libvirt => libvirt(input, staging, ui, cancel).await,
            Provider::File => file(input, staging, ui),
        }
    }
}

async fn libvirt(input: &Artifact, staging: &mut Staging, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Contents> {
    let driver = libvirt_driver(input)?;
    let disk = find_disk(input)?;
    let image = probe(&disk).await?;
    let standalone_qcow2 = image.format == "qcow2" && image.backing.is_none();
    if standalone_qcow2 {
        ui.message(format!("Copying from artifact: {} (as box.img)", disk.display()));
        staging.link("box.img", &disk).map_err(|e| anyhow::anyhow!("{}: {e}", disk.display()))?;
    } else {
        let why = match &image.backing {
            Some(backing) if image.format == "qcow2" => format!("it depends on the backing file {backing}, and a box must stand alone"),
            _ => format!("it is {}, and vagrant-libvirt takes qcow2 boxes only", image.format),
        };
        ui.message(format!("Converting {} to qcow2 for box.img: {why}", disk.display()));
        let target = staging.path("box.img");
        tokio::select! {
            done = qemu_img::convert(&disk, &target, "qcow2", false) => done?,
            _ = cancel.cancelled() => return Err(bake_sdk::Cancelled::new().into()),
        }
        staging.add("box.img");
    }
    let metadata = BTreeMap::from([
        ("format".to_string(), json!("qcow2")),
        ("provider".to_string(), json!("libvirt")),
        ("virtual_size".to_string(), json!(size_in_gib(image.virtual_size))),
    ]);
    let vagrantfile =
        format!("Vagrant.configure(\"2\") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = \"{driver}\"\n  end\nend\n");
    Ok(Contents { vagrantfile, metadata })
}

fn file(input: &Artifact, staging: &mut Staging, ui: &Ui) -> anyhow::Result<Contents> {
    for f in &input.files {
        let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| anyhow::anyhow!("{} has no file name", f.path.display()))?;
        if staging.has(&name) {
            anyhow::bail!("two files would be \"{name}\" in the box: {} and an earlier one", f.path.display());
        }
        ui.message(format!("Copying: {}", f.path.display()));
        staging.link(&name, &f.path).map_err(|e| anyhow::anyhow!("{}: {e}", f.path.display()))?;
    }
    Ok(Contents { vagrantfile: String::new(), metadata: BTreeMap::from([("provider".to_string(), json!("file"))]) })
}

/// vagrant-libvirt's `driver` for the accelerator a qemu build ran under
/// (Packer's mapping of `domainType`).
pub fn libvirt_driver(input: &Artifact) -> anyhow::Result<&'static str> {
    match input.state.get(state::DOMAIN_TYPE).and_then(Json::as_str) {
        None | Some("") => Ok("kvm"),
        Some("kvm") => Ok("kvm"),
        Some("none" | "tcg" | "hvf") => Ok("qemu"),
        Some(other) => anyhow::bail!("unknown libvirt domain type: {other} (the qemu accelerator must be kvm, tcg, hvf or none)"),
    }
}

/// The artifact's disk: the qemu builder's `diskPath` (or `diskName`), else
/// its only file, else its only file that looks like a disk image.
pub fn find_disk(input: &Artifact) -> anyhow::Result<PathBuf> {
    let paths: Vec<&Path> = input.files.iter().map(|f| f.path.as_path()).collect();
    if let Some(path) = input.state.get(state::DISK_PATH).and_then(Json::as_str) {
        if let Some(p) = paths.iter().find(|p| **p == Path::new(path)) {
            return Ok(p.to_path_buf());
        }
    }
    if let Some(name) = input.state.get(state::DISK_NAME).and_then(Json::as_str) {
        if let Some(p) = paths.iter().find(|p| p.file_name().is_some_and(|n| n == name)) {
            return Ok(p.to_path_buf());
        }
    }
    if let [one] = paths.as_slice() {
        return Ok(one.to_path_buf());
    }
    let disks: Vec<&&Path> =
        paths.iter().filter(|p| p.extension().is_some_and(|e| ["qcow2", "raw", "img"].iter().any(|d| e.eq_ignore_ascii_case(d)))).collect();
    match disks.as_slice() {
        [one] => Ok(one.to_path_buf()),
        _ if paths.is_empty() => anyhow::bail!("the artifact has no files: there is no disk to put in the box"),
        _ => {
            let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            anyhow::bail!(
                "cannot tell which of the artifact's files is the disk: {}; give artifice only the disk, and the other files through include",
                list.join(", ")
            )
        }
    }
}

/// What qemu-img says about a disk.
pub struct Image {
    pub format: String,
    pub virtual_size: u64,
    pub backing: Option<String>,
}

async fn probe(path: &Path) -> anyhow::Result<Image> {
    let json = qemu_img::qemu_img(&["info".into(), "--output=json".into(), path.display().to_string()]).await?;
    let v: Json = serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("qemu-img info {}: {e}", path.display()))?;
    Ok(Image {
        format: v["format"].as_str().unwrap_or("raw").to_string(),
        virtual_size: v["virtual-size"].as_u64().unwrap_or(0),
        backing: v["backing-filename"].as_str().map(str::to_string),
    })
}

/// Bytes to whole GiB, rounded up (never below 1): vagrant-libvirt sizes
/// the volume from it, so it must not be smaller than the disk.
pub fn size_in_gib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 30).max(1)
}
