//! Packer's function library, through the real binary: every function is
//! called in `tests/corpus/functions/functions.pkr.hcl` next to the value
//! Packer returns, and `bake inspect --json` must show the two equal.

mod util;
use serde_json::Value as Json;
use util::{corpus, inspect_json, TestDir};

/// The library as Packer documents it (`env` is checked separately: it is
/// only allowed in variable defaults).
const FUNCTIONS: &[&str] = &[
    // numeric
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    // string
    "chomp",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "upper",
    "title",
    "regex",
    "regexall",
    "regex_replace",
    "replace",
    "split",
    "strrev",
    "substr",
    "trim",
    "trimprefix",
    "trimsuffix",
    "trimspace",
    "startswith",
    "endswith",
    "strcontains",
    // collection
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "merge",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    // encoding
    "base64decode",
    "base64encode",
    "base64gzip",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
    // filesystem
    "abspath",
    "basename",
    "dirname",
    "pathexpand",
    "file",
    "fileexists",
    "fileset",
    "templatefile",
    // date and time
    "formatdate",
    "timeadd",
    "timestamp",
    "legacy_isotime",
    "legacy_strftime",
    // hashing and uuids
    "bcrypt",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "uuidv4",
    "uuidv5",
    // network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // type conversion
    "can",
    "try",
    "convert",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    // environment
    "env",
];

/// The environment the corpus expects (see its header).
const ENV: &[(&str, &str)] = &[("HOME", "/home/tester"), ("BAKE_FUNCTIONS_GREETING", "hello")];

fn corpus_dir() -> TestDir {
    let dir = TestDir::new("functions");
    dir.copy_from(&corpus("functions"));
    dir
}

/// True when `text` calls `name(` (not as the tail of a longer name).
fn calls(text: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    text.match_indices(&needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn every_function_gives_packers_result() {
    let dir = corpus_dir();
    let report = inspect_json(&dir.bake_env(&["inspect", "--json", "functions.pkr.hcl"], ENV));
    let locals = report["locals"].as_object().expect("locals");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (name, local) in locals.iter().filter(|(n, _)| n.starts_with("check_")) {
        let pair = local["value"].as_array().unwrap_or_else(|| panic!("{name} is not a [got, want] pair"));
        assert_eq!(pair.len(), 2, "{name} is not a [got, want] pair");
        if pair[0] != pair[1] {
            wrong.push(format!("{name}: bake gives {}, Packer gives {}", pair[0], pair[1]));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{} of {checked} checks differ:\n{}", wrong.len(), wrong.join("\n"));
    assert!(checked >= 200, "only {checked} checks ran");
}

#[test]
fn the_corpus_calls_every_function() {
    let text = std::fs::read_to_string(corpus("functions/functions.pkr.hcl")).unwrap();
    let missing: Vec<&str> = FUNCTIONS.iter().copied().filter(|f| !calls(&text, f)).collect();
    assert!(missing.is_empty(), "functions.pkr.hcl never calls: {missing:?}");
    assert!(!calls("x = regex_replace(a)", "regex") && calls("x = [regex(a)]", "regex"));
}

#[test]
fn timestamp_is_one_value_per_run_and_gzip_decompresses() {
    let dir = corpus_dir();
    let run = dir.bake_env(&["build", "-color=false", "functions.pkr.hcl"], ENV);
    run.success();
    let all = run.all();
    // Every provisioner of both builds, evaluated separately at run time,
    // sees the same instant.
    let stamps: Vec<&str> = all.lines().filter_map(|l| l.split_once("stamp=").or_else(|| l.split_once("later=")).map(|(_, s)| s.trim())).collect();
    assert_eq!(stamps.len(), 4, "{all}");
    assert!(stamps.iter().all(|s| *s == stamps[0]), "timestamp() moved during the run: {stamps:?}");
    assert_eq!(all.matches("gzip=hello gzip").count(), 2, "{all}");

    // A second run is a new instant (at least a second later).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = dir.bake_env(&["build", "-color=false", "-only=null.first", "functions.pkr.hcl"], ENV);
    let later = again.success().all().lines().find_map(|l| l.split_once("stamp=").map(|(_, s)| s.trim().to_string())).unwrap();
    assert_ne!(later, stamps[0]);
}

#[test]
fn env_works_in_variable_defaults_only() {
    let dir = TestDir::new("functions-env");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "user" {
  type    = string
  default = env("BAKE_TEST_USER")
}
locals {
  from_var = var.user
}
"#,
    );
    let report = inspect_json(&dir.bake_env(&["inspect", "--json", "t.pkr.hcl"], &[("BAKE_TEST_USER", "ann")]));
    assert_eq!(report["locals"]["from_var"]["value"], Json::from("ann"));

    dir.write("t.pkr.hcl", "locals {\n  user = env(\"BAKE_TEST_USER\")\n}\n");
    dir.bake_env(&["validate", "t.pkr.hcl"], &[("BAKE_TEST_USER", "ann")])
        .failure()
        .contains("Call to function \"env\" not allowed here")
        .contains("t.pkr.hcl:2:10");
}

#[test]
fn function_errors_name_the_function_and_point_at_the_argument() {
    let dir = TestDir::new("functions-errors");
    let cases = [
        ("cidrsubnet(\"10.0.0.0/16\", 4, 16)", "prefix extension of 4 does not accommodate a subnet numbered 16", 36),
        ("element([], 0)", "cannot use element function with an empty list", 15),
        ("parseint(\"12\", 2)", "cannot parse \"12\" as a base 2 integer", 16),
        ("index([\"a\"], \"b\")", "item not found", 20),
        ("timeadd(\"2024-01-01T00:00:00Z\", \"1d\")", "unknown unit \"d\" in duration \"1d\"", 39),
        ("textdecodebase64(\"aGk=\", \"EBCDIC-9\")", "\"EBCDIC-9\" is not a supported IANA encoding name or alias", 32),
    ];
    for (expr, message, col) in cases {
        dir.write("t.pkr.hcl", &format!("locals {{\n  x = {expr}\n}}\n"));
        let run = dir.bake(&["validate", "t.pkr.hcl"]);
        run.failure().lacks("panicked").contains(message).contains(&format!("t.pkr.hcl:2:{col}"));
    }
}
