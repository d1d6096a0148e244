//! `checksum`: writes checksum files for an artifact's files, with Packer's
//! options, file names and line format (`HEX<TAB>BASENAME`), appending to a
//! file that already exists.
//!
//! Unlike Packer, every file is read once whatever the number of checksum
//! types, and each checksum file is rewritten through a temp name and renamed,
//! so a failure never leaves half a line behind.

use bake_sdk::config::decode;
use bake_sdk::hash::{Algorithm, Hasher};
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::placeholders;
use bake_sdk::ui::ByteProgress;
use bake_sdk::{async_trait, Artifact, ArtifactFile, BuildInfo, Cancelled, PostProcessed, PostProcessor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Packer's default: one file per build and checksum type.
const DEFAULT_OUTPUT: &str = "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum";

/// The checksum types Packer knows, in its spelling.
pub const TYPES: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    checksum_types: Option<Vec<String>>,
    output: Option<String>,
}

pub struct Checksum {
    types: Vec<String>,
    output: String,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(Checksum::prepare(body, what)?))
}

impl Checksum {
    pub fn prepare(body: &EvalBody, what: &str) -> Result<Checksum, Diagnostics> {
        let config: Config = decode(body, what)?;
        let mut diags = Diagnostics::new();
        let types = config.checksum_types.unwrap_or_else(|| vec!["md5".to_string()]);
        let types_span = body.attributes.get("checksum_types").map_or(body.span, |a| a.span);
        for t in &types {
            if !TYPES.contains(&t.as_str()) {
                let mut d = Diagnostic::error("Unknown checksum type", format!("\"{t}\" is not a checksum type {what} knows.")).at(types_span);
                d = match bake_sdk::lang::diag::suggest(t, TYPES.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help(format!("the checksum types are: {}", TYPES.join(", "))),
                };
                diags.push(d);
            }
        }
        if types.is_empty() {
            diags.push(
                Diagnostic::error("No checksum types", format!("\"checksum_types\" in {what} is empty."))
                    .at(types_span)
                    .with_help(format!("the checksum types are: {}", TYPES.join(", "))),
            );
        }
        let output = config.output.filter(|o| !o.is_empty()).unwrap_or_else(|| DEFAULT_OUTPUT.to_string());
        if let Err(e) = placeholders::render(&output, &values("name", "type", "md5")) {
            let span = body.attributes.get("output").map_or(body.span, |a| a.span);
            diags.push(Diagnostic::error("Invalid output", format!("In {what}: {e}.")).at(span));
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let mut unique = Vec::new();
        for t in types {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        Ok(Checksum { types: unique, output })
    }
}

fn values(build_name: &str, builder_type: &str, checksum_type: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("BuildName", build_name.to_string()), ("BuilderType", builder_type.to_string()), ("ChecksumType", checksum_type.to_string())])
}

#[async_trait]
impl PostProcessor for Checksum {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        // Where each type's lines go (several types may share one file when
        // the output does not use `{{ .ChecksumType }}`).
        let mut outputs: Vec<(String, PathBuf)> = Vec::new();
        for t in &self.types {
            let path = placeholders::render(&self.output, &values(&build.source_name, &build.builder_type, t)).map_err(|e| anyhow::anyhow!("output: {e}"))?;
            outputs.push((t.clone(), PathBuf::from(path)));
        }
        let files: Vec<PathBuf> = input.files.iter().map(|f| f.path.clone()).collect();
        let types = self.types.clone();
        let ui = build.ui.clone();
        let cancel = build.cancel.clone();
        let sums = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Vec<String>>> {
            let mut all = Vec::new();
            for f in &files {
                ui.say(format!("Computing {} of {}", types.join(", "), f.display()));
                all.push(hash_file(f, &types, &ui, &cancel)?);
            }
            Ok(all)
        })
        .await??;

        // Lines per output file, in Packer's order: by type, then by file.
        let mut lines: Vec<(PathBuf, String)> = Vec::new();
        for (ti, (_, path)) in outputs.iter().enumerate() {
            let mut text = String::new();
            for (fi, f) in input.files.iter().enumerate() {
                let base = f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned());
                text.push_str(&format!("{}\t{}\n", sums[fi][ti], base));
            }
            match lines.iter_mut().find(|(p, _)| p == path) {
                Some((_, t)) => t.push_str(&text),
                None => lines.push((path.clone(), text)),
            }
        }

        // As Packer: the input's files, then each checksum file this run
        // created (one that existed before is appended to, not added).
        let mut artifact = Artifact {
            builder_type: "checksum".to_string(),
            id: String::new(),
            files: input.files.clone(),
            state: input.state.clone(),
            description: String::new(),
        };
        let mut written = Vec::new();
        for (path, text) in &lines {
            let existed = append_atomically(path, text)?;
            build.ui.message(format!("Wrote checksums to {}", path.display()));
            written.push(path.display().to_string());
            if !existed {
                artifact.files.push(ArtifactFile::from_path(path)?);
            }
        }
        artifact.id = written.join(", ");
        artifact.description = format!("Checksum files: {}", written.join(", "));
        // Never remove the very files that were checksummed.
        Ok(PostProcessed { artifact, keep_input: Some(true) })
    }
}

/// Reads `path` once, feeding every requested hasher; returns lowercase hex
/// digests in the order of `types`.
fn hash_file(path: &Path, types: &[String], ui: &bake_sdk::Ui, cancel: &bake_sdk::CancellationToken) -> anyhow::Result<Vec<String>> {
    // `prepare` accepted only names in TYPES, which are all Algorithm names.
    let mut hashers: Vec<Hasher> = types.iter().map(|t| Algorithm::from_name(t).expect("a checksum type checked by prepare").hasher()).collect();
    let mut file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("unable to open {}: {e}", path.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = vec![0u8; 1 << 20];
    let mut progress = ByteProgress::new(ui, format!("{}: hashed", path.display()), Some(total));
    loop {
        if cancel.is_cancelled() {
            return Err(Cancelled::during(format!("hashing {}", path.display())).into());
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => anyhow::bail!("unable to read {}: {e}", path.display()),
        };
        for h in &mut hashers {
            h.update(&buf[..n]);
        }
        progress.advance(n as u64);
    }
    Ok(hashers.into_iter().map(Hasher::finish).collect())
}

/// Appends `text` to `path` (created if missing, with its directory) by
/// writing old content plus new to a temp name and renaming it into place.
/// Builds running at once take turns, by a lock on the directory (as the
/// manifest post-processor does). Returns whether the file existed before.
fn append_atomically(path: &Path, text: &str) -> anyhow::Result<bool> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("unable to create directory {}: {e}", dir.display()))?;
    let name = path.file_name().map_or_else(|| "checksum".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.bake-tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<bool> {
        let lock = std::fs::File::open(&dir)?;
        lock.lock()?;
        let mut out = std::fs::File::create(&tmp)?;
        let existed = match std::fs::File::open(path) {
            Ok(mut old) => {
                std::io::copy(&mut old, &mut out)?;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&tmp, path)?;
        lock.unlock()?;
        Ok(existed)
    })();
    match result {
        Ok(existed) => Ok(existed),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("unable to write {}: {e}", path.display())
        }
    }
}

#[cfg(test)]
mod tests;
