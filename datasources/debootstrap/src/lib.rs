//! `data "debootstrap"`: a bootable Debian base disk made from Debian
//! packages, for when no cloud image can (or should) be downloaded.
//!
//! ```hcl
//! data "debootstrap" "bookworm" {
//!   suite    = "bookworm"
//!   packages = ["curl"]
//! }
//!
//! source "qemu" "web" {
//!   disk_image = true
//!   iso_url    = data.debootstrap.bookworm.path
//!   efi_boot   = true
//!   ...
//! }
//! ```
//!
//! The disk boots on its own under UEFI (systemd-boot on an ESP inside the
//! disk; no `-kernel` flags) and carries cloud-init with the NoCloud data
//! source, so a builder logs in exactly as it would into a downloaded cloud
//! image: through a `cidata` seed. It is cached by its inputs.

mod recipe;

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::lang::Value;
use bake_sdk::{async_trait, CancellationToken, DataSource, Ui};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Debian release: `bookworm`, `trixie` …
    pub suite: String,
    /// The mirror; by default the first one in the machine's apt sources.
    pub mirror: Option<String>,
    /// Packages beyond the base set (kernel, systemd, openssh-server,
    /// cloud-init, systemd-boot).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Size of the root file system; the builder's `disk_size` can grow the
    /// disk and cloud-init grows the partition at first boot.
    #[serde(default = "default_root_size")]
    pub root_size: String,
    /// Where built images are kept; by default `bake_sdk::cache::dir("images")`
    /// (`$XDG_CACHE_HOME/bake/images`).
    pub cache_dir: Option<String>,
}

fn default_root_size() -> String {
    "3G".into()
}

/// The packages every image gets: enough to boot under UEFI, take a
/// cloud-init seed and answer SSH.
pub const BASE_PACKAGES: &[&str] = &[
    "linux-image-amd64",
    "systemd-sysv",
    // The system bus: systemctl as a user, logind (which turns an ACPI
    // power-button press into a clean shutdown) and `systemctl reboot` need it.
    "dbus",
    "libpam-systemd",
    "udev",
    "openssh-server",
    "cloud-init",
    "cloud-guest-utils",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "sudo",
    "systemd-boot-efi",
    "ca-certificates",
    "netbase",
];

pub struct Debootstrap {
    config: Config,
    root_bytes: u64,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn DataSource>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let at = |k: &str| body.attributes.get(k).map_or(body.span, |a| a.span);
    let root_bytes = parse_size(&config.root_size).ok_or_else(|| {
        Diagnostics::from(
            Diagnostic::error("Invalid root_size", format!("\"{}\" is not a size; write e.g. \"3G\" or \"2048M\".", config.root_size)).at(at("root_size")),
        )
    })?;
    if root_bytes < 1 << 30 {
        return Err(Diagnostic::error("root_size too small", "The root file system needs at least 1G for a kernel, systemd and cloud-init.")
            .at(at("root_size"))
            .into());
    }
    if config.suite.is_empty() || !config.suite.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Diagnostic::error("Invalid suite", format!("\"{}\" is not a Debian suite name such as \"bookworm\".", config.suite))
            .at(at("suite"))
            .into());
    }
    for p in &config.packages {
        if p.is_empty() || p.contains(char::is_whitespace) || p.contains(',') {
            return Err(Diagnostic::error("Invalid package name", format!("\"{p}\" is not a package name.")).at(at("packages")).into());
        }
    }
    Ok(Box::new(Debootstrap { config, root_bytes }))
}

/// `"3G"`, `"512M"`, `"1T"`, or bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Debootstrap {
    fn outputs(&self, path: String, key: String) -> Value {
        let fw = bake_qemu_machine::firmware::ovmf();
        Value::Object(BTreeMap::from([
            ("path".to_string(), Value::from(path)),
            ("format".to_string(), Value::from("qcow2")),
            ("efi_boot".to_string(), Value::Bool(true)),
            ("efi_firmware_code".to_string(), Value::from(fw.code.display().to_string())),
            ("efi_firmware_vars".to_string(), Value::from(fw.vars.display().to_string())),
            ("cache_key".to_string(), Value::from(key)),
        ]))
    }

    fn cache_dir(&self) -> PathBuf {
        if let Some(d) = &self.config.cache_dir {
            return PathBuf::from(d);
        }
        bake_sdk::cache::dir("images")
    }
}

#[async_trait]
impl DataSource for Debootstrap {
    fn placeholder(&self) -> Value {
        self.outputs("<data.debootstrap.path>".into(), "<data.debootstrap.cache_key>".into())
    }

    async fn execute(&self, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Value> {
        let mirror = match &self.config.mirror {
            Some(m) => m.clone(),
            None => recipe::host_mirror()?,
        };
        let inputs = recipe::Inputs { suite: self.config.suite.clone(), mirror, packages: self.config.packages.clone(), root_bytes: self.root_bytes };
        let path = recipe::build_cached(&inputs, &self.cache_dir(), ui, cancel).await?;
        Ok(self.outputs(path.display().to_string(), inputs.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("3G"), Some(3 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("3 gigs"), None);
    }
}
