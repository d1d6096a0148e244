//! Every template under `tests/corpus/invalid/` is rejected by `bake
//! validate`: exit code 1, a diagnostic at the exact `file:line:col` its
//! header names, carrying the expected message, and never a panic.
//!
//! A fixture's header says what to expect, one directive per line:
//!
//! ```text
//! # expect: NAME.pkr.hcl:LINE:COL: a fragment of that diagnostic
//! # lacks: text that must appear nowhere in the output (a secret)
//! # args: -var-file=NAME.pkrvars.hcl      (extra arguments to validate)
//! # env: PKR_VAR_name=value
//! ```
//!
//! JSON fixtures carry the same directives in comment keys:
//! `"//": "expect: NAME.pkr.json:LINE:COL: fragment"`. In a fragment, `\n`
//! stands for a line break (and `\"` for a quote, as JSON escapes it).

mod util;
use std::path::{Path, PathBuf};
use util::TestDir;

/// What one fixture expects.
#[derive(Debug, Default)]
struct Fixture {
    file: String,
    expects: Vec<(String, String)>,
    lacks: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/invalid")
}

fn directive(line: &str, name: &str) -> Option<String> {
    let line = line.trim();
    let json = |r: &str| {
        let r = r.trim().trim_end_matches(',');
        r.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(r).to_string()
    };
    let rest = line.strip_prefix('#').map(str::to_string).or_else(|| line.strip_prefix("\"//\":").map(json))?;
    let value = rest.trim().strip_prefix(name)?.strip_prefix(':')?.trim();
    Some(value.replace("\\n", "\n").replace("\\\"", "\""))
}

fn read_fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    let mut f = Fixture { file: path.file_name().unwrap().to_string_lossy().into_owned(), ..Fixture::default() };
    for line in text.lines() {
        if let Some(e) = directive(line, "expect") {
            // LOCATION is file:line:col; the fragment follows the next ": ".
            let mut parts = e.splitn(4, ':');
            let (Some(file), Some(l), Some(c), Some(fragment)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                panic!("{}: malformed expect line: {line}", f.file);
            };
            f.expects.push((format!("{file}:{l}:{c}"), fragment.trim().to_string()));
        } else if let Some(l) = directive(line, "lacks") {
            f.lacks.push(l);
        } else if let Some(a) = directive(line, "args") {
            f.args.extend(a.split_whitespace().map(str::to_string));
        } else if let Some(e) = directive(line, "env") {
            let (k, v) = e.split_once('=').unwrap_or_else(|| panic!("{}: env needs NAME=VALUE", f.file));
            f.env.push((k.to_string(), v.to_string()));
        }
    }
    f
}

fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".pkr.hcl") || p.to_string_lossy().ends_with(".pkr.json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_fixture(p)).collect()
}

/// Splits bake's output into its diagnostics, each from its `Error:` or
/// `Warning:` line to the next one.
fn diagnostics(output: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in output.lines() {
        if line.starts_with("Error: ") || line.starts_with("Warning: ") || out.is_empty() {
            out.push(String::new());
        }
        let last = out.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    out
}

/// Runs one fixture; returns what went wrong, if anything.
fn check(dir: &TestDir, f: &Fixture) -> Result<(), String> {
    if f.expects.is_empty() {
        return Err("has no `expect:` line".into());
    }
    let mut args: Vec<&str> = vec!["validate"];
    args.extend(f.args.iter().map(String::as_str));
    args.push(&f.file);
    let env: Vec<(&str, &str)> = f.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = dir.bake_env(&args, &env);
    let all = run.all();
    let mut problems = Vec::new();
    if run.code != 1 {
        problems.push(format!("exit code {} instead of 1", run.code));
    }
    if all.contains("panicked") {
        problems.push("bake panicked".into());
    }
    let diags = diagnostics(&all);
    for (location, fragment) in &f.expects {
        let at = format!("  on {location}:\n");
        match diags.iter().find(|d| d.contains(&at)) {
            None => problems.push(format!("no diagnostic at {location}")),
            Some(d) if !d.contains(fragment.as_str()) => problems.push(format!("the diagnostic at {location} lacks {fragment:?}")),
            Some(_) => {}
        }
    }
    for secret in &f.lacks {
        if all.contains(secret.as_str()) {
            problems.push(format!("the output shows {secret:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- output\n{all}", problems.join("; ")))
    }
}

#[test]
fn every_invalid_template_is_rejected_where_and_how_its_header_says() {
    let dir = TestDir::new("invalid-corpus");
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path.join(path.file_name().unwrap())).unwrap();
    }
    let fixtures = fixtures();
    assert!(fixtures.len() >= 60, "the corpus should hold at least 60 invalid templates, not {}", fixtures.len());
    let failures: Vec<String> = fixtures.iter().filter_map(|f| check(&dir, f).err().map(|e| format!("== {}: {e}", f.file))).collect();
    assert!(failures.is_empty(), "{} of {} fixtures failed:\n{}", failures.len(), fixtures.len(), failures.join("\n"));
}

#[test]
fn syntax_only_validation_reports_syntax_errors_too() {
    let dir = TestDir::new("invalid-syntax-only");
    for name in ["syntax_multiline_string.pkr.hcl", "syntax_missing_closing_brace.pkr.hcl"] {
        std::fs::copy(corpus_dir().join(name), dir.path.join(name)).unwrap();
        let f = read_fixture(&corpus_dir().join(name));
        let run = dir.bake(&["validate", "-syntax-only", name]);
        run.failure().lacks("panicked");
        let (location, fragment) = &f.expects[0];
        run.contains(&format!("  on {location}:")).contains(fragment);
    }
}

#[test]
fn the_header_parser_reads_both_comment_styles() {
    assert_eq!(directive("# expect: a.pkr.hcl:1:2: boom\\nHelp: x", "expect").as_deref(), Some("a.pkr.hcl:1:2: boom\nHelp: x"));
    assert_eq!(directive("  \"//\": \"expect: a.pkr.json:3:4: say \\\"hi\\\"\",", "expect").as_deref(), Some("a.pkr.json:3:4: say \"hi\""));
    assert_eq!(directive("# args: -var x=1", "expect"), None);
}
