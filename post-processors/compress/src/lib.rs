//! `compress`: packs an artifact's files into one archive or compresses its
//! one file, with Packer's options; the format comes from the output's
//! extension.
//!
//! | extension                         | result                                   |
//! |-----------------------------------|------------------------------------------|
//! | `.tar`                            | tar archive                              |
//! | `.tar.gz` `.tgz` `.tar.zst` `.tar.xz` `.tar.lz4` | compressed tar archive    |
//! | `.zip`                            | zip archive (deflate)                    |
//! | `.gz` `.zst` `.xz` `.lz4`         | the single input file, compressed        |
//!
//! gzip and zstd use every core (gzip as independent members per 1 MiB
//! chunk, zstd with its own worker threads), and xz uses liblzma's threads.
//! Like Packer, a single-file format takes exactly one input file, and an
//! output with no extension is a `.tar.gz`. Unlike Packer, an extension that
//! names no format (`.qcow2`, `.rar`) is an error, not a silent `.tar.gz`
//! under the wrong name.
//!
//! The archive itself is written by [`bake_archive`]: to a temp name
//! beside the target, renamed into place when complete.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::placeholders;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use bake_archive::{detect, Codec, Format, Job, EXTENSIONS};
use bake_sdk::ui::human_size;

/// Packer's default output (its docs: `packer_{{.BuildName}}_{{.BuilderType}}`
/// built as a `.tar.gz`).
const DEFAULT_OUTPUT: &str = "packer_{{.BuildName}}_{{.BuilderType}}.tar.gz";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    output: Option<String>,
    /// Packer's: an extension used instead of the output's (`"tar.gz"`).
    format: Option<String>,
    compression_level: Option<i32>,
}

pub struct Compress {
    output: String,
    format: Option<String>,
    /// As given; each codec maps it (see [`Compress::level`]).
    level: Option<i32>,
    threads: usize,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(Compress::prepare(body, what)?))
}

impl Compress {
    pub fn prepare(body: &EvalBody, what: &str) -> Result<Compress, Diagnostics> {
        let config: Config = decode(body, what)?;
        let mut diags = Diagnostics::new();
        let span = |name: &str| body.attributes.get(name).map_or(body.span, |a| a.span);
        let output = config.output.filter(|o| !o.is_empty()).unwrap_or_else(|| DEFAULT_OUTPUT.to_string());
        let format = config.format.filter(|f| !f.is_empty()).map(|f| f.trim_start_matches('.').to_string());
        match placeholders::render(&output, &values("name", "type")) {
            Err(e) => diags.push(Diagnostic::error("Invalid output", format!("In {what}: {e}.")).at(span("output"))),
            Ok(sample) => {
                let (name, at) = match &format {
                    Some(f) => (format!("{sample}.{f}"), span("format")),
                    None => (sample, span("output")),
                };
                // An extension that comes from a placeholder is checked when
                // the post-processor runs.
                let known_late = format.is_none() && output.trim_end().ends_with("}}");
                if detect(&name).is_none() && !known_late {
                    diags.push(
                        Diagnostic::error("Unknown archive format", format!("{what} cannot tell the format of \"{name}\" from its extension."))
                            .at(at)
                            .with_help(format!("end the output with one of {EXTENSIONS}")),
                    );
                }
            }
        }
        if let Some(level) = config.compression_level {
            if !(-1..=22).contains(&level) {
                diags.push(
                    Diagnostic::error(
                        "Invalid compression_level",
                        format!("{level} is not a compression level: gzip, zip and xz take 1 to 9 (higher is 9), zstd 1 to 22; -1 and 0 mean the default."),
                    )
                    .at(span("compression_level")),
                );
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Compress { output, format, level: config.compression_level, threads })
    }

    /// The level a codec uses. Packer's rules for gzip: unset, -1 and 0 mean
    /// 6, above 9 means 9. zstd takes its own scale (unset means its default
    /// 3; Packer has no zstd); xz caps at 9.
    fn level(&self, codec: Codec) -> u32 {
        let given = self.level.filter(|l| *l > 0).map(|l| l as u32);
        match codec {
            Codec::Zstd => given.unwrap_or(3).min(22),
            _ => given.unwrap_or(6).min(9),
        }
    }
}

fn values(build_name: &str, builder_type: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("BuildName", build_name.to_string()), ("BuilderType", builder_type.to_string())])
}

#[async_trait]
impl PostProcessor for Compress {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let target = placeholders::render(&self.output, &values(&build.source_name, &build.builder_type)).map_err(|e| anyhow::anyhow!("output: {e}"))?;
        let name = match &self.format {
            Some(f) => format!("{target}.{f}"),
            None => target.clone(),
        };
        let format =
            detect(&name).ok_or_else(|| anyhow::anyhow!("cannot tell the format of \"{name}\" from its extension; end the output with one of {EXTENSIONS}"))?;
        let files: Vec<PathBuf> = input.files.iter().map(|f| f.path.clone()).collect();
        if let Format::Single(_) = format {
            if files.len() != 1 {
                let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                let listed = if list.is_empty() { String::new() } else { format!(": {}", list.join(", ")) };
                anyhow::bail!("can only have 1 input file when not using tar/zip; found {}{listed}", files.len());
            }
        }
        let job = Job {
            target: PathBuf::from(target),
            files,
            format,
            level: self.level(match format {
                Format::Tar(c) | Format::Single(c) => c,
                Format::Zip => Codec::Gzip,
            }),
            threads: self.threads,
            ui: build.ui.clone(),
            cancel: build.cancel.clone(),
        };
        let file = tokio::task::spawn_blocking(move || job.run()).await??;
        let artifact = Artifact {
            builder_type: "compress".to_string(),
            id: file.path.display().to_string(),
            description: format!("Compressed file {} ({})", file.path.display(), human_size(file.size)),
            files: vec![file],
            state: BTreeMap::new(),
        };
        // Packer leaves keeping the input to `keep_input_artifact`.
        Ok(PostProcessed { artifact, keep_input: None })
    }
}

#[cfg(test)]
mod tests;
