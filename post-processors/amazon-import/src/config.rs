//! The amazon-import options: Packer's names where Packer has the option
//! (`ami_name`, `ami_description`, `ami_users`, `ami_groups`, `tags`,
//! `boot_mode`, `format`, the access options, and its S3 route's
//! `s3_bucket_name`, `s3_key_name`, `s3_encryption`, `s3_encryption_key`,
//! `skip_clean`, `role_name`, `license_type`, `platform`), and bake's own
//! for what its EBS direct route adds (`ami_regions` uploaded in parallel,
//! `encrypt_boot` / `kms_key_id` / `region_kms_key_ids` passed to
//! StartSnapshot, `parent_snapshot`, `ssm_parameter`, `upload_concurrency`).
//! An option of one route set on the other is an error at its line.

use bake_aws::wait::{AwsPolling, Polling};
use bake_aws::AccessConfig;
use bake_sdk::config::span_of;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const BOOT_MODES: &[&str] = &["uefi", "legacy-bios", "uefi-preferred"];
pub const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];
const S3_ENCRYPTIONS: &[&str] = &["AES256", "aws:kms"];
const LICENSE_TYPES: &[&str] = &["AWS", "BYOL"];
const PLATFORMS: &[&str] = &["linux", "windows"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ami_name: Option<String>,
    #[serde(default)]
    pub ami_description: String,
    #[serde(default)]
    pub ami_users: Vec<String>,
    #[serde(default)]
    pub ami_groups: Vec<String>,
    #[serde(default)]
    pub ami_regions: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub boot_mode: Option<String>,
    pub architecture: Option<String>,
    pub format: Option<String>,
    pub encrypt_boot: Option<bool>,
    pub kms_key_id: Option<String>,
    /// Packer's amazon-import names of `encrypt_boot` and `kms_key_id`.
    pub ami_encrypt: Option<bool>,
    pub ami_kms_key: Option<String>,
    #[serde(default)]
    pub ami_org_arns: Vec<String>,
    #[serde(default)]
    pub ami_ou_arns: Vec<String>,
    pub imds_support: Option<String>,
    #[serde(default)]
    pub region_kms_key_ids: BTreeMap<String, String>,
    /// `snap-…`, or `auto`: the newest snapshot bake imported for the same
    /// family (`ami_name` without its trailing stamp).
    pub parent_snapshot: Option<String>,
    pub ssm_parameter: Option<String>,
    #[serde(default)]
    pub force_deregister: bool,
    #[serde(default)]
    pub force_delete_snapshot: bool,
    pub upload_concurrency: Option<usize>,
    #[serde(default)]
    pub aws_polling: Vec<AwsPolling>,

    // Packer's route through S3 and ImportImage.
    pub s3_bucket_name: Option<String>,
    pub s3_key_name: Option<String>,
    pub s3_encryption: Option<String>,
    pub s3_encryption_key: Option<String>,
    #[serde(default)]
    pub skip_clean: bool,
    pub role_name: Option<String>,
    pub license_type: Option<String>,
    pub platform: Option<String>,
}

/// Packer's route: the disk through an S3 object and VM Import.
#[derive(Clone, Debug)]
pub struct S3Route {
    pub bucket: String,
    /// `s3_key_name`, its `{{timestamp}}` filled in at upload.
    pub key: String,
    pub encryption: crate::s3::Encryption,
    pub skip_clean: bool,
}

pub struct Prepared {
    pub config: Config,
    /// `Some` when `s3_bucket_name` is set.
    pub s3: Option<S3Route>,
    pub access: AccessConfig,
    pub polling: Polling,
    pub ami_name: String,
    /// Where `parent_snapshot = "auto"` looks: imported snapshots tagged
    /// with this family.
    pub family: String,
    pub concurrency: usize,
}

impl Prepared {
    /// The KMS key a region's snapshot is encrypted with: its own from
    /// `region_kms_key_ids`, else `kms_key_id` in the build region (other
    /// regions then use their default key).
    pub fn kms_key_for(&self, region: &str, build_region: &str) -> Option<String> {
        let c = &self.config;
        c.region_kms_key_ids.get(region).cloned().or_else(|| c.kms_key_id.clone().filter(|_| region == build_region))
    }
}

/// `web-20261204013000` → `web`: the name without its trailing stamp.
pub fn family(ami_name: &str) -> String {
    let stamp = |token: &str| !token.is_empty() && token.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ':');
    let mut name = ami_name;
    while let Some(cut) = name.rfind(['-', '_', ' ']) {
        if !stamp(&name[cut + 1..]) {
            break;
        }
        name = &name[..cut];
    }
    if name.is_empty() || stamp(name) {
        ami_name.to_string()
    } else {
        name.to_string()
    }
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Prepared, Diagnostics> {
    let (mut config, access): (Config, AccessConfig) = bake_aws::decode_with_access(body, what)?;
    let mut diags = Diagnostics::new();
    // Packer's amazon-import spells two options its own way: either
    // spelling works, one at a time.
    let twice = [
        ("ami_encrypt", "encrypt_boot", config.ami_encrypt.is_some() && config.encrypt_boot.is_some()),
        ("ami_kms_key", "kms_key_id", config.ami_kms_key.is_some() && config.kms_key_id.is_some()),
    ];
    for (packer, ours, _) in twice.iter().filter(|(_, _, both)| *both) {
        diags.push(
            Diagnostic::error("One option, twice", format!("{what} sets both \"{packer}\" (Packer's name) and \"{ours}\", which are the same option."))
                .at(span_of(body, packer))
                .with_help("keep one of them"),
        );
    }
    config.encrypt_boot = config.encrypt_boot.or(config.ami_encrypt);
    config.kms_key_id = config.kms_key_id.take().or_else(|| config.ami_kms_key.clone());
    let mut err = |key: &str, summary: &str, detail: String, help: Option<&str>| {
        let mut d = Diagnostic::error(summary, detail).at(span_of(body, key));
        d.help = help.map(str::to_string);
        diags.push(d);
    };
    let c = &config;
    // Each route's own options: set on the other route, an option would
    // silently do nothing.
    let s3_only = [
        ("s3_key_name", c.s3_key_name.is_some()),
        ("s3_encryption", c.s3_encryption.is_some()),
        ("s3_encryption_key", c.s3_encryption_key.is_some()),
        ("skip_clean", c.skip_clean),
        ("role_name", c.role_name.is_some()),
        ("license_type", c.license_type.is_some()),
        ("platform", c.platform.is_some()),
    ];
    let ebs_only = [("parent_snapshot", c.parent_snapshot.is_some()), ("upload_concurrency", c.upload_concurrency.is_some())];
    if c.s3_bucket_name.is_none() {
        for (key, _) in s3_only.iter().filter(|(_, set)| *set) {
            err(
                key,
                "Option of the S3 route",
                format!("\"{key}\" (in {what}) is for importing through S3 and ImportImage, which only s3_bucket_name turns on; without it the disk goes straight into an EBS snapshot."),
                Some("set s3_bucket_name to import through S3 as Packer does, or remove this option"),
            );
        }
    } else {
        for (key, _) in ebs_only.iter().filter(|(_, set)| *set) {
            err(
                key,
                "Option of the EBS direct route",
                format!("\"{key}\" (in {what}) is for uploads through the EBS direct APIs, and s3_bucket_name imports through S3 and ImportImage instead."),
                Some("remove s3_bucket_name to upload straight into an EBS snapshot (faster: only blocks with data are sent), or remove this option"),
            );
        }
        if c.boot_mode.as_deref() == Some("uefi-preferred") {
            err("boot_mode", "Invalid boot_mode", "ImportImage takes boot_mode \"uefi\" or \"legacy-bios\", not \"uefi-preferred\".".into(), None);
        }
    }
    if let Some(v) = c.imds_support.as_ref().filter(|v| *v != "v2.0") {
        err("imds_support", "Invalid imds_support", format!("imds_support must be \"v2.0\" (or left out), not \"{v}\"."), None);
    }
    for (key, value, allowed) in
        [("s3_encryption", &c.s3_encryption, S3_ENCRYPTIONS), ("license_type", &c.license_type, LICENSE_TYPES), ("platform", &c.platform, PLATFORMS)]
    {
        if let Some(v) = value.as_ref().filter(|v| !allowed.contains(&v.as_str())) {
            err(key, &format!("Invalid {key}"), format!("{key} must be one of {}, not \"{v}\".", allowed.join(", ")), None);
        }
    }
    for (key, value, allowed) in [("boot_mode", &c.boot_mode, BOOT_MODES), ("architecture", &c.architecture, ARCHITECTURES)] {
        if let Some(v) = value.as_ref().filter(|v| !allowed.contains(&v.as_str())) {
            err(key, &format!("Invalid {key}"), format!("{key} must be one of {}, not \"{v}\".", allowed.join(", ")), None);
        }
    }
    if let Some(f) = &c.format {
        if f != "raw" && f != "qcow2" {
            err(
                "format",
                "Format not supported",
                format!("bake imports raw and qcow2 disks, not \"{f}\"."),
                Some("convert it first: qemu-img convert -O qcow2 disk.vmdk disk.qcow2"),
            );
        }
    }
    if c.kms_key_id.is_some() && c.encrypt_boot != Some(true) {
        err(
            "kms_key_id",
            "kms_key_id without encrypt_boot",
            format!("{what} sets kms_key_id, which is for encrypting the snapshot: set encrypt_boot = true too."),
            None,
        );
    }
    for region in c.region_kms_key_ids.keys() {
        if !c.ami_regions.contains(region) {
            err(
                "region_kms_key_ids",
                "Key for a region the AMI is not made in",
                format!("region_kms_key_ids names {region}, which is not in ami_regions."),
                None,
            );
        }
    }
    if let Some(p) = &c.parent_snapshot {
        if p != "auto" && !p.starts_with("snap-") {
            err("parent_snapshot", "Invalid parent_snapshot", format!("parent_snapshot must be a snapshot id (snap-…) or \"auto\", not \"{p}\"."), None);
        }
    }
    if c.upload_concurrency == Some(0) {
        err("upload_concurrency", "Invalid upload_concurrency", "upload_concurrency must be at least 1.".into(), None);
    }
    if c.aws_polling.len() > 1 {
        err("aws_polling", "More than one aws_polling", format!("{what} may have one aws_polling block."), None);
    }
    if diags.has_errors() {
        return Err(diags);
    }
    // Packer's default name, with the time filled in.
    let ami_name = config.ami_name.clone().unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        format!("packer-import-{now}")
    });
    let polling = Polling::new(config.aws_polling.first());
    let concurrency = config.upload_concurrency.unwrap_or(64);
    let s3 = config.s3_bucket_name.clone().map(|bucket| S3Route {
        bucket,
        // Packer's default key.
        key: config.s3_key_name.clone().unwrap_or_else(|| "packer-import-{{timestamp}}.raw".into()),
        encryption: crate::s3::Encryption { algorithm: config.s3_encryption.clone(), kms_key: config.s3_encryption_key.clone() },
        skip_clean: config.skip_clean,
    });
    Ok(Prepared { family: family(&ami_name), ami_name, s3, config, access, polling, concurrency })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_sdk::testing::eval_body;

    fn error(src: &str) -> String {
        let (sources, body) = eval_body(src);
        prepare(&body, "post-processor \"amazon-import\"").err().map(|d| d.render(&sources)).unwrap_or_default()
    }

    #[test]
    fn options_are_checked_at_their_line() {
        assert_eq!(error("ami_name = \"web-1\"\nboot_mode = \"uefi\"\n"), "");
        let e = error("ami_name = \"web-1\"\nboot_mode = \"efi\"\n");
        assert!(e.contains("t.pkr.hcl:2:") && e.contains("boot_mode must be one of uefi, legacy-bios, uefi-preferred"), "{e}");
        assert_eq!(error("s3_bucket_name = \"images\"\nskip_clean = true\nplatform = \"linux\"\n"), "");
        let e = error("skip_clean = true\n");
        assert!(e.contains("t.pkr.hcl:1:") && e.contains("set s3_bucket_name"), "{e}");
        let e = error("s3_bucket_name = \"images\"\nparent_snapshot = \"auto\"\n");
        assert!(e.contains("t.pkr.hcl:2:") && e.contains("EBS direct APIs"), "{e}");
        let e = error("s3_bucket_name = \"images\"\ns3_encryption = \"aes\"\n");
        assert!(e.contains("t.pkr.hcl:2:") && e.contains("AES256, aws:kms"), "{e}");
        let e = error("format = \"vmdk\"\n");
        assert!(e.contains("qemu-img convert"), "{e}");
        let e = error("parent_snapshot = \"ami-1\"\n");
        assert!(e.contains("snap-…") && e.contains("\"auto\""), "{e}");
        let e = error("ami_encrypt = true\nencrypt_boot = true\n");
        assert!(e.contains("t.pkr.hcl:1:") && e.contains("the same option"), "{e}");
        assert_eq!(error("ami_encrypt = true\nami_kms_key = \"alias/images\"\n"), "", "Packer's spelling");
        let e = error("regoin = \"us-east-1\"\n");
        assert!(e.contains("did you mean \"region\""), "{e}");
    }

    #[test]
    fn the_family_is_the_name_without_its_stamp() {
        assert_eq!(family("web-20261204013000"), "web");
        assert_eq!(family("debian-12-amd64-2026.12.04"), "debian-12-amd64");
        assert_eq!(family("2026"), "2026");
    }
}
