//! `bake inspect`: the template's variables (sensitive ones masked), locals,
//! sources and builds with their provisioner and post-processor chains.

use super::{load_options, load_or_report, DataMode};
use crate::cli::InspectArgs;
use crate::load::template::BuildDecl;
use crate::load::{LoadOptions, Loaded};
use serde_json::{json, Value as Json};

pub fn run(args: InspectArgs) -> i32 {
    // As `packer inspect`: a variable without a value is shown as unknown.
    let opts = LoadOptions { unset_is_unknown: true, ..load_options(&args.template, &args.vars, false) };
    let Some(loaded) = load_or_report(&opts, DataMode::Placeholder) else { return 1 };
    let report = report(&loaded);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        out!("{}", text(&loaded));
    }
    0
}

fn shown(value: &bake_lang::Value, sensitive: bool, unknown: bool) -> String {
    match (sensitive, unknown) {
        (_, true) => "<unknown>".to_string(),
        (true, false) => "<sensitive>".to_string(),
        (false, false) => value.to_string(),
    }
}

fn json_value(value: &bake_lang::Value, sensitive: bool, unknown: bool) -> Json {
    if sensitive || unknown {
        json!(shown(value, sensitive, unknown))
    } else {
        value.to_json()
    }
}

fn report(loaded: &Loaded) -> Json {
    let variables: serde_json::Map<String, Json> = loaded
        .variables
        .iter()
        .map(|(name, v)| {
            let value = json_value(&v.value, v.sensitive, v.unknown);
            (name.clone(), json!({ "value": value, "type": v.type_name, "sensitive": v.sensitive, "unknown": v.unknown, "description": v.description, "origin": v.origin }))
        })
        .collect();
    let locals: serde_json::Map<String, Json> = loaded
        .locals
        .iter()
        .map(|(name, l)| (name.clone(), json!({ "value": json_value(&l.value, l.sensitive, l.unknown), "sensitive": l.sensitive, "unknown": l.unknown })))
        .collect();
    let sources: Vec<Json> = loaded.template.sources.iter().map(|s| json!({ "type": s.kind, "name": s.name })).collect();
    let builds: Vec<Json> = loaded.template.builds.iter().map(build_json).collect();
    json!({ "variables": variables, "locals": locals, "sources": sources, "builds": builds })
}

fn build_json(b: &BuildDecl) -> Json {
    json!({
        "name": b.name,
        "description": b.description,
        "sources": b.sources.iter().map(|s| s.local_name()).collect::<Vec<_>>(),
        "provisioners": b.provisioners.iter().map(|p| json!({ "type": p.kind, "name": p.name, "only": p.only, "except": p.except })).collect::<Vec<_>>(),
        "error_cleanup_provisioner": b.error_cleanup.as_ref().map(|p| p.kind.clone()),
        "post_processors": b.post_processor_chains.iter().map(|c| c.iter().map(|p| json!({ "type": p.kind, "name": p.name, "keep_input_artifact": p.keep_input_artifact })).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

fn text(loaded: &Loaded) -> String {
    let mut out = String::from("bake inspect: HCL2 mode\n\n> input-variables:\n\n");
    for (name, v) in &loaded.variables {
        out.push_str(&format!("var.{name}: {}\n", shown(&v.value, v.sensitive, v.unknown)));
    }
    out.push_str("\n> local-variables:\n\n");
    for (name, l) in &loaded.locals {
        out.push_str(&format!("local.{name}: {}\n", shown(&l.value, l.sensitive, l.unknown)));
    }
    out.push_str("\n> builds:\n");
    for (i, b) in loaded.template.builds.iter().enumerate() {
        let title = b.name.clone().unwrap_or_else(|| format!("<unnamed build {i}>"));
        out.push_str(&format!("\n  > {title}:\n"));
        if let Some(d) = &b.description {
            out.push_str(&format!("\n    {d}\n"));
        }
        out.push_str("\n    sources:\n\n");
        for s in &b.sources {
            out.push_str(&format!("      {}\n", s.local_name()));
        }
        out.push_str("\n    provisioners:\n\n");
        for p in &b.provisioners {
            let name = p.name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            out.push_str(&format!("      {}{name}\n", p.kind));
        }
        if let Some(p) = &b.error_cleanup {
            out.push_str(&format!("\n    error-cleanup-provisioner:\n\n      {}\n", p.kind));
        }
        out.push_str("\n    post-processors:\n\n");
        for (j, chain) in b.post_processor_chains.iter().enumerate() {
            let kinds: Vec<&str> = chain.iter().map(|p| p.kind.as_str()).collect();
            out.push_str(&format!("      {j}:\n        {}\n", kinds.join(" -> ")));
        }
    }
    out.push('\n');
    out
}
