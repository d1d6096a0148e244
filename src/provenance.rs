//! Where a run's builds come from, as the manifest records it: the
//! template's files and their hashes, the variables, the git commit. The
//! engine computes it from the loaded template and hands it to every
//! plugin in [`bake_sdk::BuildInfo::template`].

use crate::load::Loaded;
use bake_sdk::{ArtifactFile, TemplateInfo};
use serde_json::json;
use std::path::PathBuf;

/// What the manifest records about where a run's builds come from.
pub fn template_info(loaded: &Loaded) -> TemplateInfo {
    let mut files: Vec<(PathBuf, String)> = loaded
        .files
        .iter()
        .map(|f| {
            let hash = ArtifactFile::from_path(f).ok().and_then(|a| a.sha256).unwrap_or_default();
            (f.clone(), hash)
        })
        .collect();
    files.sort();
    let sha256 = match files.as_slice() {
        [(_, one)] => one.clone(),
        many => {
            let listing: String = many
                .iter()
                .map(|(p, h)| format!("{h}  {}\n", p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())))
                .collect();
            bake_sdk::artifact::sha256_hex(listing.as_bytes())
        }
    };
    let variables = loaded.variables.iter().map(|(name, v)| (name.clone(), if v.sensitive { json!("<sensitive>") } else { v.value.to_json() })).collect();
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&loaded.root_dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let git_commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let git_dirty = git_commit.is_some() && git(&["status", "--porcelain", "--", "."]).is_some_and(|s| !s.is_empty());
    TemplateInfo { path: loaded.template_path.clone(), files, sha256, variables, git_commit, git_dirty }
}
