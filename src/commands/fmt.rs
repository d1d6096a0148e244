//! `bake fmt`: canonical formatting, as `packer fmt` does it: `-check` exits
//! 3 when a file would change, `-diff` shows how, `-write=false` prints the
//! result instead of writing it, `-recursive` descends into directories, and
//! `-` formats standard input.

use crate::cli::FmtArgs;
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn run(args: FmtArgs) -> i32 {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    if paths.len() == 1 && paths[0] == Path::new("-") {
        return format_stdin();
    }
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            collect(p, args.recursive, &mut files);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            eprintln!("Error: {} does not exist.", p.display());
            return 1;
        }
    }
    let mut changed = false;
    let mut failed = false;
    for file in &files {
        let original = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: cannot read {}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let formatted = match bake_lang::fmt::format(&original) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("Error: {}:{}:{}: {}", bake_lang::source::display_path(file), e.line, e.column, e.message);
                failed = true;
                continue;
            }
        };
        if formatted == original {
            continue;
        }
        changed = true;
        outln!("{}", bake_lang::source::display_path(file));
        if args.diff {
            out!("{}", diff(file, &original, &formatted));
        }
        if args.check {
            continue;
        }
        if args.write {
            if let Err(e) = write_atomically(file, &formatted) {
                eprintln!("Error: cannot write {}: {e}", file.display());
                failed = true;
            }
        } else if !args.diff {
            out!("{formatted}");
        }
    }
    if failed {
        1
    } else if args.check && changed {
        3
    } else {
        0
    }
}

fn format_stdin() -> i32 {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("Error: cannot read standard input: {e}");
        return 1;
    }
    match bake_lang::fmt::format(&input) {
        Ok(f) => {
            out!("{f}");
            0
        }
        Err(e) => {
            eprintln!("Error: <stdin>:{}:{}: {}", e.line, e.column, e.message);
            1
        }
    }
}

/// The files `fmt` formats in a directory: templates and var files.
fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if recursive && !name.starts_with('.') {
                collect(&p, recursive, out);
            }
        } else if name.ends_with(".pkr.hcl") || name.ends_with(".pkrvars.hcl") {
            out.push(p);
        }
    }
}

fn diff(file: &Path, old: &str, new: &str) -> String {
    let name = bake_lang::source::display_path(file);
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(&format!("old/{name}"), &format!("new/{name}")).to_string()
}

fn write_atomically(file: &Path, text: &str) -> std::io::Result<()> {
    let tmp = file.with_extension(format!("bake-fmt-{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, file)
}
