//! The access options of Packer's amazon plugin (`region`, `profile`,
//! `access_key` / `secret_key` / `token`, `assume_role`,
//! `custom_endpoint_ec2`, `skip_credential_validation`), decoded the same
//! way by every AWS plugin, and the SDK configuration they make.
//!
//! What a template leaves out comes from where the AWS CLI finds it: the
//! `AWS_*` environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`,
//! `AWS_ENDPOINT_URL`, …), the shared config and credentials files, then
//! the instance's role. That is aws-config's default chain, which bake uses
//! as it is rather than reading those sources itself.

use bake_sdk::communicator::config::{decode_with_communicator_among, CommunicatorConfig, Support};
use bake_sdk::config::{decode_part, decode_split, decode_with_group, field_names, span_of};
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::Ui;
use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    /// Where EC2 is reached instead of its regional endpoint (Packer's
    /// option; `AWS_ENDPOINT_URL` sets it for every service).
    pub custom_endpoint_ec2: Option<String>,
    #[serde(default)]
    pub skip_credential_validation: bool,
    /// A block in Packer's templates; at most one.
    #[serde(default)]
    pub assume_role: Vec<AssumeRole>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
}

/// Decodes a plugin's body: the access options here, the rest into `T`,
/// every problem of both at its attribute.
pub fn decode_with_access<T: DeserializeOwned>(body: &EvalBody, what: &str) -> Result<(T, AccessConfig), Diagnostics> {
    decode_with_group(body, what, field_names::<AccessConfig>(), |ours| decode_access(ours, what))
}

/// Decodes a builder's body: the access options, the communicator's, and
/// the rest into `T`, every problem of the three at its attribute.
pub fn decode_with_access_and_communicator<T: DeserializeOwned>(
    body: &EvalBody,
    what: &str,
    support: &Support,
) -> Result<(T, AccessConfig, CommunicatorConfig), Diagnostics> {
    let access_keys = field_names::<AccessConfig>();
    let ((rest, comm), access) =
        decode_split(body, access_keys, |ours| decode_access(ours, what), |rest| decode_with_communicator_among::<T>(rest, what, support, access_keys))?;
    Ok((rest, access, comm))
}

fn decode_access(ours: &EvalBody, what: &str) -> Result<AccessConfig, Diagnostics> {
    let access: AccessConfig = decode_part(ours, what, &[])?;
    access.check(ours, what)?;
    Ok(access)
}

impl AccessConfig {
    fn check(&self, body: &EvalBody, what: &str) -> Result<(), Diagnostics> {
        let at = |key: &str| span_of(body, key);
        let mut diags = Diagnostics::new();
        match (&self.access_key, &self.secret_key) {
            (Some(_), None) | (None, Some(_)) => {
                let (set, unset) = if self.access_key.is_some() { ("access_key", "secret_key") } else { ("secret_key", "access_key") };
                diags.push(
                    Diagnostic::error("Incomplete static credentials", format!("{what} sets \"{set}\" but not \"{unset}\": static credentials need both."))
                        .at(at(set))
                        .with_help(format!("Set \"{unset}\" too, or leave both out to use the AWS_* environment, the profile or the instance's role.")),
                );
            }
            _ => {}
        }
        if self.token.is_some() && self.access_key.is_none() {
            diags.push(
                Diagnostic::error(
                    "Token without credentials",
                    format!("{what} sets \"token\" without \"access_key\" and \"secret_key\": a session token belongs to them."),
                )
                .at(at("token")),
            );
        }
        if self.assume_role.len() > 1 {
            diags.push(
                Diagnostic::error("More than one assume_role", format!("{what} may assume one role; it has {} assume_role blocks.", self.assume_role.len()))
                    .at(self.assume_role_span(body)),
            );
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(diags)
        }
    }

    fn assume_role_span(&self, body: &EvalBody) -> bake_sdk::lang::Span {
        body.blocks.iter().filter(|b| b.kind == "assume_role").nth(1).map_or(body.span, |b| b.span)
    }

    /// Makes the SDK configuration: the template's settings over aws-config's
    /// default chain, the role assumed, and, unless
    /// `skip_credential_validation`, the credentials checked with
    /// GetCallerIdentity so that a wrong key fails here, before anything is
    /// created. The secrets are masked in `ui` from now on.
    pub async fn connect(&self, ui: &Ui) -> anyhow::Result<Aws> {
        for secret in [&self.secret_key, &self.token].into_iter().flatten() {
            ui.add_secret(secret);
        }
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let (Some(key), Some(secret)) = (&self.access_key, &self.secret_key) {
            loader = loader.credentials_provider(aws_sdk_ec2::config::Credentials::new(key, secret, self.token.clone(), None, "template"));
        }
        let mut sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            anyhow::bail!("no AWS region: set \"region\" in the template, or AWS_REGION in the environment");
        };
        if let Some(role) = self.assume_role.first() {
            let mut provider =
                aws_config::sts::AssumeRoleProvider::builder(&role.role_arn).session_name(role.session_name.clone().unwrap_or_else(|| "bake".into()));
            if let Some(id) = &role.external_id {
                provider = provider.external_id(id);
            }
            if let Some(seconds) = role.duration_seconds {
                provider = provider.session_length(std::time::Duration::from_secs(seconds.into()));
            }
            let provider = provider.configure(&sdk).build().await;
            sdk = sdk.into_builder().credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(provider)).build();
        }
        let aws = Aws { sdk, region, ec2_endpoint: self.custom_endpoint_ec2.clone() };
        if !self.skip_credential_validation {
            aws.validate_credentials().await?;
        }
        Ok(aws)
    }
}

/// A connection through the AWS_* environment and the shared config files
/// alone, for work without a template (`bake cleanup`).
pub async fn from_environment(region: &str) -> Aws {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region.to_string())).load().await;
    Aws { sdk, region: region.to_string(), ec2_endpoint: None }
}

/// A connection to AWS in one region: the SDK configuration the clients are
/// made from.
#[derive(Clone, Debug)]
pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub region: String,
    ec2_endpoint: Option<String>,
}

impl Aws {
    /// The same connection in another region (for copies).
    pub fn in_region(&self, region: &str) -> Aws {
        let sdk = self.sdk.clone().into_builder().region(aws_config::Region::new(region.to_string())).build();
        Aws { sdk, region: region.to_string(), ec2_endpoint: self.ec2_endpoint.clone() }
    }

    /// An EC2 client, at `custom_endpoint_ec2` when the template sets it.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        let mut config = aws_sdk_ec2::config::Builder::from(&self.sdk);
        if let Some(url) = &self.ec2_endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_ec2::Client::from_conf(config.build())
    }

    async fn validate_credentials(&self) -> anyhow::Result<()> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        match sts.get_caller_identity().send().await {
            Ok(_) => Ok(()),
            Err(e) => anyhow::bail!(
                "the AWS credentials do not work: {} (check the access options or the AWS_* environment; skip_credential_validation = true skips this check)",
                crate::sdk_error(&e)
            ),
        }
    }
}
