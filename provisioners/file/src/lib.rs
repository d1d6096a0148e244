//! `file`: copies files and directories to or from the machine being built,
//! with Packer's rules for trailing slashes.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Communicator, ProvisionContext, Provisioner};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    source: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    content: Option<String>,
    destination: String,
    #[serde(default = "default_direction")]
    direction: String,
    /// The source is made by an earlier step of the build, so it need not
    /// exist when the template is validated.
    #[serde(default)]
    generated: bool,
}

fn default_direction() -> String {
    "upload".into()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    Upload,
    Download,
}

pub struct File {
    config: Config,
    direction: Direction,
    sources: Vec<String>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Provisioner>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let attr = |key: &str| body.attributes.get(key).map_or(body.span, |a| a.span);
    let mut diags = Diagnostics::new();
    let direction = match config.direction.as_str() {
        "upload" => Direction::Upload,
        "download" => Direction::Download,
        other => {
            diags.push(Diagnostic::error("Invalid direction", format!("direction must be \"upload\" or \"download\", not \"{other}\".")).at(attr("direction")));
            Direction::Upload
        }
    };
    let sources: Vec<String> = config.source.iter().chain(&config.sources).cloned().collect();
    match (sources.is_empty(), config.content.is_some()) {
        (true, false) => diags.push(Diagnostic::error("Nothing to copy", format!("{what} needs \"source\", \"sources\" or \"content\".")).at(body.span)),
        (false, true) => diags.push(Diagnostic::error("Conflicting arguments", format!("{what} takes \"content\" or sources, not both.")).at(attr("content"))),
        _ => {}
    }
    if config.source.is_some() && !config.sources.is_empty() {
        diags.push(Diagnostic::error("Conflicting arguments", format!("{what} takes \"source\" or \"sources\", not both.")).at(attr("sources")));
    }
    if config.content.is_some() && direction == Direction::Download {
        diags.push(Diagnostic::error("Conflicting arguments", "\"content\" can only be uploaded.".to_string()).at(attr("content")));
    }
    if sources.len() > 1 && !config.destination.ends_with('/') {
        diags.push(
            Diagnostic::error("Destination must be a directory", "With several sources the destination must be a directory.".to_string())
                .at(attr("destination"))
                .with_help(format!("end it with a slash: \"{}/\"", config.destination)),
        );
    }
    if direction == Direction::Upload && !config.generated {
        for source in &sources {
            if !Path::new(source).exists() {
                let key = if config.source.is_some() { "source" } else { "sources" };
                diags.push(
                    Diagnostic::error("Source not found", format!("\"{source}\" does not exist."))
                        .at(attr(key))
                        .with_help("paths are relative to the directory bake runs in; set generated = true if an earlier step creates it"),
                );
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Box::new(File { config, direction, sources }))
}

/// Where a copied item lands: into `destination` when it names a directory
/// (ends with a slash), as `destination` otherwise.
fn target(destination: &str, source: &str) -> String {
    if destination.ends_with('/') {
        let name = Path::new(source.trim_end_matches('/')).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        format!("{destination}{name}")
    } else {
        destination.to_string()
    }
}

/// Packer's directory rule: `dir` (no trailing slash) is copied as a
/// directory named `dir` inside the destination; `dir/` copies only its
/// contents into the destination.
fn directory_target(destination: &str, source: &str) -> String {
    if source.ends_with('/') {
        destination.to_string()
    } else {
        let name = Path::new(source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        format!("{}/{name}", destination.trim_end_matches('/'))
    }
}

impl File {
    async fn upload(&self, ctx: &ProvisionContext<'_>, comm: &dyn Communicator) -> anyhow::Result<()> {
        let ui = &ctx.build.ui;
        let dst = &self.config.destination;
        if let Some(content) = &self.config.content {
            ui.say(format!("Uploading content to {dst}"));
            return comm.upload(content.as_bytes(), dst, 0o644).await.map_err(|e| e.context(format!("uploading content to {dst}")));
        }
        for source in &self.sources {
            let meta = std::fs::metadata(source).map_err(|e| anyhow::anyhow!("cannot read {source}: {e}"))?;
            if meta.is_dir() {
                let to = directory_target(dst, source);
                ui.say(format!("Uploading directory {source} => {to}"));
                comm.upload_dir(Path::new(source), &to).await.map_err(|e| e.context(format!("uploading {source} to {to}")))?;
            } else {
                let to = target(dst, source);
                ui.say(format!("Uploading {source} => {to}"));
                comm.upload_file(Path::new(source), &to).await.map_err(|e| e.context(format!("uploading {source} to {to}")))?;
            }
        }
        Ok(())
    }

    async fn download(&self, ctx: &ProvisionContext<'_>, comm: &dyn Communicator) -> anyhow::Result<()> {
        let ui = &ctx.build.ui;
        let dst = &self.config.destination;
        for source in &self.sources {
            if source.ends_with('/') {
                ui.say(format!("Downloading directory {source} => {dst}"));
                let to = PathBuf::from(dst);
                comm.download_dir(source, &to).await.map_err(|e| e.context(format!("downloading {source} to {dst}")))?;
            } else {
                let to = PathBuf::from(target(dst, source));
                if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(parent).await?;
                }
                ui.say(format!("Downloading {source} => {}", to.display()));
                comm.download_file(source, &to).await.map_err(|e| e.context(format!("downloading {source} to {}", to.display())))?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provisioner for File {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()> {
        let comm = ctx.comm.ok_or_else(|| anyhow::anyhow!("the file provisioner needs a communicator, and this build has none (communicator = \"none\")"))?;
        match self.direction {
            Direction::Upload => self.upload(ctx, comm).await,
            Direction::Download => self.download(ctx, comm).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_follow_packer() {
        assert_eq!(target("/etc/app.conf", "files/app.conf"), "/etc/app.conf");
        assert_eq!(target("/etc/", "files/app.conf"), "/etc/app.conf");
        assert_eq!(directory_target("/srv", "site"), "/srv/site");
        assert_eq!(directory_target("/srv/", "www/site"), "/srv/site");
        assert_eq!(directory_target("/srv", "site/"), "/srv");
    }
}
