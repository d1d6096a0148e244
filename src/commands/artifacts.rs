//! `bake artifacts`: what the manifest says a build produced, for people
//! (plain text) and for scripts (`--json`, or `--region R` printing one
//! image id).

use crate::cli::ArtifactsArgs;
use serde_json::{json, Value as Json};

pub fn run(args: ArtifactsArgs) -> i32 {
    match artifacts(&args) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("Error: {msg}");
            1
        }
    }
}

fn artifacts(args: &ArtifactsArgs) -> Result<(), String> {
    let path = &args.manifest;
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no manifest at {} (give its path with --manifest; the manifest post-processor writes it)", path.display()),
        _ => format!("cannot read the manifest {}: {e}", path.display()),
    })?;
    let manifest: Json = serde_json::from_str(&text).map_err(|e| format!("the manifest {} is not valid JSON: {e}", path.display()))?;
    let builds = manifest["builds"].as_array().ok_or_else(|| format!("the manifest {} has no \"builds\" list", path.display()))?;
    let pattern = args.build.as_deref().unwrap_or("*");
    let glob = globset::Glob::new(pattern).map_err(|e| format!("invalid build pattern \"{pattern}\": {e}"))?.compile_matcher();
    let matching: Vec<&Json> = builds.iter().filter(|b| names(b).iter().any(|n| glob.is_match(n))).collect();
    if matching.is_empty() {
        let mut known: Vec<String> = builds.iter().map(|b| names(b)[0].clone()).collect();
        known.sort();
        known.dedup();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        return Err(format!("no build in {} matches \"{pattern}\" (builds: {known})", path.display()));
    }
    let selected: Vec<&Json> = if args.history {
        matching
    } else {
        // The latest entry of each build: the manifest is appended to.
        let mut latest: Vec<(String, &Json)> = Vec::new();
        for b in matching {
            let key = names(b)[0].clone();
            match latest.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = b,
                None => latest.push((key, b)),
            }
        }
        latest.sort_by(|a, b| a.0.cmp(&b.0));
        latest.into_iter().map(|(_, b)| b).collect()
    };

    if let Some(region) = &args.region {
        let found: Vec<(String, String)> = selected.iter().filter_map(|b| image_in(b, region).map(|id| (names(b)[0].clone(), id))).collect();
        if found.is_empty() {
            let mut regions: Vec<String> = selected.iter().flat_map(|b| region_map(b).into_iter().map(|(r, _)| r)).collect();
            regions.sort();
            regions.dedup();
            let have = if regions.is_empty() { "they have no regional images".to_string() } else { format!("their regions: {}", regions.join(", ")) };
            return Err(format!("no artifact of a build matching \"{pattern}\" has an image in region {region} ({have})"));
        }
        if args.json {
            let list: Vec<Json> = found.iter().map(|(b, id)| json!({ "build": b, "region": region, "image_id": id })).collect();
            outln!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        } else if found.len() == 1 && !args.history {
            outln!("{}", found[0].1);
        } else {
            for (b, id) in &found {
                outln!("{b}\t{id}");
            }
        }
        return Ok(());
    }

    if args.json {
        let list: Vec<Json> = selected.iter().map(|b| summary(b)).collect();
        outln!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        return Ok(());
    }
    for (i, b) in selected.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        out!("{}", plain(b));
    }
    Ok(())
}

/// The names a pattern matches: bake's full `BUILD.TYPE.NAME` first (when
/// bake wrote the entry), then Packer's source name.
fn names(b: &Json) -> Vec<String> {
    let mut n = Vec::new();
    if let Some(full) = b["bake"]["build"].as_str() {
        n.push(full.to_string());
    }
    if let Some(name) = b["name"].as_str() {
        n.push(name.to_string());
    }
    if n.is_empty() {
        n.push("?".to_string());
    }
    n
}

/// Region → image id: bake's `region_images`, else Packer's amazon id form
/// (`us-east-1:ami-1,eu-west-1:ami-2`).
fn region_map(b: &Json) -> Vec<(String, String)> {
    if let Some(m) = b["bake"]["region_images"].as_object().filter(|m| !m.is_empty()) {
        return m.iter().filter_map(|(r, id)| id.as_str().map(|id| (r.clone(), id.to_string()))).collect();
    }
    let artifact = bake_sdk::Artifact { id: b["artifact_id"].as_str().unwrap_or_default().to_string(), ..Default::default() };
    bake_sdk::artifact::region_images(&artifact).into_iter().filter_map(|(r, id)| id.as_str().map(|id| (r, id.to_string()))).collect()
}

fn image_in(b: &Json, region: &str) -> Option<String> {
    region_map(b).into_iter().find(|(r, _)| r == region).map(|(_, id)| id)
}

fn summary(b: &Json) -> Json {
    let files: Vec<Json> = match b["bake"]["files"].as_array() {
        Some(f) => f.clone(),
        None => b["files"].as_array().cloned().unwrap_or_default().into_iter().map(|f| json!({ "path": f["name"], "size": f["size"] })).collect(),
    };
    json!({
        "build": names(b)[0],
        "name": b["name"],
        "builder_type": b["builder_type"],
        "artifact_id": b["artifact_id"],
        "build_time": b["build_time"],
        "packer_run_uuid": b["packer_run_uuid"],
        "format": b["bake"]["format"],
        "files": files,
        "region_images": region_map(b).into_iter().map(|(r, id)| (r, json!(id))).collect::<serde_json::Map<_, _>>(),
        "git_commit": b["bake"]["template"]["git_commit"],
    })
}

fn plain(b: &Json) -> String {
    let s = summary(b);
    let text = |v: &Json| v.as_str().map(str::to_string).unwrap_or_else(|| if v.is_null() { "-".to_string() } else { v.to_string() });
    let mut out = format!("{}  {}  {}\n", text(&s["build"]), text(&s["builder_type"]), text(&s["artifact_id"]));
    let when =
        s["build_time"].as_i64().filter(|t| *t > 0).and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    out.push_str(&format!("  built   {}  (run {})\n", when.unwrap_or_else(|| "-".into()), text(&s["packer_run_uuid"])));
    if let Some(f) = s["format"].as_str() {
        out.push_str(&format!("  format  {f}\n"));
    }
    for f in s["files"].as_array().into_iter().flatten() {
        let hash = f["sha256"].as_str().map(|h| format!("  sha256:{h}")).unwrap_or_default();
        out.push_str(&format!("  file    {}  {}{hash}\n", text(&f["path"]), bake_sdk::ui::human_size(f["size"].as_u64().unwrap_or(0))));
    }
    for (region, id) in s["region_images"].as_object().into_iter().flatten() {
        out.push_str(&format!("  region  {region}  {}\n", text(id)));
    }
    if let Some(c) = s["git_commit"].as_str() {
        out.push_str(&format!("  commit  {c}\n"));
    }
    out
}
