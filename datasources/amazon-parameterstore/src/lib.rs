//! `data "amazon-parameterstore"` (Packer's): an SSM parameter, read as
//! `data.amazon-parameterstore.NAME.value` (with `version` and `arn`).
//! `with_decryption` decrypts a SecureString; its value is then masked in
//! bake's output as a sensitive variable's is.

use bake_aws::{decode_with_access, AccessConfig};
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::lang::Value;
use bake_sdk::{async_trait, CancellationToken, DataSource, Ui};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    name: String,
    #[serde(default)]
    with_decryption: bool,
}

pub struct ParameterStore {
    config: Config,
    access: AccessConfig,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn DataSource>, Diagnostics> {
    let (config, access): (Config, AccessConfig) = decode_with_access(body, what)?;
    if config.name.is_empty() {
        let at = body.attributes.get("name").map_or(body.span, |a| a.span);
        return Err(Diagnostic::error("Empty name", format!("The `name` of {what} must name a parameter, such as \"/images/web/latest\".")).at(at).into());
    }
    Ok(Box::new(ParameterStore { config, access }))
}

fn outputs(value: String, version: String, arn: String) -> Value {
    Value::Object(BTreeMap::from([
        ("value".to_string(), Value::from(value)),
        ("version".to_string(), Value::from(version)),
        ("arn".to_string(), Value::from(arn)),
    ]))
}

#[async_trait]
impl DataSource for ParameterStore {
    fn placeholder(&self) -> Value {
        outputs("<data.amazon-parameterstore.value>".into(), "<data.amazon-parameterstore.version>".into(), "<data.amazon-parameterstore.arn>".into())
    }

    async fn execute(&self, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Value> {
        let name = &self.config.name;
        let aws = bake_sdk::cancel::abandon_on(cancel, "connecting to AWS", self.access.connect(ui)).await??;
        let ssm = aws_sdk_ssm::Client::new(&aws.sdk);
        let request = ssm.get_parameter().name(name).with_decryption(self.config.with_decryption).send();
        let reply = bake_sdk::cancel::abandon_on(cancel, &format!("reading the SSM parameter {name}"), request)
            .await?
            .map_err(|e| anyhow::anyhow!("could not read the SSM parameter {name} in {}: {}", aws.region, bake_aws::sdk_error(&e)))?;
        let Some(parameter) = reply.parameter else {
            anyhow::bail!("the SSM parameter {name} in {} came back empty", aws.region);
        };
        let value = parameter.value.unwrap_or_default();
        if parameter.r#type == Some(aws_sdk_ssm::types::ParameterType::SecureString) {
            ui.add_secret(&value);
        }
        ui.message(format!("SSM parameter {name} (version {}) in {}", parameter.version, aws.region));
        Ok(outputs(value, parameter.version.to_string(), parameter.arn.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_sdk::testing::eval_body;

    fn error(src: &str) -> String {
        let (sources, body) = eval_body(src);
        prepare(&body, "data \"amazon-parameterstore.latest\"").err().map(|d| d.render(&sources)).unwrap_or_default()
    }

    #[test]
    fn options_are_checked_at_their_line() {
        let e = error("region = \"eu-west-1\"\n");
        assert!(e.contains("\"name\" is required"), "{e}");
        let e = error("name = \"/a\"\nwith_decrypton = true\n");
        assert!(e.contains("t.pkr.hcl:2:1") && e.contains("did you mean \"with_decryption\""), "{e}");
        let e = error("\nname = \"\"\n");
        assert!(e.contains("Empty name") && e.contains("t.pkr.hcl:2:8"), "{e}");
        assert_eq!(error("name = \"/images/web/latest\"\nwith_decryption = true\nprofile = \"ci\"\n"), "");
    }
}
