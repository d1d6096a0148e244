//! `vagrant` (Packer's post-processor): turns an artifact into a Vagrant
//! box, a tar (gzip-compressed unless `compression_level = 0`) of
//! `metadata.json`, a `Vagrantfile` and the provider's files. For a qemu
//! disk that is the `libvirt` provider's `box.img`; see [`provider`] for
//! what goes in and where bake differs from Packer (a raw disk is converted
//! to qcow2, which is all vagrant-libvirt takes).
//!
//! Packer's options: `output` (default
//! `packer_{{ .BuildName }}_{{ .Provider }}.box`, with `{{ .ArtifactId }}`
//! and `{{ .Architecture }}` too), `compression_level` (0–9, default 6),
//! `include` (files copied to the top of the box by base name; an included
//! `metadata.json` replaces the generated one, as in Packer),
//! `vagrantfile_template` (a file whose `{{ .Name }}` placeholders are
//! filled in like `output`'s, appended to the provider's Vagrantfile),
//! `vagrantfile_template_generated` (the template is made during the build:
//! do not look for it at validate time), `provider_override`, and
//! `architecture` (metadata.json's, default the host's in Go's names).
//!
//! The box is written by the compress post-processor's job: under a temp
//! name beside the output, gzip on every core, renamed into place when
//! complete, so a failure or Ctrl-C leaves nothing behind.

pub mod provider;
mod staging;

use bake_archive::{Codec, Format, Job};
use bake_sdk::artifact::state;
use bake_sdk::config::decode;
use bake_sdk::lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::placeholders;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
pub use provider::Provider;
use serde::Deserialize;
use staging::Staging;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Packer's documented default.
const DEFAULT_OUTPUT: &str = "packer_{{ .BuildName }}_{{ .Provider }}.box";

/// Packer's default gzip level.
const DEFAULT_LEVEL: u32 = 6;

/// Entries the box makes itself: an include of the same name would be
/// silently replaced in Packer, so it is refused here.
const OWN_ENTRIES: &[&str] = &["Vagrantfile", "box.img"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    output: Option<String>,
    compression_level: Option<i64>,
    #[serde(default)]
    include: Vec<String>,
    vagrantfile_template: Option<String>,
    #[serde(default)]
    vagrantfile_template_generated: bool,
    provider_override: Option<String>,
    architecture: Option<String>,
}

pub struct Vagrant {
    output: String,
    level: u32,
    include: Vec<PathBuf>,
    vagrantfile_template: Option<PathBuf>,
    provider_override: Option<Provider>,
    architecture: String,
    threads: usize,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(Vagrant::prepare(body, what)?))
}

/// The placeholders `output` and the Vagrantfile template may use.
fn values(build_name: &str, provider: &str, artifact_id: &str, architecture: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("BuildName", build_name.to_string()),
        ("Provider", provider.to_string()),
        ("ArtifactId", artifact_id.to_string()),
        ("Architecture", architecture.to_string()),
    ])
}

impl Vagrant {
    pub fn prepare(body: &EvalBody, what: &str) -> Result<Vagrant, Diagnostics> {
        let config: Config = decode(body, what)?;
        let mut diags = Diagnostics::new();
        let span = |name: &str| body.attributes.get(name).map_or(body.span, |a| a.span);
        let architecture = config.architecture.filter(|a| !a.is_empty()).unwrap_or_else(host_architecture);
        let sample = values("name", "libvirt", "id", &architecture);

        let output = config.output.filter(|o| !o.is_empty()).unwrap_or_else(|| DEFAULT_OUTPUT.to_string());
        if let Err(e) = placeholders::render(&output, &sample) {
            diags.push(Diagnostic::error("Invalid output", format!("In {what}: {e}.")).at(span("output")));
        }

        let level = match config.compression_level {
            None | Some(-1) => DEFAULT_LEVEL,
            Some(l @ 0..=9) => l as u32,
            Some(l) => {
                diags.push(
                    Diagnostic::error(
                        "Invalid compression_level",
                        format!("{l} is not a compression level: 0 (no compression) to 9 (best); the default is 6."),
                    )
                    .at(span("compression_level")),
                );
                DEFAULT_LEVEL
            }
        };

        let mut seen: Vec<String> = Vec::new();
        for inc in &config.include {
            let name = Path::new(inc).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let problem = if name.is_empty() {
                Some(format!("\"{inc}\" names no file"))
            } else if OWN_ENTRIES.contains(&name.as_str()) {
                Some(format!("\"{inc}\" would be the box's {name}, which the post-processor writes itself"))
            } else if seen.contains(&name) {
                Some(format!("two includes would be \"{name}\" in the box (files go to its top level by base name)"))
            } else {
                None
            };
            if let Some(p) = problem {
                diags.push(Diagnostic::error("Invalid include", format!("In {what}: {p}.")).at(span("include")));
            }
            seen.push(name);
        }

        let template = config.vagrantfile_template.filter(|t| !t.is_empty()).map(PathBuf::from);
        if let (Some(path), false) = (&template, config.vagrantfile_template_generated) {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    if let Err(e) = placeholders::render(&text, &sample) {
                        diags.push(Diagnostic::error("Invalid vagrantfile_template", format!("In {}: {e}.", path.display())).at(span("vagrantfile_template")));
                    }
                }
                Err(e) => diags.push(
                    Diagnostic::error("Vagrantfile template not found", format!("vagrantfile_template \"{}\" cannot be read: {e}.", path.display()))
                        .at(span("vagrantfile_template"))
                        .with_help("set vagrantfile_template_generated = true if an earlier step of the build writes it"),
                ),
            }
        }

        let provider_override = match config.provider_override.filter(|p| !p.is_empty()) {
            None => None,
            Some(name) => match Provider::from_name(&name) {
                Ok(p) => Some(p),
                Err(e) => {
                    let mut d = Diagnostic::error("Invalid provider_override", format!("In {what}: {e}.")).at(span("provider_override"));
                    if let Some(s) = suggest(&name, provider::PACKER_PROVIDERS.iter().copied()).filter(|s| *s != name) {
                        d = d.with_help(format!("did you mean \"{s}\"?"));
                    }
                    diags.push(d);
                    None
                }
            },
        };

        if diags.has_errors() {
            return Err(diags);
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Vagrant {
            output,
            level,
            include: config.include.into_iter().map(PathBuf::from).collect(),
            vagrantfile_template: template,
            provider_override,
            architecture,
            threads,
        })
    }
}

/// The host's architecture in Go's names, which Vagrant uses (`amd64`,
/// `arm64`, `i386` …).
fn host_architecture() -> String {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        other => other,
    }
    .to_string()
}

/// The Vagrantfile in the box: the provider's settings, then the template's.
fn vagrantfile(provider: Provider, provider_part: &str, custom: Option<&str>) -> String {
    let mut text = format!("# Settings for the {} provider, from bake's vagrant post-processor.\n{provider_part}", provider.name());
    if let Some(custom) = custom {
        text.push_str("\n# From the template's vagrantfile_template.\n");
        text.push_str(custom);
        if !custom.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

#[async_trait]
impl PostProcessor for Vagrant {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let provider = Provider::for_artifact(self.provider_override, &input)?;
        let values = values(&build.source_name, provider.name(), &input.id, &self.architecture);
        let output = PathBuf::from(placeholders::render(&self.output, &values).map_err(|e| anyhow::anyhow!("output: {e}"))?);
        let custom = match &self.vagrantfile_template {
            None => None,
            Some(path) => {
                build.ui.message(format!("Using custom Vagrantfile: {}", path.display()));
                let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("vagrantfile_template \"{}\": {e}", path.display()))?;
                Some(placeholders::render(&text, &values).map_err(|e| anyhow::anyhow!("vagrantfile_template \"{}\": {e}", path.display()))?)
            }
        };
        build.ui.say(format!("Creating a Vagrant box for the '{}' provider", provider.name()));

        let mut staging = Staging::beside(&output).map_err(|e| anyhow::anyhow!("cannot make a directory beside {}: {e}", output.display()))?;
        for inc in &self.include {
            build.ui.message(format!("Copying from include: {}", inc.display()));
            let name = inc.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            staging.link(&name, inc).map_err(|e| anyhow::anyhow!("error copying include file {}: {e}", inc.display()))?;
        }
        let contents = provider.process(&input, &mut staging, &build.ui, &build.cancel).await?;
        if staging.has("metadata.json") {
            build.ui.message("metadata.json comes from include");
        } else {
            let mut metadata = contents.metadata;
            metadata.insert("architecture".into(), serde_json::json!(self.architecture));
            staging.write("metadata.json", &format!("{}\n", serde_json::to_string(&metadata)?))?;
        }
        staging.write("Vagrantfile", &vagrantfile(provider, &contents.vagrantfile, custom.as_deref()))?;

        let mut files = staging.entries();
        // metadata.json, Vagrantfile, then the rest: readers see what the box is first.
        files.sort_by_key(|p| match p.file_name().and_then(|n| n.to_str()) {
            Some("metadata.json") => 0,
            Some("Vagrantfile") => 1,
            _ => 2,
        });
        let job = Job {
            target: output,
            files,
            format: if self.level == 0 { Format::Tar(Codec::None) } else { Format::Tar(Codec::Gzip) },
            level: self.level,
            threads: self.threads,
            ui: build.ui.clone(),
            cancel: build.cancel.clone(),
        };
        // The staging directory goes with the job: it is removed only once
        // the tar no longer reads from it, whatever happens to this future.
        let file = tokio::task::spawn_blocking(move || {
            let written = job.run();
            drop(staging);
            written
        })
        .await??;
        let artifact = Artifact {
            builder_type: "vagrant".into(),
            id: provider.name().into(),
            description: format!("'{}' provider box: {}", provider.name(), file.path.display()),
            files: vec![file],
            state: BTreeMap::from([(state::PROVIDER.to_string(), serde_json::json!(provider.name()))]),
        };
        // Packer's libvirt and file providers leave the input to keep_input_artifact.
        Ok(PostProcessed { artifact, keep_input: None })
    }
}

#[cfg(test)]
mod tests;
