//! `data "null"` (Packer's): hands its `input` back as `output`. Packer's
//! documentation and tests use it to show how data sources work, and it is
//! a handy way to name a value once and read it as `data.null.NAME.output`.
//!
//! The value is known when the template is loaded, so `validate` and
//! `inspect` see the real output, not a placeholder.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::lang::Value;
use bake_sdk::{async_trait, CancellationToken, DataSource, Ui};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    input: String,
}

pub struct NullData {
    input: String,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn DataSource>, Diagnostics> {
    let config: Config = decode(body, what)?;
    if config.input.is_empty() {
        let at = body.attributes.get("input").map_or(body.span, |a| a.span);
        return Err(Diagnostic::error("Empty input", format!("The `input` of {what} must be specified: it is the value `output` hands back.")).at(at).into());
    }
    Ok(Box::new(NullData { input: config.input }))
}

impl NullData {
    fn outputs(&self) -> Value {
        Value::Object(BTreeMap::from([("output".to_string(), Value::from(self.input.clone()))]))
    }
}

#[async_trait]
impl DataSource for NullData {
    fn placeholder(&self) -> Value {
        self.outputs()
    }

    async fn execute(&self, _ui: &Ui, _cancel: &CancellationToken) -> anyhow::Result<Value> {
        Ok(self.outputs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_sdk::testing::eval_body;

    fn prepare_src(src: &str) -> Result<Box<dyn DataSource>, String> {
        let (sources, body) = eval_body(src);
        prepare(&body, "data \"null.x\"").map_err(|d| d.render(&sources))
    }

    #[tokio::test]
    async fn the_output_is_the_input() {
        let data = prepare_src("input = \"ami-${1 + 2}\"\n").unwrap();
        let expected = Value::Object(BTreeMap::from([("output".to_string(), Value::from("ami-3"))]));
        assert_eq!(data.placeholder(), expected);
        let ui = bake_sdk::testing::build_info("null-data").ui;
        assert_eq!(data.execute(&ui, &CancellationToken::new()).await.unwrap(), expected);
    }

    #[test]
    fn input_is_required_and_not_empty() {
        let missing = prepare_src("inptu = \"x\"\n").err().unwrap();
        assert!(missing.contains("t.pkr.hcl:1:1") && missing.contains("did you mean \"input\""), "{missing}");
        let empty = prepare_src("\ninput = \"\"\n").err().unwrap();
        assert!(empty.contains("t.pkr.hcl:2:9") && empty.contains("must be specified"), "{empty}");
    }
}
