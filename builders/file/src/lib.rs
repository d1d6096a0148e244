//! The `file` builder (Packer's): makes an artifact out of one file, with no
//! machine, so post-processors can be tried in a second. `target` is written
//! with `content`, or as a copy of `source`; with neither it is an empty file
//! (Packer's documented behaviour, with its warning).
//!
//! Unlike Packer, a `source` that does not exist is reported by `validate`
//! at its line, and the target is written under a temp name and renamed, so
//! a failed or cancelled copy never leaves half a file under its name.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, ArtifactFile, BuildInfo, Builder, CancellationToken, GeneratedData, ProvisionHook};
use serde::Deserialize;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    target: String,
    source: Option<String>,
    content: Option<String>,
    /// Accepted and ignored, as in Packer: there is no machine to talk to.
    #[allow(dead_code)]
    communicator: Option<String>,
}

/// Where the target's bytes come from.
#[derive(Clone, Debug, PartialEq)]
enum Input {
    Content(String),
    Source(PathBuf),
    /// Neither given: an empty file.
    Nothing,
}

pub struct FileBuilder {
    target: PathBuf,
    input: Input,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    Ok(Box::new(FileBuilder::prepare(body, what)?))
}

impl FileBuilder {
    fn prepare(body: &EvalBody, what: &str) -> Result<FileBuilder, Diagnostics> {
        let config: Config = decode(body, what)?;
        let at = |key: &str| body.attributes.get(key).map_or(body.span, |a| a.span);
        let mut diags = Diagnostics::new();
        if config.target.is_empty() {
            diags.push(
                Diagnostic::error("Empty target", format!("The target of {what} is empty."))
                    .at(at("target"))
                    .with_help("set target to the path of the file to create"),
            );
        }
        // Packer treats an empty string as unset.
        let content = config.content.filter(|c| !c.is_empty());
        let source = config.source.filter(|s| !s.is_empty());
        let input = match (content, source) {
            (Some(_), Some(_)) => {
                diags.push(
                    Diagnostic::error(
                        "Conflicting arguments",
                        format!("{what} cannot take both source and content: the target is either a copy of a file or the given text."),
                    )
                    .at(at("content"))
                    .with_help("remove source, or remove content"),
                );
                Input::Nothing
            }
            (Some(text), None) => Input::Content(text),
            (None, Some(path)) => {
                match std::fs::metadata(&path) {
                    Ok(meta) if meta.is_file() => {}
                    Ok(_) => diags
                        .push(Diagnostic::error("Source is not a file", format!("The source \"{path}\" of {what} is not a regular file.")).at(at("source"))),
                    Err(e) => diags.push(
                        Diagnostic::error("Source file not found", format!("The source \"{path}\" of {what} cannot be read: {e}."))
                            .at(at("source"))
                            .with_help(format!("relative paths are relative to the directory bake runs in ({})", cwd())),
                    ),
                }
                Input::Source(PathBuf::from(path))
            }
            (None, None) => Input::Nothing,
        };
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(FileBuilder { target: PathBuf::from(config.target), input })
    }
}

fn cwd() -> String {
    std::env::current_dir().map_or_else(|_| "the current directory".to_string(), |d| d.display().to_string())
}

#[async_trait]
impl Builder for FileBuilder {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        match &self.input {
            Input::Source(source) => build.ui.say(format!("Copying {} to {}", source.display(), self.target.display())),
            Input::Content(_) => build.ui.say(format!("Writing {}", self.target.display())),
            Input::Nothing => build.ui.say(format!("Both source file and contents are blank; {} will have no content", self.target.display())),
        }
        let job = WriteJob { target: self.target.clone(), input: self.input.clone(), cancel: build.cancel.clone() };
        let file = tokio::task::spawn_blocking(move || job.run()).await??;
        build.ui.message(format!("Wrote {} bytes to {}", file.size, file.path.display()));
        // As in Packer, the provisioners run after the file exists, with no
        // communicator.
        let generated = GeneratedData::from([("ID".to_string(), "File".to_string()), ("PackerRunUUID".to_string(), build.run_uuid.clone())]);
        bake_sdk::plugin::provision_all(hook, build, None, &generated).await?;
        Ok(Some(Artifact {
            builder_type: "file".into(),
            id: "File".into(),
            description: format!("Stored file: {}", file.path.display()),
            files: vec![file],
            state: Default::default(),
        }))
    }
}

/// Writes the target on a blocking thread: under a temp name beside it,
/// renamed into place when complete.
struct WriteJob {
    target: PathBuf,
    input: Input,
    cancel: CancellationToken,
}

impl WriteJob {
    fn run(self) -> anyhow::Result<ArtifactFile> {
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("unable to create directory {}: {e}", dir.display()))?;
        let name = self.target.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let tmp = TempFile(dir.join(format!(".{name}.bake-tmp-{}", std::process::id())));
        let mut out = std::fs::File::create(&tmp.0).map_err(|e| anyhow::anyhow!("unable to create {}: {e}", tmp.0.display()))?;
        match &self.input {
            Input::Source(source) => {
                let from = std::fs::File::open(source).map_err(|e| anyhow::anyhow!("unable to open {}: {e}", source.display()))?;
                // As context, not text, so that a cancellation stays a `Cancelled`.
                copy(from, &mut out, &self.cancel)
                    .map_err(|e| anyhow::Error::new(e).context(format!("copying {} to {}", source.display(), self.target.display())))?;
            }
            Input::Content(text) => out.write_all(text.as_bytes()).map_err(|e| anyhow::anyhow!("writing {}: {e}", self.target.display()))?,
            Input::Nothing => {}
        }
        out.sync_all()?;
        drop(out);
        std::fs::rename(&tmp.0, &self.target).map_err(|e| anyhow::anyhow!("unable to rename {} to {}: {e}", tmp.0.display(), self.target.display()))?;
        std::mem::forget(tmp);
        Ok(ArtifactFile::from_path(&self.target)?)
    }
}

/// Copies in 1 MiB pieces, stopping on Ctrl-C.
fn copy(mut from: std::fs::File, to: &mut std::fs::File, cancel: &CancellationToken) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancel.is_cancelled() {
            return Err(bake_sdk::Cancelled::new().into_io());
        }
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Removes a temp file unless forgotten (after the rename).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests;
