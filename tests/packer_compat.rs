//! Templates written as real Packer templates are: the forms Packer accepts
//! beyond bake's own style (`tests/corpus/compat/`), through the real binary.
//! The invalid forms, each at its `file:line:col`, are in
//! `tests/corpus/invalid/` (see `tests/invalid_templates.rs`).

mod util;
use util::{corpus, inspect_json, set, TestDir};

fn compat(file: &str) -> TestDir {
    let dir = TestDir::new(&format!("compat-{}", file.trim_end_matches(".pkr.hcl")));
    std::fs::copy(corpus(&format!("compat/{file}")), dir.path.join(file)).expect("copy fixture");
    dir
}

#[test]
fn source_references_take_the_last_two_parts_as_type_and_name() {
    let dir = compat("references.pkr.hcl");
    let run = dir.bake(&["build", "-color=false", "references.pkr.hcl"]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["null.a", "null.b", "null.c", "null.a-again"]), "{}", run.all());
    for name in ["a", "b", "c", "a-again"] {
        assert!(run.lines_of(&format!("null.{name}")).contains(&format!("built null.{name}").as_str()), "null.{name}:\n{}", run.all());
    }
}

#[test]
fn meta_arguments_are_evaluated_with_variables_and_locals() {
    let dir = compat("meta.pkr.hcl");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "meta.pkr.hcl"]));
    let build = &report["builds"][0];
    assert_eq!(build["name"], "images");
    assert_eq!(build["sources"], serde_json::json!(["null.linux", "null.windows"]));
    assert_eq!(build["provisioners"][0]["name"], "greet-images");
    assert_eq!(build["provisioners"][0]["except"], serde_json::json!(["null.windows"]));
    assert_eq!(build["provisioners"][1]["only"], serde_json::json!([]));

    let run = dir.bake(&["build", "-color=false", "meta.pkr.hcl"]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["images.null.linux", "images.null.windows"]), "{}", run.all());
    let linux = run.lines_of("images.null.linux");
    let windows = run.lines_of("images.null.windows");
    // `except = var.is_windows ? [] : ["null.windows"]` with is_windows false.
    assert!(linux.contains(&"greeting linux"), "{linux:?}");
    assert!(!windows.iter().any(|l| l.starts_with("greeting")), "{windows:?}");
    // `only = null` and `except = null` are not set: the step runs everywhere.
    assert!(linux.contains(&"everywhere linux") && windows.contains(&"everywhere windows"));
    // The provisioner's name from a local is what the step is called.
    assert!(run.all().contains("Provisioning with greet-images"), "{}", run.all());
    // A post-processor sees the builder's generated values, as provisioners
    // do, and `only` from a local keeps it to one source.
    let reported: Vec<&&str> = linux.iter().filter(|l| l.starts_with("post-processed")).collect();
    assert_eq!(reported.len(), 1, "{linux:?}");
    assert!(reported[0].starts_with("post-processed linux id=Null run="), "{reported:?}");
    assert!(!reported[0].contains("<build."), "a placeholder leaked: {reported:?}");
    assert!(!windows.iter().any(|l| l.starts_with("post-processed")), "{windows:?}");

    // The same variables, given: is_windows turns the except off.
    let run = dir.bake(&["build", "-color=false", "-var", "is_windows=true", "-var", "build_name=win", "meta.pkr.hcl"]);
    run.success();
    assert!(run.lines_of("win.null.windows").contains(&"greeting windows"), "{}", run.all());
}

#[test]
fn dynamic_source_blocks_expand_to_one_build_per_element() {
    let dir = compat("dynamic.pkr.hcl");
    let run = dir.bake(&["build", "-color=false", "dynamic.pkr.hcl"]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["null.base-large", "null.base-small"]), "{}", run.all());
    assert!(run.lines_of("null.base-small").contains(&"flavour base-small"), "{}", run.all());
}

#[test]
fn except_on_a_post_processor_drops_it_and_the_rest_of_its_chain() {
    let dir = compat("chain.pkr.hcl");
    let run = dir.bake(&["build", "-color=false", "chain.pkr.hcl"]);
    run.success().contains("ran-first").contains("ran-second").contains("ran-third").contains("ran-alone");

    let run = dir.bake(&["build", "-color=false", "-except", "second", "chain.pkr.hcl"]);
    run.success().contains("ran-first").lacks("ran-second").lacks("ran-third").contains("ran-alone");
    // The build itself was not excluded.
    assert_eq!(run.finished_builds(), set(&["null.a"]), "{}", run.all());

    let run = dir.bake(&["build", "-color=false", "-except", "alone", "chain.pkr.hcl"]);
    run.success().contains("ran-third").lacks("ran-alone");
}

#[test]
fn blocks_versions_and_unavailable_builders_that_packer_accepts() {
    let dir = compat("blocks.pkr.hcl");
    // The desktops build uses a builder bake does not have: selected, it is
    // an error at its type.
    dir.bake(&["validate", "blocks.pkr.hcl"]).failure().contains("blocks.pkr.hcl:27:8").contains("virtualbox-iso");

    let run = dir.bake(&["validate", "-only", "servers.*", "blocks.pkr.hcl"]);
    run.success().contains("The configuration is valid.");
    let all = run.all();
    assert_eq!(all.matches("bake has no builder \"virtualbox-iso\"").count(), 1, "one warning for the type:\n{all}");
    assert_eq!(all.matches("bake publishes nothing to HCP Packer").count(), 1, "one warning for both hcp_packer_registry blocks:\n{all}");

    // An untyped variable takes its default's type: a -var value is HCL.
    let run = dir.bake(&["build", "-color=false", "-only", "servers.*", "-var", "tags={ env = \"prod\" }", "blocks.pkr.hcl"]);
    run.success();
    assert!(run.lines_of("servers.null.server").contains(&"env=prod packer=1.14.3"), "{}", run.all());
    dir.bake(&["validate", "-except", "desktops.*", "blocks.pkr.hcl"]).success();
}

#[test]
fn inspect_shows_unset_variables_and_what_follows_from_them_as_unknown() {
    let dir = compat("unset.pkr.hcl");
    let run = dir.bake(&["inspect", "unset.pkr.hcl"]);
    run.success().contains("var.region: <unknown>").contains("local.where: <unknown>").contains("local.twice: 4").contains("var.size: 2");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "unset.pkr.hcl"]));
    assert_eq!(report["variables"]["region"]["unknown"], true);
    assert_eq!(report["locals"]["where"]["value"], "<unknown>");
    assert_eq!(report["locals"]["twice"]["value"], 4);
    // Only inspect is lenient: validate needs the value.
    dir.bake(&["validate", "unset.pkr.hcl"]).failure().contains("unset.pkr.hcl:3:10").contains("has no default and no value was given");
    dir.bake(&["validate", "-var", "region=eu", "unset.pkr.hcl"]).success();
}
