//! `data "amazon-ami"` (Packer's): the AMI that `filters` and `owners`
//! select (the newest with `most_recent`), read as
//! `data.amazon-ami.NAME.id`, which current Packer documentation prefers to
//! the builder's `source_ami_filter`. Outputs: `id`, `name`,
//! `creation_date`, `owner`, `owner_name`, `tags`.

use bake_aws::images::ImageFilter;
use bake_aws::{decode_with_access, AccessConfig};
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::lang::Value;
use bake_sdk::{async_trait, CancellationToken, DataSource, Ui};
use std::collections::BTreeMap;

pub struct AmazonAmi {
    filter: ImageFilter,
    access: AccessConfig,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn DataSource>, Diagnostics> {
    let (filter, access): (ImageFilter, AccessConfig) = decode_with_access(body, what)?;
    filter.check(body.span, what)?;
    Ok(Box::new(AmazonAmi { filter, access }))
}

fn outputs(id: String, name: String, creation_date: String, owner: String, owner_name: String, tags: BTreeMap<String, Value>) -> Value {
    Value::Object(BTreeMap::from([
        ("id".to_string(), Value::from(id)),
        ("name".to_string(), Value::from(name)),
        ("creation_date".to_string(), Value::from(creation_date)),
        ("owner".to_string(), Value::from(owner)),
        ("owner_name".to_string(), Value::from(owner_name)),
        ("tags".to_string(), Value::Object(tags)),
    ]))
}

#[async_trait]
impl DataSource for AmazonAmi {
    fn placeholder(&self) -> Value {
        let p = |key: &str| format!("<data.amazon-ami.{key}>");
        outputs(p("id"), p("name"), p("creation_date"), p("owner"), p("owner_name"), BTreeMap::new())
    }

    async fn execute(&self, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Value> {
        let aws = bake_sdk::cancel::abandon_on(cancel, "connecting to AWS", self.access.connect(ui)).await??;
        let image = bake_sdk::cancel::abandon_on(cancel, "looking up the AMI", self.filter.find(&aws.ec2())).await??;
        let tags = image.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), Value::from(t.value().unwrap_or_default()))).collect();
        let text = |s: Option<&str>| s.unwrap_or_default().to_string();
        ui.message(format!("{}: {} ({}) in {}", self.filter.describe(), text(image.image_id()), text(image.name()), aws.region));
        Ok(outputs(text(image.image_id()), text(image.name()), text(image.creation_date()), text(image.owner_id()), text(image.image_owner_alias()), tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_sdk::testing::eval_body;

    fn error(src: &str) -> String {
        let (sources, body) = eval_body(src);
        prepare(&body, "data \"amazon-ami.base\"").err().map(|d| d.render(&sources)).unwrap_or_default()
    }

    #[test]
    fn options_are_checked_at_their_line() {
        let e = error("filters = { name = \"debian-12-*\" }\nmost_recent = true\n");
        assert!(e.contains("Missing owners") && e.contains("t.pkr.hcl:1:1"), "{e}");
        let e = error("owners = [\"self\"]\nregoin = \"eu-west-1\"\n");
        assert!(e.contains("t.pkr.hcl:2:1") && e.contains("did you mean \"region\""), "{e}");
        let e = error("owners = [\"self\"]\n\naccess_key = \"AKIA\"\n");
        assert!(e.contains("Incomplete static credentials") && e.contains("t.pkr.hcl:3:"), "{e}");
        assert_eq!(error("owners = [\"self\"]\nregion = \"eu-west-1\"\nmost_recent = true\n"), "");
    }
}
