//! The amazon-ebs options, as Packer's amazon plugin names and means them,
//! decoded and checked with no call to AWS, so that `bake validate` finds
//! every mistake at its line.

use bake_aws::images::ImageFilter;
use bake_aws::wait::{AwsPolling, Polling};
use bake_aws::AccessConfig;
use bake_sdk::communicator::config::{CommunicatorConfig, Kind, Support};
use bake_sdk::config::span_of;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// SSH only (bake has no WinRM yet); the machine's address comes from
/// EC2, and its key from a key pair made for the build.
pub const SUPPORT: Support =
    Support { kinds: &[Kind::None, Kind::Ssh], default: Kind::Ssh, host_from_builder: true, generates_key: true, cloud_key_pairs: true };

/// The address SSH uses, Packer's `ssh_interface`.
pub const SSH_INTERFACES: &[&str] = &["public_ip", "private_ip", "public_dns", "private_dns"];

/// The placeholders the tag options may use, filled once the source AMI is
/// known.
pub const TAG_PLACEHOLDERS: &[&str] = &["BuildRegion", "SourceAMI", "SourceAMIName", "SourceAMIOwner", "SourceAMIOwnerName", "SourceAMICreationDate"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ami_name: String,
    #[serde(default)]
    pub ami_description: String,
    pub source_ami: Option<String>,
    #[serde(default)]
    pub source_ami_filter: Vec<ImageFilter>,
    pub instance_type: Option<String>,
    pub spot_price: Option<String>,
    #[serde(default)]
    pub spot_instance_types: Vec<String>,
    #[serde(default)]
    pub spot_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub enable_unlimited_credits: bool,
    pub availability_zone: Option<String>,

    pub subnet_id: Option<String>,
    #[serde(default)]
    pub subnet_filter: Vec<SubnetFilter>,
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub vpc_filter: Vec<NetworkFilter>,
    pub security_group_id: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub security_group_filter: Vec<NetworkFilter>,
    #[serde(default)]
    pub temporary_security_group_source_cidrs: Vec<String>,
    #[serde(default)]
    pub temporary_security_group_source_public_ip: bool,
    pub associate_public_ip_address: Option<bool>,
    pub ssh_interface: Option<String>,

    pub user_data: Option<String>,
    pub user_data_file: Option<String>,
    pub iam_instance_profile: Option<String>,
    #[serde(default)]
    pub launch_block_device_mappings: Vec<BlockDevice>,
    #[serde(default)]
    pub ami_block_device_mappings: Vec<BlockDevice>,
    pub shutdown_behavior: Option<String>,
    #[serde(default)]
    pub disable_stop_instance: bool,
    #[serde(default)]
    pub ebs_optimized: bool,
    pub ena_support: Option<bool>,
    pub sriov_support: Option<bool>,
    pub imds_support: Option<String>,
    #[serde(default)]
    pub metadata_options: Vec<MetadataOptions>,

    #[serde(default)]
    pub ami_regions: Vec<String>,
    #[serde(default)]
    pub region_kms_key_ids: BTreeMap<String, String>,
    pub encrypt_boot: Option<bool>,
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub ami_users: Vec<String>,
    #[serde(default)]
    pub ami_groups: Vec<String>,
    #[serde(default)]
    pub ami_org_arns: Vec<String>,
    #[serde(default)]
    pub ami_ou_arns: Vec<String>,
    #[serde(default)]
    pub snapshot_users: Vec<String>,
    #[serde(default)]
    pub snapshot_groups: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub run_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub run_volume_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub snapshot_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub force_deregister: bool,
    #[serde(default)]
    pub force_delete_snapshot: bool,
    #[serde(default)]
    pub skip_create_ami: bool,
    #[serde(default)]
    pub skip_region_validation: bool,
    pub deprecate_at: Option<String>,
    #[serde(default)]
    pub aws_polling: Vec<AwsPolling>,
    /// Beyond Packer: an SSM parameter written in every region with the new
    /// AMI's id (`/images/web/latest`), for `resolve:ssm:` launch templates.
    pub ssm_parameter: Option<String>,
}

/// `vpc_filter`, `security_group_filter`: DescribeVpcs / DescribeSecurityGroups filters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFilter {
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
}

/// `subnet_filter`: the subnet with the most free addresses when
/// `most_free`, a random one when `random`, else the only match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetFilter {
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    #[serde(default)]
    pub most_free: bool,
    #[serde(default)]
    pub random: bool,
}

/// One of `launch_block_device_mappings` / `ami_block_device_mappings`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockDevice {
    pub device_name: String,
    pub volume_size: Option<i32>,
    pub volume_type: Option<String>,
    pub iops: Option<i32>,
    pub throughput: Option<i32>,
    #[serde(default)]
    pub delete_on_termination: bool,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub virtual_name: Option<String>,
    #[serde(default)]
    pub no_device: bool,
}

/// `metadata_options`: the instance metadata service of the build instance.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataOptions {
    pub http_endpoint: Option<String>,
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<i32>,
    pub instance_metadata_tags: Option<String>,
}

/// The checked configuration the steps run from.
pub struct Prepared {
    pub config: Config,
    pub access: AccessConfig,
    pub comm: CommunicatorConfig,
    pub polling: Polling,
    /// `user_data`, or the text of `user_data_file`, read at run time.
    pub user_data_file: Option<PathBuf>,
    /// Where SSH may come from when the template opens a temporary group.
    pub source_cidrs: Vec<String>,
}

impl Prepared {
    pub fn filter(&self) -> Option<&ImageFilter> {
        self.config.source_ami_filter.first()
    }

    /// Every region the AMI ends up in: the build's first, then the copies.
    pub fn copy_regions(&self, build_region: &str) -> Vec<String> {
        let mut regions: Vec<String> = self.config.ami_regions.iter().filter(|r| r.as_str() != build_region).cloned().collect();
        regions.sort();
        regions.dedup();
        regions
    }

    /// The instance types to try, in order.
    pub fn instance_types(&self) -> Vec<String> {
        match &self.config.instance_type {
            Some(t) => vec![t.clone()],
            None => self.config.spot_instance_types.clone(),
        }
    }
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Prepared, Diagnostics> {
    let (config, access, comm): (Config, AccessConfig, CommunicatorConfig) = bake_aws::access::decode_with_access_and_communicator(body, what, &SUPPORT)?;
    let mut diags = Diagnostics::new();
    let filter_problems = match config.source_ami_filter.as_slice() {
        [filter] => filter.check(span_of(body, "source_ami_filter"), what).err(),
        _ => None,
    };
    let mut err = |key: &str, summary: &str, detail: String, help: Option<&str>| {
        let mut d = Diagnostic::error(summary, detail).at(span_of(body, key));
        d.help = help.map(str::to_string);
        diags.push(d);
    };
    let c = &config;

    match (&c.source_ami, c.source_ami_filter.as_slice()) {
        (None, []) => err(
            "source_ami",
            "Missing source AMI",
            format!("{what} needs \"source_ami\" or a \"source_ami_filter\" block."),
            Some("set source_ami = \"ami-…\", or source_ami_filter { filters = { name = \"debian-12-amd64-*\" } owners = [\"136693071363\"] most_recent = true }"),
        ),
        (Some(_), [_, ..]) => err("source_ami_filter", "Conflicting source AMI", format!("{what} sets both \"source_ami\" and \"source_ami_filter\"; keep one."), None),
        (None, [_]) => {}
        (None, [_, _, ..]) => err("source_ami_filter", "More than one source_ami_filter", format!("{what} may have one source_ami_filter block."), None),
        (Some(_), []) => {}
    }
    for (key, count) in [("aws_polling", c.aws_polling.len()), ("metadata_options", c.metadata_options.len()), ("subnet_filter", c.subnet_filter.len())] {
        if count > 1 {
            err(key, &format!("More than one {key}"), format!("{what} may have one {key} block; it has {count}."), None);
        }
    }

    let name_ok = |ch: char| ch.is_ascii_alphanumeric() || "()[] ./-'@_".contains(ch);
    if c.ami_name.len() < 3 || c.ami_name.len() > 128 {
        err("ami_name", "Invalid ami_name", format!("ami_name must be 3 to 128 characters long; \"{}\" has {}.", c.ami_name, c.ami_name.len()), None);
    } else if let Some(bad) = c.ami_name.chars().find(|ch| !name_ok(*ch)) {
        err(
            "ami_name",
            "Invalid ami_name",
            format!("ami_name \"{}\" has the character '{bad}', which AMI names cannot hold.", c.ami_name),
            Some("AMI names take letters, digits, spaces and ( ) [ ] . / - ' @ _; clean_resource_name(…) makes any text fit"),
        );
    }

    match (&c.instance_type, c.spot_instance_types.is_empty()) {
        (None, true) => err("instance_type", "Missing instance_type", format!("{what} needs \"instance_type\" (for example \"t3.micro\")."), None),
        (Some(_), false) => err(
            "spot_instance_types",
            "Conflicting instance types",
            format!("{what} sets both \"instance_type\" and \"spot_instance_types\"; a build runs on one or the other."),
            Some("keep instance_type for one type, or spot_instance_types (with spot_price) for a list to choose from"),
        ),
        _ => {}
    }
    if !c.spot_instance_types.is_empty() && c.spot_price.is_none() {
        err(
            "spot_instance_types",
            "Spot types without a spot price",
            format!("{what} sets spot_instance_types but not spot_price."),
            Some("set spot_price = \"auto\" (up to the on-demand price) or a maximum price per hour"),
        )
    }
    if let Some(price) = &c.spot_price {
        if c.enable_unlimited_credits {
            err(
                "spot_price",
                "Spot price with unlimited credits",
                format!("{what} sets spot_price and enable_unlimited_credits = true, but unlimited credits cannot be used with Spot Instances."),
                Some("remove enable_unlimited_credits, or remove spot_price to build on an on-demand instance"),
            );
        }
        if price != "auto" && price.parse::<f64>().map_or(true, |p| p <= 0.0) {
            err("spot_price", "Invalid spot_price", format!("spot_price must be \"auto\" or a price per hour such as \"0.05\", not \"{price}\"."), None);
        }
    } else if !c.spot_tags.is_empty() {
        err("spot_tags", "Spot tags without a spot price", format!("{what} sets spot_tags but not spot_price, so no spot request is made."), None);
    }

    if let Some(interface) = &c.ssh_interface {
        if !SSH_INTERFACES.contains(&interface.as_str()) {
            let suggestion = bake_sdk::lang::diag::suggest(interface, SSH_INTERFACES.iter().copied());
            let help = suggestion.map(|s| format!("did you mean \"{s}\"?"));
            err(
                "ssh_interface",
                "Invalid ssh_interface",
                format!("ssh_interface must be one of {}, not \"{interface}\".", SSH_INTERFACES.join(", ")),
                help.as_deref(),
            );
        }
    }
    if let Some(b) = &c.shutdown_behavior {
        if b != "stop" && b != "terminate" {
            err("shutdown_behavior", "Invalid shutdown_behavior", format!("shutdown_behavior must be \"stop\" or \"terminate\", not \"{b}\"."), None);
        }
    }
    if let Some(v) = &c.imds_support {
        if !v.is_empty() && v != "v2.0" {
            err("imds_support", "Invalid imds_support", format!("imds_support must be \"v2.0\" (or left out), not \"{v}\"."), None);
        }
    }
    if let Some(t) = c.metadata_options.first().and_then(|m| m.http_tokens.as_deref()) {
        if t != "optional" && t != "required" {
            err("metadata_options", "Invalid http_tokens", format!("metadata_options.http_tokens must be \"optional\" or \"required\", not \"{t}\"."), None);
        }
    }
    let mut user_data_file = None;
    match (&c.user_data, &c.user_data_file) {
        (Some(_), Some(_)) => err("user_data_file", "Conflicting user data", format!("{what} sets both \"user_data\" and \"user_data_file\"; keep one."), None),
        (None, Some(f)) => {
            let path = PathBuf::from(f);
            if !path.is_file() {
                err("user_data_file", "File not found", format!("user_data_file \"{f}\" does not exist or is not a file."), None);
            }
            user_data_file = Some(path);
        }
        _ => {}
    }
    if c.kms_key_id.is_some() && c.encrypt_boot != Some(true) {
        err(
            "kms_key_id",
            "kms_key_id without encrypt_boot",
            format!("{what} sets kms_key_id, which is for encrypting the AMI: set encrypt_boot = true too."),
            None,
        );
    }
    for region in c.region_kms_key_ids.keys() {
        if !c.ami_regions.contains(region) {
            err(
                "region_kms_key_ids",
                "Key for a region the AMI is not copied to",
                format!("region_kms_key_ids names {region}, which is not in ami_regions."),
                None,
            );
        }
    }
    if let Some(at) = &c.deprecate_at {
        if aws_sdk_ec2::primitives::DateTime::from_str(at, aws_sdk_ec2::primitives::DateTimeFormat::DateTime).is_err() {
            err("deprecate_at", "Invalid deprecate_at", format!("deprecate_at must be an RFC 3339 time such as \"2027-01-01T00:00:00Z\", not \"{at}\"."), None);
        }
    }
    for cidr in &c.temporary_security_group_source_cidrs {
        if !valid_cidr(cidr) {
            err("temporary_security_group_source_cidrs", "Invalid CIDR", format!("\"{cidr}\" is not an IPv4 CIDR block such as \"203.0.113.0/24\"."), None);
        }
    }
    let has_groups = c.security_group_id.is_some() || !c.security_group_ids.is_empty() || !c.security_group_filter.is_empty();
    if has_groups && (!c.temporary_security_group_source_cidrs.is_empty() || c.temporary_security_group_source_public_ip) {
        err(
            "temporary_security_group_source_cidrs",
            "Temporary group options with existing groups",
            format!("{what} names its security groups, so no temporary group is made and its source options would do nothing."),
            Some("remove the temporary_security_group_* options, or the security group options"),
        );
    }
    for (key, map) in [
        ("tags", &c.tags),
        ("run_tags", &c.run_tags),
        ("run_volume_tags", &c.run_volume_tags),
        ("snapshot_tags", &c.snapshot_tags),
        ("spot_tags", &c.spot_tags),
    ] {
        let values: BTreeMap<&str, String> = TAG_PLACEHOLDERS.iter().map(|k| (*k, String::new())).collect();
        for (k, v) in map {
            for text in [k, v] {
                if let Err(e) = bake_sdk::placeholders::render(text, &values) {
                    err(key, "Invalid placeholder", format!("{key} \"{k}\": {e}"), None);
                }
            }
        }
    }
    diags.extend(filter_problems.unwrap_or_default());
    if diags.has_errors() {
        return Err(diags);
    }
    let source_cidrs =
        if c.temporary_security_group_source_cidrs.is_empty() { vec!["0.0.0.0/0".to_string()] } else { c.temporary_security_group_source_cidrs.clone() };
    let polling = Polling::new(config.aws_polling.first());
    Ok(Prepared { config, access, comm, polling, user_data_file, source_cidrs })
}

fn valid_cidr(cidr: &str) -> bool {
    let Some((ip, bits)) = cidr.split_once('/') else { return false };
    ip.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_sdk::testing::eval_body;

    const BASE: &str = "ami_name = \"web-1\"\ninstance_type = \"t3.micro\"\nsource_ami = \"ami-123\"\nssh_username = \"admin\"\n";

    fn error(extra: &str) -> String {
        let (sources, body) = eval_body(&format!("{BASE}{extra}"));
        prepare(&body, "source \"amazon-ebs.web\"").err().map(|d| d.render(&sources)).unwrap_or_default()
    }

    #[test]
    fn a_plain_template_passes_and_opens_ssh_to_the_world_by_default() {
        let (_, body) = eval_body(BASE);
        let p = prepare(&body, "source \"amazon-ebs.web\"").unwrap();
        assert_eq!(p.source_cidrs, ["0.0.0.0/0"]);
        assert_eq!(p.comm.key_pair.temporary_type, "rsa");
        assert_eq!(p.instance_types(), ["t3.micro"]);
    }

    #[test]
    fn each_mistake_at_its_line() {
        let e = error("ssh_interface = \"public_ipp\"\n");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("Invalid ssh_interface") && e.contains("did you mean \"public_ip\""), "{e}");
        let e = error("spot_price = \"0.05\"\nenable_unlimited_credits = true\n");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("unlimited credits cannot be used with Spot Instances"), "{e}");
        let e = error("spot_instance_types = [\"t3.micro\", \"t3a.micro\"]\nspot_price = \"auto\"\n");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("both \"instance_type\" and \"spot_instance_types\""), "{e}");
        let e = error("ami_regions = [\"eu-west-1\"]\nregion_kms_key_ids = { \"us-west-2\" = \"alias/k\" }\n");
        assert!(e.contains("t.pkr.hcl:6:") && e.contains("us-west-2, which is not in ami_regions"), "{e}");
        let e = error("tags = { Base = \"{{ .SourceAmi }}\" }\n");
        assert!(e.contains("t.pkr.hcl:5:") && e.contains("{{ .SourceAMI }}"), "{e}");
        let e = error("temporary_security_group_source_cidrs = [\"10.0.0.0/33\"]\n");
        assert!(e.contains("\"10.0.0.0/33\" is not an IPv4 CIDR"), "{e}");
        let e = error("deprecate_at = \"next year\"\n");
        assert!(e.contains("Invalid deprecate_at"), "{e}");
        let e = error("ami_nmae = \"x\"\n");
        assert!(e.contains("did you mean \"ami_name\""), "{e}");
        let e = error("regoin = \"us-east-1\"\n");
        assert!(e.contains("did you mean \"region\""), "an access key is suggested too: {e}");
    }

    #[test]
    fn a_filter_needs_owners() {
        let (sources, body) = eval_body(
            "ami_name = \"web-1\"\ninstance_type = \"t3.micro\"\nssh_username = \"admin\"\nsource_ami_filter {\n  filters = { name = \"debian-*\" }\n}\n",
        );
        let e = prepare(&body, "source \"amazon-ebs.web\"").err().unwrap().render(&sources);
        assert!(e.contains("Missing owners") && e.contains("t.pkr.hcl:4:"), "{e}");
    }
}
