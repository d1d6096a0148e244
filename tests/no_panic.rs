//! No template makes the loader panic. Replays the `load_template` fuzz inputs
//! kept in the repository (`fuzz/corpus/load_template/`,
//! `fuzz/regressions/load_template/`) through `bake::validate` — load and
//! plan, what `bake validate` runs — exactly as the fuzz target does, on
//! stable Rust. See `fuzz/README.md`.

#[path = "../fuzz/src/load.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[test]
fn load_template() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let inputs: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .flat_map(|kind| std::fs::read_dir(fuzz.join(kind).join("load_template")).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    assert!(!inputs.is_empty(), "no load_template inputs under {}", fuzz.display());
    // The 8 MiB stack of a real `bake` process; test threads get 2 MiB.
    let failures = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut failures = Vec::new();
            for path in &inputs {
                let data = std::fs::read(path).unwrap();
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| targets::load_template(&data))) {
                    let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                    failures.push(format!("{}: {}", path.display(), msg.unwrap_or_default()));
                }
            }
            failures
        })
        .unwrap()
        .join()
        .unwrap();
    // The fuzz body's scratch directory (see fuzz/src/load.rs).
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("bake-fuzz-load-{}", std::process::id())));
    assert!(failures.is_empty(), "{} template(s) panicked:\n{}", failures.len(), failures.join("\n"));
}
