//! The `artifice` post-processor (Packer's): the files a step produced
//! become the artifact that the rest of the chain sees.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, ArtifactFile, BuildInfo, PostProcessed, PostProcessor};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Packer's builder id for artifice artifacts.
pub const BUILDER_TYPE: &str = "packer.post-processor.artifice";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    files: Vec<String>,
}

pub struct Artifice {
    files: Vec<String>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    let config: Config = decode(body, what)?;
    if config.files.is_empty() {
        let at = body.attributes.get("files").map_or(body.span, |a| a.span);
        return Err(Diagnostic::error("No files", format!("{what} needs \"files\": the paths of the files that become the artifact.")).at(at).into());
    }
    Ok(Box::new(Artifice { files: config.files }))
}

#[async_trait]
impl PostProcessor for Artifice {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        if !input.files.is_empty() {
            let names: Vec<String> = input.files.iter().map(|f| f.path.display().to_string()).collect();
            build.ui.say(format!("Discarding files from artifact: {}", names.join(", ")));
        }
        let patterns = self.files.clone();
        let files = tokio::task::spawn_blocking(move || collect(&patterns)).await??;
        let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        build.ui.say(format!("Using these artifact files: {}", names.join(", ")));
        let artifact = Artifact {
            builder_type: BUILDER_TYPE.to_string(),
            id: names.join(","),
            description: format!("Created artifact from files: {}", names.join(", ")),
            files,
            state: Default::default(),
        };
        Ok(PostProcessed { artifact, keep_input: None })
    }

    /// As in Packer, the input is kept unless `keep_input_artifact = false`.
    fn keeps_input_by_default(&self) -> bool {
        true
    }
}

/// The files, hashed, in the order given; a pattern with `*`, `?` or `[` in
/// its last component matches files in its directory. A path that does not
/// exist (or a pattern that matches nothing) is an error: an artifact that
/// silently lost a file is worse than a failed build.
fn collect(patterns: &[String]) -> anyhow::Result<Vec<ArtifactFile>> {
    let mut out: Vec<ArtifactFile> = Vec::new();
    for pattern in patterns {
        let path = Path::new(pattern);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let paths: Vec<PathBuf> = if name.contains(['*', '?', '[']) {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let glob = globset::Glob::new(&name).map_err(|e| anyhow::anyhow!("artifice: invalid pattern \"{pattern}\": {e}"))?.compile_matcher();
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| anyhow::anyhow!("artifice: cannot read {} for \"{pattern}\": {e}", dir.display()))?
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && glob.is_match(e.file_name()))
                .map(|e| if path.parent().is_some_and(|p| !p.as_os_str().is_empty()) { dir.join(e.file_name()) } else { PathBuf::from(e.file_name()) })
                .collect();
            found.sort();
            if found.is_empty() {
                anyhow::bail!("artifice: no file matches \"{pattern}\"");
            }
            found
        } else {
            vec![path.to_path_buf()]
        };
        for p in paths {
            if out.iter().any(|f| f.path == p) {
                continue;
            }
            let file = ArtifactFile::from_path(&p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => anyhow::anyhow!("artifice: the file \"{}\" does not exist (paths are relative to {})", p.display(), cwd()),
                _ => anyhow::anyhow!("artifice: cannot read \"{}\": {e}", p.display()),
            })?;
            out.push(file);
        }
    }
    Ok(out)
}

fn cwd() -> String {
    std::env::current_dir().map_or_else(|_| "the current directory".to_string(), |d| d.display().to_string())
}
