//! Fuzz bodies for the language crate: parsing, JSON, formatting and
//! expression evaluation. Each one must return normally for any input;
//! a panic (or an abort, a hang, an allocation of gigabytes) is a bug.
//!
//! `lang/tests/no_panic.rs` includes this file with `#[path]`, so it may use
//! nothing but `bake_lang` and `std`.

use bake_lang::eval::{references, Evaluator};
use bake_lang::{SourceMap, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// `parse::parse_file` on a native-syntax file, then on the same text read as
/// a `templatefile` template; every diagnostic is rendered, since rendering
/// slices the source by the spans it was given.
pub fn parse_hcl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::new();
    let file = sources.add("fuzz.pkr.hcl", text);
    match bake_lang::parse::parse_file(&sources, file) {
        Ok(body) => {
            for attr in &body.attributes {
                let _ = references(&attr.expr);
                let _ = sources.location(attr.span);
            }
        }
        Err(d) => drop(d.render(&sources)),
    }
    if let Err(d) = bake_lang::parse::parse_template(&sources, file) {
        drop(d.render(&sources));
    }
}

/// `json::parse_json_file` with Packer's schema, and the same text as a
/// `*.pkrvars.json` file.
pub fn parse_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::new();
    let file = sources.add("fuzz.pkr.json", text);
    if let Err(d) = bake_lang::json::parse_json_file(&sources, file, &bake_lang::json::packer_schema) {
        drop(d.render(&sources));
    }
    if let Err(d) = bake_lang::json::parse_json_vars(&sources, file) {
        drop(d.render(&sources));
    }
}

/// `fmt::format` must not panic, and formatting its own output must change
/// nothing: `format(format(x)) == format(x)`.
pub fn fmt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(once) = bake_lang::fmt::format(text) else { return };
    match bake_lang::fmt::format(&once) {
        Ok(twice) => assert_eq!(once, twice, "fmt is not idempotent on {text:?}"),
        Err(e) => panic!("fmt output does not format again ({e}): {text:?} became {once:?}"),
    }
}

/// `parse::parse_expression` and evaluation with every function available and
/// a scope like a template's (`var`, `local`, `path`, `packer`); relative
/// file paths resolve in a small fixture directory.
pub fn eval_expression(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::new();
    let file = sources.add("fuzz.hcl", text);
    let expr = match bake_lang::parse::parse_expression(&sources, file) {
        Ok(expr) => expr,
        Err(d) => return drop(d.render(&sources)),
    };
    let _ = references(&expr);
    match evaluator(&sources).eval(&expr) {
        Ok(v) => {
            let _ = v.to_string();
            let _ = bake_lang::eval::template_string(&v);
        }
        Err(d) => drop(d.render(&sources)),
    }
}

fn evaluator(sources: &SourceMap) -> Evaluator {
    let dir = fixture_dir();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut ev = Evaluator::new(sources.clone(), dir.to_path_buf(), now);
    ev.allow_env = true;
    let s = |v: &str| Value::from(v);
    let obj = |pairs: &[(&str, Value)]| Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>());
    let users = Value::List(vec![obj(&[("name", s("ann")), ("uid", Value::from(1000.0))]), obj(&[("name", s("bob")), ("uid", Value::from(1001.0))])]);
    let var = obj(&[
        ("name", s("web")),
        ("region", s("eu-west-1")),
        ("ports", Value::List(vec![Value::from(80.0), Value::from(443.0)])),
        ("users", users),
        ("tags", obj(&[("env", s("prod")), ("team", s("infra"))])),
        ("count", Value::from(3.0)),
        ("enabled", Value::Bool(true)),
        ("nothing", Value::Null),
        ("cidr", s("10.0.0.0/16")),
    ]);
    ev.root.insert("var".into(), var.clone());
    ev.root.insert("local".into(), obj(&[("all", var), ("prefix", s("img-"))]));
    ev.root.insert("path".into(), obj(&[("root", s(".")), ("cwd", s(&dir.display().to_string()))]));
    ev.root.insert("packer".into(), obj(&[("version", s("1.11.2"))]));
    ev
}

/// A directory with a few files for `file`, `fileset`, `templatefile` and
/// friends. Shared by every process; a file is written only when missing or
/// different, so processes starting together do not see each other's half
/// written files after the first run.
fn fixture_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join("bake-fuzz-fixture");
        let files: &[(&str, &[u8])] = &[
            ("hello.txt", b"Hello World\n"),
            ("user-data.tpl", b"#cloud-config\nhostname: ${name}\n%{ for p in ports ~}\n- ${p}\n%{ endfor ~}\n"),
            ("self.tpl", b"${templatefile(\"self.tpl\", {})}"),
            ("vars.json", b"{\"a\": [1, 2, {\"b\": null}]}"),
            ("vars.yaml", b"a:\n  - 1\n  - b: ~\n"),
            ("scripts/install.sh", b"#!/bin/sh\necho hi\n"),
            ("scripts/clean.sh", b"#!/bin/sh\n"),
            ("binary.bin", b"\xff\xfe\x00\x01"),
        ];
        for (name, bytes) in files {
            let path = dir.join(name);
            if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
                let _ = std::fs::create_dir_all(path.parent().unwrap_or(&dir));
                let _ = std::fs::write(path, bytes);
            }
        }
        dir
    })
}
