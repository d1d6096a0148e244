//! Generated expressions never make the parser or the evaluator panic.
//! Complements the fuzz targets (`fuzz/`): where libFuzzer mutates bytes,
//! this builds well-formed expressions from HCL's grammar, so that every
//! function is reached with arguments of every shape — including huge
//! numbers, NaN-producing arithmetic and deeply nested collections.

#[path = "../../fuzz/src/lang.rs"]
#[allow(dead_code)]
mod targets;

use proptest::prelude::*;

const FUNCTIONS: &[&str] = &[
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64gzip",
    "basename",
    "can",
    "ceil",
    "chomp",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "csvdecode",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "file",
    "fileexists",
    "fileset",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "formatlist",
    "indent",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "legacy_isotime",
    "legacy_strftime",
    "length",
    "log",
    "lookup",
    "lower",
    "max",
    "md5",
    "merge",
    "min",
    "parseint",
    "pathexpand",
    "pow",
    "range",
    "regex",
    "regex_replace",
    "regexall",
    "replace",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "textdecodebase64",
    "textencodebase64",
    "timeadd",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "urlencode",
    "uuidv5",
    "values",
    "yamldecode",
    "yamlencode",
    "zipmap",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "héllo wörld",
    "a,b,,c",
    "  x\n",
    "%s-%d",
    "%[2]v %5.1f %-3q %t %%",
    "%08x",
    "10.0.0.0/8",
    "fd00::/16",
    "2024-02-29T12:00:00Z",
    "YYYY-MM-DD hh:mm:ss ZZZ",
    "'lit' EEEE",
    "1h30m",
    "-876000h",
    "[a-z]+",
    "^(\\\\d+)$",
    "/l+/",
    "(?P<n>x)",
    "aGVsbG8=",
    "{\"a\":[1,null]}",
    "a: [1, {b: c}]",
    "a,b\n1,2\n",
    "**/*.sh",
    "hello.txt",
    "user-data.tpl",
    "UTF-16LE",
    "dns",
    "ff",
    "1e3",
    "true",
    "null",
    "${x}",
    "e\u{301}\u{1f600}",
];

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(STRINGS).prop_map(|s| format!("{s:?}")),
        prop::sample::select(
            &["0", "1", "-1", "2", "3.5", "255", "1e3", "1e308", "-1e308", "0.000001", "9007199254740993", "4096", "1024", "65536", "32", "128",][..]
        )
        .prop_map(str::to_string),
        Just("true".to_string()),
        Just("null".to_string()),
        prop::sample::select(
            &[
                "var.name",
                "var.ports",
                "var.users",
                "var.tags",
                "var.count",
                "var.enabled",
                "var.nothing",
                "var.cidr",
                "local.all",
                "local.prefix",
                "path.root",
                "packer.version",
                "var.users[*].name",
                "var.tags.env",
            ][..]
        )
        .prop_map(str::to_string),
    ]
    .prop_map(|s| hcl_string_fix(&s))
}

/// Rust's `{:?}` escapes are HCL's, except `\u{…}`: spell those out.
fn hcl_string_fix(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\u{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map_or(rest.len(), |e| i + e + 1);
        let hex = &rest[i + 3..end - 1];
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) => out.push(c),
            None => out.push('?'),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (prop::sample::select(FUNCTIONS), prop::collection::vec(inner.clone(), 0..4)).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| {
                let pairs: Vec<String> = items.iter().enumerate().map(|(i, v)| format!("k{i} = {v}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            }),
            (inner.clone(), prop::sample::select(&["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"][..]), inner.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (inner.clone(), inner.clone()).prop_map(|(coll, body)| format!("[for i, x in {coll} : {body}]")),
            (inner.clone(), inner.clone()).prop_map(|(coll, body)| format!("{{ for k, v in {coll} : tostring(k) => {body}... }}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("\"${{{a}}}-%{{ if {b} }}y%{{ else }}n%{{ endif }}\"")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            inner.clone().prop_map(|a| format!("{a}[*]")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.prop_map(|a| format!("!{a}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_expressions_evaluate_without_panicking(src in expr()) {
        targets::eval_expression(src.as_bytes());
    }

    #[test]
    fn generated_attributes_format_idempotently(src in expr()) {
        let file = format!("locals {{\n  x = {src}\n}}\n");
        targets::fmt(file.as_bytes());
        targets::parse_hcl(file.as_bytes());
    }
}
