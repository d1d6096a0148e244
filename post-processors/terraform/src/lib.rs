//! The `terraform` post-processor (bake's own): writes the artifact where
//! Terraform reads it without hand-editing, a `*.auto.tfvars.json` file:
//!
//! ```json
//! { "bake_images": { "images.qemu.web": { "builder_type": "qemu", "artifact_id": "VM", … } } }
//! ```
//!
//! Each build replaces its own entry; other builds' entries, and other
//! variables in the file, are kept.

use bake_sdk::artifact;
use bake_sdk::config::decode;
use bake_sdk::json_file;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_output")]
    output: String,
    #[serde(default = "default_variable")]
    variable_name: String,
}

fn default_output() -> String {
    "images.auto.tfvars.json".to_string()
}

fn default_variable() -> String {
    "bake_images".to_string()
}

pub struct Terraform {
    config: Config,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let name = &config.variable_name;
    let valid =
        name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        let at = body.attributes.get("variable_name").map_or(body.span, |a| a.span);
        return Err(Diagnostic::error(
            "Invalid variable_name",
            format!("\"{name}\" is not a Terraform variable name: use letters, digits, _ and -, starting with a letter."),
        )
        .at(at)
        .into());
    }
    if !config.output.ends_with(".json") {
        let at = body.attributes.get("output").map_or(body.span, |a| a.span);
        return Err(Diagnostic::error(
            "Invalid output",
            format!(
                "\"{}\" must end in .json: bake writes Terraform's JSON variable files (name it *.auto.tfvars.json to have Terraform load it by itself).",
                config.output
            ),
        )
        .at(at)
        .into());
    }
    Ok(Box::new(Terraform { config }))
}

#[async_trait]
impl PostProcessor for Terraform {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let output = PathBuf::from(&self.config.output);
        let mut entry = tokio::task::block_in_place(|| entry(&input));
        json_file::mask_strings(&mut entry, &|s| build.ui.mask(s));
        build.ui.say(format!("Writing Terraform variables {} (var.{}[\"{}\"])", output.display(), self.config.variable_name, build.name));
        let variable = self.config.variable_name.clone();
        let name = build.name.clone();
        tokio::task::spawn_blocking(move || {
            json_file::update_json_locked(&output, "Terraform variables file", json!({}), |doc| {
                if !doc.is_object() {
                    *doc = json!({});
                }
                if !doc[&variable].is_object() {
                    doc[&variable] = json!({});
                }
                doc[&variable][&name] = entry;
            })
        })
        .await??;
        // The file records the artifact; it does not replace it.
        Ok(PostProcessed { artifact: input, keep_input: Some(true) })
    }
}

/// One build's value: every key is always present (null or empty when it
/// does not apply), so that Terraform sees one object type for all builds.
fn entry(a: &Artifact) -> Json {
    let files: Vec<Json> =
        artifact::hashed_files(a).iter().map(|f| json!({ "path": f.path.display().to_string(), "sha256": f.sha256, "size": f.size })).collect();
    let image = artifact::disk_image(a).map(|f| {
        let hashed = artifact::hashed_files(&Artifact { files: vec![f.clone()], ..Default::default() }).remove(0);
        json!({ "path": hashed.path.display().to_string(), "sha256": hashed.sha256 })
    });
    json!({
        "builder_type": a.builder_type,
        "artifact_id": a.id,
        "files": files,
        "format": artifact::artifact_format(a),
        "amis": artifact::region_images(a),
        "image": image,
        "digest": artifact::digest(a),
    })
}
