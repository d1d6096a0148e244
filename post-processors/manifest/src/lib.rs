//! The `manifest` post-processor: Packer's `packer-manifest.json`, appended
//! to across runs and safe when several builds write it at once.

use bake_sdk::artifact;
use bake_sdk::config::decode;
use bake_sdk::json_file;
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_output")]
    output: String,
    #[serde(default)]
    strip_path: bool,
    #[serde(default)]
    strip_time: bool,
    #[serde(default)]
    custom_data: BTreeMap<String, String>,
}

fn default_output() -> String {
    "packer-manifest.json".to_string()
}

pub struct Manifest {
    config: Config,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(Manifest { config: decode(body, what)? }))
}

#[async_trait]
impl PostProcessor for Manifest {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let output = PathBuf::from(&self.config.output);
        // Hashing the files may take a while for big disks.
        let entry = tokio::task::block_in_place(|| self.entry(build, &input));
        build.ui.say(format!("Writing manifest {}", output.display()));
        let run_uuid = build.run_uuid.clone();
        tokio::task::spawn_blocking(move || append(&output, entry, &run_uuid)).await??;
        // The manifest records the artifact; it does not replace it.
        Ok(PostProcessed { artifact: input, keep_input: Some(true) })
    }
}

impl Manifest {
    fn entry(&self, build: &BuildInfo, artifact: &Artifact) -> Json {
        let files: Vec<Json> = artifact
            .files
            .iter()
            .map(|f| {
                let name = if self.config.strip_path {
                    f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned())
                } else {
                    f.path.display().to_string()
                };
                json!({ "name": name, "size": f.size })
            })
            .collect();
        let build_time = if self.config.strip_time { 0 } else { SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) };
        let mut entry = json!({
            "name": build.source_name,
            "builder_type": artifact.builder_type,
            "build_time": build_time,
            "files": files,
            "artifact_id": artifact.id,
            "packer_run_uuid": build.run_uuid,
        });
        if !self.config.custom_data.is_empty() {
            entry["custom_data"] = json!(self.config.custom_data);
        }
        entry["bake"] = bake_section(build, artifact);
        // Sensitive values never reach the manifest, custom_data included.
        json_file::mask_strings(&mut entry, &|s| build.ui.mask(s));
        entry
    }
}

/// Adds one build to the manifest under an exclusive lock on its directory,
/// then replaces the file atomically, so that concurrent builds (in this
/// process or another) never lose each other's entries.
fn append(path: &Path, entry: Json, run_uuid: &str) -> anyhow::Result<()> {
    json_file::update_json_locked(path, "manifest", json!({ "builds": [] }), |manifest| {
        if !manifest.is_object() {
            *manifest = json!({ "builds": [] });
        }
        if !manifest["builds"].is_array() {
            manifest["builds"] = json!([]);
        }
        manifest["builds"].as_array_mut().expect("builds is an array").push(entry);
        manifest["last_run_uuid"] = json!(run_uuid);
    })
}

/// bake's own record of a build, beside Packer's fields (which stay as
/// Packer writes them, so Packer's consumers are unaffected).
fn bake_section(build: &BuildInfo, artifact: &Artifact) -> Json {
    let files: Vec<Json> =
        artifact::hashed_files(artifact).iter().map(|f| json!({ "path": f.path.display().to_string(), "size": f.size, "sha256": f.sha256 })).collect();
    let t = &build.template;
    let mut template = json!({
        "path": t.path.display().to_string(),
        "sha256": t.sha256,
        "files": t.files.iter().map(|(p, h)| json!({ "path": p.display().to_string(), "sha256": h })).collect::<Vec<_>>(),
    });
    if let Some(commit) = &t.git_commit {
        template["git_commit"] = json!(commit);
        template["git_dirty"] = json!(t.git_dirty);
    }
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "build": build.name,
        "files": files,
        "format": artifact::artifact_format(artifact),
        "region_images": artifact::region_images(artifact),
        "template": template,
        "variables": t.variables,
    })
}
