//! No input makes bake panic. Replays every fuzz input kept in the repository
//! (`fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`) through the very
//! functions the fuzz targets call, on stable Rust, so a fixed crash stays
//! fixed without nightly or cargo-fuzz. See `fuzz/README.md`.

#[path = "../../fuzz/src/lang.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Runs `body` on every input of `target`; fails listing each input that
/// panicked. Runs on a thread with the 8 MiB stack of a real `bake` process
/// (test threads get 2 MiB), so deep-nesting limits are tested as shipped.
fn replay(target: &'static str, body: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let inputs: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .flat_map(|kind| std::fs::read_dir(fuzz.join(kind).join(target)).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    assert!(!inputs.is_empty(), "no inputs for {target} under {}", fuzz.display());
    let failures = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut failures = Vec::new();
            for path in &inputs {
                let data = std::fs::read(path).unwrap();
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(&data))) {
                    let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                    failures.push(format!("{}: {}", path.display(), msg.unwrap_or_default()));
                }
            }
            failures
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(failures.is_empty(), "{} input(s) of {target} panicked:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn parse_hcl() {
    replay("parse_hcl", targets::parse_hcl);
}

#[test]
fn parse_json() {
    replay("parse_json", targets::parse_json);
}

#[test]
fn fmt() {
    replay("fmt", targets::fmt);
}

#[test]
fn eval_expression() {
    replay("eval_expression", targets::eval_expression);
}
