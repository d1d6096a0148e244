//! The plugin dependency rule: a plugin crate (its manifest under
//! builders/, provisioners/, post-processors/ or datasources/) depends on
//! the sdk and shared crates only, never on another plugin crate or on the
//! `bake` package, so that each plugin can be read, built and replaced on
//! its own.

use serde_json::Value as Json;
use std::path::Path;

const PLUGIN_DIRS: &[&str] = &["builders", "provisioners", "post-processors", "datasources"];

#[test]
fn no_plugin_depends_on_another_plugin_or_on_the_engine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let violations = violations(&metadata(root), root);
    assert!(violations.is_empty(), "plugin crates may depend only on bake-sdk and shared crates:\n{}", violations.join("\n"));
}

/// `bake_sdk::testing` (recorded UIs, journals under target/) is for tests:
/// only dev-dependencies may turn on the sdk's `testing` feature, so the
/// bake binary never carries it.
#[test]
fn only_dev_dependencies_enable_the_sdks_test_helpers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let metadata = metadata(root);
    let mut found = Vec::new();
    let mut dev_uses = 0;
    for package in metadata["packages"].as_array().expect("packages") {
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let enables_testing = dep["features"].as_array().into_iter().flatten().any(|f| f == "testing");
            if dep["name"] != "bake-sdk" || !enables_testing {
                continue;
            }
            match dep["kind"].as_str() {
                Some("dev") => dev_uses += 1,
                kind => found.push(format!("{} -> bake-sdk with \"testing\" as a {} dependency", package["name"], kind.unwrap_or("normal"))),
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(dev_uses > 0, "no crate's tests enable bake-sdk's testing feature: has it been renamed?");
}

fn metadata(root: &Path) -> Json {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// Every forbidden edge, as `FROM -> TO (why)`.
fn violations(metadata: &Json, root: &Path) -> Vec<String> {
    let packages = metadata["packages"].as_array().expect("packages");
    let is_plugin = |manifest: &str| {
        let rel = Path::new(manifest).strip_prefix(root).unwrap_or(Path::new(manifest));
        rel.components().next().is_some_and(|c| PLUGIN_DIRS.iter().any(|d| c.as_os_str() == *d))
    };
    let plugins: Vec<&str> =
        packages.iter().filter(|p| is_plugin(p["manifest_path"].as_str().unwrap_or_default())).map(|p| p["name"].as_str().unwrap_or_default()).collect();
    assert!(plugins.len() >= 4, "found too few plugin crates ({plugins:?}): is the layout the one this test expects?");
    let mut found = Vec::new();
    for package in packages.iter().filter(|p| is_plugin(p["manifest_path"].as_str().unwrap_or_default())) {
        let from = package["name"].as_str().unwrap_or_default();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let to = dep["name"].as_str().unwrap_or_default();
            if to == "bake" {
                found.push(format!("{from} -> {to} (the engine)"));
            } else if plugins.contains(&to) {
                found.push(format!("{from} -> {to} (another plugin)"));
            }
        }
    }
    found
}
