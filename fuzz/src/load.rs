//! Fuzz body for the whole loader: what `bake validate FILE` does (parse,
//! evaluate variables, locals and data-source placeholders, plan every build
//! and prepare its plugins), on one template file.
//!
//! `tests/no_panic.rs` includes this file with `#[path]`, so it may use
//! nothing but `bake` and `std`.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Writes the input as a template and validates it. Input that starts with
/// `{` is a `*.pkr.json` template, anything else a `*.pkr.hcl` one.
pub fn load_template(data: &[u8]) {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bake-fuzz-load-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    });
    let json = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let path = dir.join(if json { "fuzz.pkr.json" } else { "fuzz.pkr.hcl" });
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = bake::validate(&path);
}
