//! The qemu builder's configuration: Packer's option names, defaults and
//! checks (see packer-plugin-qemu), decoded from the template.

use bake_sdk::communicator::config::{decode_with_communicator, CommunicatorConfig, Kind, Support};
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Config {
    // The source image.
    pub iso_url: Option<String>,
    #[serde(default)]
    pub iso_urls: Vec<String>,
    pub iso_checksum: Option<String>,
    pub iso_target_path: Option<String>,
    #[serde(default = "default_iso_extension")]
    pub iso_target_extension: String,
    #[serde(default)]
    pub disk_image: bool,
    #[serde(default)]
    pub use_backing_file: bool,
    #[serde(default)]
    pub skip_resize_disk: bool,

    // Disks.
    pub disk_size: Option<String>,
    #[serde(default)]
    pub disk_additional_size: Vec<String>,
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default)]
    pub skip_compaction: bool,
    #[serde(default)]
    pub disk_compression: bool,
    #[serde(default = "default_disk_interface")]
    pub disk_interface: String,
    #[serde(default = "default_disk_cache")]
    pub disk_cache: String,
    #[serde(default = "default_disk_discard")]
    pub disk_discard: String,
    #[serde(default = "default_detect_zeroes")]
    pub disk_detect_zeroes: String,

    // The machine.
    pub accelerator: Option<String>,
    #[serde(default = "default_machine_type")]
    pub machine_type: String,
    pub cpus: Option<u32>,
    pub sockets: Option<u32>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    #[serde(default = "default_memory")]
    pub memory: u32,
    pub cpu_model: Option<String>,
    #[serde(default = "default_qemu_binary")]
    pub qemu_binary: String,
    #[serde(default)]
    pub efi_boot: bool,
    pub efi_firmware_code: Option<String>,
    pub efi_firmware_vars: Option<String>,
    #[serde(default)]
    pub efi_drop_efivars: bool,
    pub firmware: Option<String>,

    // Display.
    #[serde(default)]
    pub headless: bool,
    pub display: Option<String>,
    #[serde(default)]
    pub use_default_display: bool,
    #[serde(default = "default_vnc_bind")]
    pub vnc_bind_address: String,
    #[serde(default = "default_vnc_min")]
    pub vnc_port_min: u16,
    #[serde(default = "default_vnc_max")]
    pub vnc_port_max: u16,
    #[serde(default)]
    pub disable_vnc: bool,

    // Network.
    #[serde(default = "default_net_device")]
    pub net_device: String,
    #[serde(default = "default_host_port_min", alias = "ssh_host_port_min")]
    pub host_port_min: u16,
    #[serde(default = "default_host_port_max", alias = "ssh_host_port_max")]
    pub host_port_max: u16,
    #[serde(default)]
    pub qemuargs: Vec<Vec<String>>,

    // Output.
    pub output_directory: Option<String>,
    pub vm_name: Option<String>,

    // Boot.
    #[serde(default = "default_boot_wait", deserialize_with = "bake_sdk::duration::deserialize")]
    pub boot_wait: Duration,
    #[serde(default)]
    pub boot_command: Vec<String>,
    #[serde(default, deserialize_with = "bake_sdk::duration::deserialize_opt")]
    pub boot_key_interval: Option<Duration>,
    pub http_directory: Option<String>,
    #[serde(default)]
    pub http_content: BTreeMap<String, String>,
    #[serde(default = "default_http_min")]
    pub http_port_min: u16,
    #[serde(default = "default_http_max")]
    pub http_port_max: u16,
    #[serde(default = "default_http_bind")]
    pub http_bind_address: String,
    #[serde(default)]
    pub cd_files: Vec<String>,
    #[serde(default)]
    pub cd_content: BTreeMap<String, String>,
    pub cd_label: Option<String>,
    pub cdrom_interface: Option<String>,
    #[serde(default)]
    pub floppy_files: Vec<String>,
    #[serde(default)]
    pub floppy_dirs: Vec<String>,
    #[serde(default)]
    pub floppy_content: BTreeMap<String, String>,
    pub floppy_label: Option<String>,
    /// `[keys, description]` pairs: boot_command in named steps.
    #[serde(default)]
    pub boot_steps: Vec<Vec<String>>,

    // Firmware and TPM.
    #[serde(default)]
    pub use_pflash: bool,
    #[serde(default)]
    pub vtpm: bool,
    #[serde(default)]
    pub use_tpm1: bool,
    #[serde(default = "default_tpm_device_type")]
    pub tpm_device_type: String,

    // Shutdown.
    pub shutdown_command: Option<String>,
    #[serde(default = "default_shutdown_timeout", deserialize_with = "bake_sdk::duration::deserialize")]
    pub shutdown_timeout: Duration,
    // The communicator options are decoded by the sdk (see `prepare`).
}

fn default_iso_extension() -> String {
    "iso".into()
}
fn default_format() -> String {
    "qcow2".into()
}
fn default_disk_interface() -> String {
    "virtio".into()
}
fn default_disk_cache() -> String {
    "writeback".into()
}
fn default_disk_discard() -> String {
    "ignore".into()
}
fn default_detect_zeroes() -> String {
    "off".into()
}
fn default_machine_type() -> String {
    "pc".into()
}
fn default_memory() -> u32 {
    512
}
fn default_qemu_binary() -> String {
    "qemu-system-x86_64".into()
}
fn default_vnc_bind() -> String {
    "127.0.0.1".into()
}
fn default_vnc_min() -> u16 {
    5900
}
fn default_vnc_max() -> u16 {
    6000
}
fn default_net_device() -> String {
    "virtio-net".into()
}
fn default_host_port_min() -> u16 {
    2222
}
fn default_host_port_max() -> u16 {
    4444
}
fn default_boot_wait() -> Duration {
    Duration::from_secs(10)
}
fn default_http_min() -> u16 {
    8000
}
fn default_http_max() -> u16 {
    9000
}
fn default_http_bind() -> String {
    "0.0.0.0".into()
}
fn default_tpm_device_type() -> String {
    "tpm-tis".into()
}
fn default_shutdown_timeout() -> Duration {
    Duration::from_secs(300)
}

/// The configuration after defaults that depend on the build are applied
/// and every option is checked.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub config: Config,
    /// `communicator`, `ssh_*`: `ssh.host` is empty unless `ssh_host` is
    /// set, and `ssh.port` is the guest's port (the host port forwarded to
    /// it is chosen at boot).
    pub comm: CommunicatorConfig,
    pub iso_urls: Vec<String>,
    /// `disk_size` in MiB-normalised qemu-img syntax (`40960M`, `4G`).
    pub disk_size: String,
    pub disk_size_bytes: u64,
}

impl Prepared {
    /// `output-<source name>` unless set.
    pub fn output_directory(&self, source_name: &str) -> String {
        self.config.output_directory.clone().unwrap_or_else(|| format!("output-{source_name}"))
    }

    /// `packer-<source name>` unless set; the disk file's name.
    pub fn vm_name(&self, source_name: &str) -> String {
        self.config.vm_name.clone().unwrap_or_else(|| format!("packer-{source_name}"))
    }
}

const DISK_INTERFACES: &[&str] = &["ide", "sata", "scsi", "sd", "virtio", "virtio-scsi"];
const DISK_CACHES: &[&str] = &["writethrough", "writeback", "none", "unsafe", "directsync"];
const ACCELERATORS: &[&str] = &["none", "kvm", "tcg", "xen", "hax", "hvf", "whpx"];
const CDROM_INTERFACES: &[&str] = &["ide", "scsi", "virtio", "virtio-scsi"];
/// QEMU's TPM front ends: tpm-tis for x86 (the default), tpm-crb, and the
/// ARM and POWER ones.
const TPM_DEVICE_TYPES: &[&str] = &["tpm-tis", "tpm-crb", "tpm-tis-device", "tpm-spapr"];

/// The error for a value outside `allowed`, with a suggestion when one is
/// close; `None` when the value is allowed.
fn not_one_of(key: &str, value: &str, allowed: &[&str]) -> Option<String> {
    if allowed.contains(&value) {
        return None;
    }
    let hint = bake_sdk::lang::diag::suggest(value, allowed.iter().copied()).map_or(String::new(), |s| format!(" Did you mean \"{s}\"?"));
    Some(format!("{key} must be one of {}, not \"{value}\".{hint}", allowed.join(", ")))
}

/// The VM is reached through a forwarded port, and a cloud-init image gets a
/// key made for the build when no credential is given.
const COMMUNICATORS: Support =
    Support { kinds: &[Kind::None, Kind::Ssh], default: Kind::Ssh, host_from_builder: true, generates_key: true, cloud_key_pairs: false };

pub fn prepare(body: &EvalBody, what: &str) -> Result<Prepared, Diagnostics> {
    let (config, comm) = decode_with_communicator::<Config>(body, what, &COMMUNICATORS)?;
    let at = |k: &str| body.attributes.get(k).map_or(body.span, |a| a.span);
    let mut diags = Diagnostics::new();
    let mut err = |key: &str, summary: &str, detail: String| diags.push(Diagnostic::error(summary, detail).at(at(key)));

    let mut iso_urls = config.iso_urls.clone();
    match (&config.iso_url, iso_urls.is_empty()) {
        (Some(u), true) => iso_urls.push(u.clone()),
        (Some(_), false) => err("iso_urls", "Conflicting arguments", "Only one of iso_url or iso_urls can be set.".into()),
        (None, true) => err("iso_url", "Missing source image", format!("{what} needs iso_url (an installer ISO, or a disk image with disk_image = true).")),
        (None, false) => {}
    }
    match &config.iso_checksum {
        None => err("iso_checksum", "Missing iso_checksum", "A checksum must be given: \"sha256:…\", \"file:SHA256SUMS\", or \"none\".".into()),
        Some(c) => {
            if let Err(e) = bake_download::parse_checksum(c) {
                err("iso_checksum", "Invalid iso_checksum", e);
            }
        }
    }
    if !["qcow2", "raw"].contains(&config.format.as_str()) {
        err("format", "Invalid format", format!("format must be \"qcow2\" or \"raw\", not \"{}\".", config.format));
    }
    if config.use_backing_file && !(config.disk_image && config.format == "qcow2") {
        err("use_backing_file", "Invalid use_backing_file", "use_backing_file works only with disk_image = true and format = \"qcow2\".".into());
    }
    if config.skip_resize_disk && !config.disk_image {
        err("skip_resize_disk", "Invalid skip_resize_disk", "skip_resize_disk works only with disk_image = true.".into());
    }
    if !DISK_INTERFACES.contains(&config.disk_interface.as_str()) {
        err("disk_interface", "Invalid disk_interface", format!("disk_interface must be one of {}.", DISK_INTERFACES.join(", ")));
    }
    if !DISK_CACHES.contains(&config.disk_cache.as_str()) {
        err("disk_cache", "Invalid disk_cache", format!("disk_cache must be one of {}.", DISK_CACHES.join(", ")));
    }
    if !["unmap", "ignore"].contains(&config.disk_discard.as_str()) {
        err("disk_discard", "Invalid disk_discard", "disk_discard must be \"unmap\" or \"ignore\".".into());
    }
    if !["unmap", "on", "off"].contains(&config.disk_detect_zeroes.as_str()) {
        err("disk_detect_zeroes", "Invalid disk_detect_zeroes", "disk_detect_zeroes must be \"unmap\", \"on\" or \"off\".".into());
    }
    if let Some(a) = &config.accelerator {
        if !ACCELERATORS.contains(&a.as_str()) {
            err("accelerator", "Invalid accelerator", format!("accelerator must be one of {} (or unset to detect).", ACCELERATORS.join(", ")));
        }
    }
    if config.vnc_port_min < 5900 || config.vnc_port_min > config.vnc_port_max {
        err("vnc_port_min", "Invalid VNC ports", "vnc_port_min must be at least 5900 and not above vnc_port_max.".into());
    }
    if config.host_port_min > config.host_port_max {
        err("host_port_min", "Invalid host ports", "host_port_min must not be above host_port_max.".into());
    }
    if config.http_port_min > config.http_port_max {
        err("http_port_min", "Invalid HTTP ports", "http_port_min must not be above http_port_max.".into());
    }
    if config.http_directory.is_some() && !config.http_content.is_empty() {
        err("http_content", "Conflicting arguments", "http_directory and http_content cannot both be set.".into());
    }
    for key in config.http_content.keys() {
        if !key.starts_with('/') {
            err("http_content", "Invalid http_content", format!("the path \"{key}\" must start with \"/\"."));
        }
    }
    for row in &config.qemuargs {
        if row.is_empty() {
            err("qemuargs", "Invalid qemuargs", "every qemuargs entry needs at least the flag, e.g. [\"-m\", \"1024M\"].".into());
        }
    }
    if !config.boot_command.is_empty() {
        if let Err(e) = crate::boot_command::parse(&config.boot_command.concat()) {
            err("boot_command", "Invalid boot_command", e);
        }
    }
    if !config.boot_command.is_empty() && !config.boot_steps.is_empty() {
        err("boot_steps", "Conflicting arguments", "boot_command and boot_steps cannot both be set; boot_steps is boot_command in named steps.".into());
    }
    for (i, step) in config.boot_steps.iter().enumerate() {
        match step.as_slice() {
            [keys] | [keys, _] => {
                if let Err(e) = crate::boot_command::parse(keys) {
                    err("boot_steps", "Invalid boot_steps", format!("step {}: {e}", i + 1));
                }
            }
            _ => err(
                "boot_steps",
                "Invalid boot_steps",
                format!("step {} has {} entries; each step is [\"keys\"] or [\"keys\", \"description\"].", i + 1, step.len()),
            ),
        }
    }
    if let Some(i) = &config.cdrom_interface {
        if let Some(e) = not_one_of("cdrom_interface", i, CDROM_INTERFACES) {
            err("cdrom_interface", "Invalid cdrom_interface", e);
        }
    }
    if let Some(e) = not_one_of("tpm_device_type", &config.tpm_device_type, TPM_DEVICE_TYPES) {
        err("tpm_device_type", "Invalid tpm_device_type", e);
    }
    if let Some(fw) = &config.firmware {
        if config.efi_boot {
            err(
                "firmware",
                "Conflicting arguments",
                "firmware and efi_boot cannot both be set; for UEFI use efi_boot with efi_firmware_code / efi_firmware_vars.".into(),
            );
        } else if fw.contains('/') && !std::path::Path::new(fw).is_file() {
            err("firmware", "Firmware not found", format!("firmware \"{fw}\" does not exist."));
        }
    }
    if config.use_pflash && config.firmware.is_none() {
        err("use_pflash", "Invalid use_pflash", "use_pflash says how to load firmware, so it needs firmware to be set (for UEFI use efi_boot).".into());
    }
    if let Some(label) = &config.floppy_label {
        if let Err(e) = crate::floppy::check_label(label) {
            err("floppy_label", "Invalid floppy_label", e);
        }
    }
    for (key, dirs_only) in [("floppy_files", false), ("floppy_dirs", true)] {
        let paths = if dirs_only { &config.floppy_dirs } else { &config.floppy_files };
        for path in paths {
            if let Err(e) = crate::floppy::check_source(path, dirs_only) {
                err(key, &format!("Invalid {key}"), e);
            }
        }
    }
    for key in config.floppy_content.keys() {
        if let Err(e) = crate::floppy::check_content_path(key) {
            err("floppy_content", "Invalid floppy_content", e);
        }
    }
    let (disk_size, disk_size_bytes) = match normalise_disk_size(config.disk_size.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            err("disk_size", "Invalid disk_size", e);
            (String::new(), 0)
        }
    };
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Prepared { comm, iso_urls, disk_size, disk_size_bytes, config })
}

/// Packer's disk_size: a bare number is MiB; `b k m g t` suffixes; unset or
/// zero means 40960M.
pub fn normalise_disk_size(s: Option<&str>) -> Result<(String, u64), String> {
    let s = s.map(str::trim).filter(|s| !s.is_empty() && *s != "0").unwrap_or("40960M").to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("\"{s}\" is not a size; write e.g. \"4G\" or \"10240\" (MiB)"))?;
    let (unit, mult) = match unit {
        "" | "m" => ("M", 1u64 << 20),
        "b" => ("", 1),
        "k" => ("K", 1 << 10),
        "g" => ("G", 1 << 30),
        "t" => ("T", 1 << 40),
        _ => return Err(format!("\"{s}\" has an unknown unit; use b, k, m, g or t")),
    };
    Ok((format!("{n}{unit}"), n * mult))
}

#[cfg(test)]
mod tests {
    use super::{normalise_disk_size, prepare};

    /// The rendered errors for a disk-image source with `extra` options.
    fn errors(extra: &str) -> String {
        let src = format!("iso_url = \"d.qcow2\"\niso_checksum = \"none\"\ndisk_image = true\ncommunicator = \"none\"\n{extra}\n");
        let (sources, body) = bake_sdk::testing::eval_body(&src);
        match prepare(&body, "source \"qemu.t\"") {
            Ok(_) => String::new(),
            Err(d) => d.0.iter().map(|d| d.render(&sources)).collect(),
        }
    }

    #[test]
    fn new_options_are_checked_at_their_attribute() {
        let e = errors("cdrom_interface = \"virtio-scsci\"");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("Did you mean \"virtio-scsi\"?"), "{e}");
        let e = errors("vtpm = true\ntpm_device_type = \"tpm-crv\"");
        assert!(e.contains("t.pkr.hcl:6:") && e.contains("Did you mean \"tpm-crb\"?"), "{e}");
        let e = errors("boot_command = [\"a\"]\nboot_steps = [[\"b\", \"B\"]]");
        assert!(e.contains("t.pkr.hcl:6:") && e.contains("cannot both be set"), "{e}");
        let e = errors("boot_steps = [[\"<enter>\", \"go\"], [\"a\", \"b\", \"c\"], [\"<nokey>\"]]");
        assert!(e.contains("step 2 has 3 entries") && e.contains("step 3:"), "{e}");
        let e = errors("use_pflash = true");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("needs firmware"), "{e}");
        let e = errors("firmware = \"/no/such/OVMF.fd\"");
        assert!(e.contains("does not exist"), "{e}");
        let e = errors("firmware = \"bios-256k.bin\"\nefi_boot = true");
        assert!(e.contains("cannot both be set"), "{e}");
        let e = errors("floppy_files = [\"/no/such/Autounattend.xml\"]\nfloppy_dirs = [\"Cargo.toml\"]\nfloppy_label = \"much-too-long\"");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("/no/such/Autounattend.xml"), "{e}");
        assert!(e.contains("t.pkr.hcl:6:") && e.contains("is not a directory"), "{e}");
        assert!(e.contains("t.pkr.hcl:7:") && e.contains("1 to 11 characters"), "{e}");
        let e = errors("floppy_content = { \"../x\" = \"y\" }");
        assert!(e.contains("without \"..\""), "{e}");
        assert_eq!(
            errors("cdrom_interface = \"ide\"\nvtpm = true\nfloppy_files = [\"src/*.rs\"]\nfloppy_label = \"cidata\"\nboot_steps = [[\"<enter>\"]]"),
            ""
        );
    }

    #[test]
    fn disk_sizes() {
        assert_eq!(normalise_disk_size(None).unwrap(), ("40960M".into(), 40960 << 20));
        assert_eq!(normalise_disk_size(Some("4096")).unwrap(), ("4096M".into(), 4096 << 20));
        assert_eq!(normalise_disk_size(Some("4G")).unwrap(), ("4G".into(), 4 << 30));
        assert!(normalise_disk_size(Some("4 gigs")).is_err());
    }
}
