//! Realistic templates from `tests/corpus/templates/`, through the real
//! binary: a single file, a directory with auto var files, several sources
//! and builds with overrides and `only` / `except`, dynamic blocks, JSON
//! syntax, references to the build and source, and `inspect --json`.

mod util;
use serde_json::{json, Value as Json};
use util::{corpus, inspect_json, set, TestDir};

fn template(name: &str) -> TestDir {
    let dir = TestDir::new(&format!("templates-{name}"));
    dir.copy_from(&corpus(&format!("templates/{name}")));
    dir
}

#[test]
fn a_single_file_template_builds_every_source_and_runs_its_chains() {
    let dir = template("single");
    let run = dir.bake(&["build", "-color=false", "web.pkr.hcl"]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["web.null.canary", "web.null.web"]));
    for build in ["web.null.web", "web.null.canary"] {
        let lines = run.lines_of(build);
        let source = build.rsplit('.').next().unwrap();
        let expected = [format!("building web-1-4-2 on {source}"), "install nginx".into(), "install curl".into()];
        for e in &expected {
            assert!(lines.contains(&e.as_str()), "{build} lacks {e:?}: {lines:?}");
        }
        // The chain runs in order, after the provisioners.
        let first = lines.iter().position(|l| *l == format!("first in chain for {source}")).expect("first");
        let second = lines.iter().position(|l| *l == format!("second in chain for {source}")).expect("second");
        assert!(first < second);
        assert_eq!(dir.read(&format!("motd-{source}.txt")), "Welcome to web-1-4-2\nPackages: nginx, curl\n");
    }
    let manifest: Json = serde_json::from_str(&dir.read("out/manifest.json")).unwrap();
    let mut names: Vec<&str> = manifest["builds"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["canary", "web"]);
    assert_eq!(manifest["builds"][0]["custom_data"], json!({ "version": "1.4.2", "image": "web-1-4-2" }));

    let text = dir.bake(&["inspect", "web.pkr.hcl"]);
    text.success()
        .contains("var.app_version: \"1.4.2\"")
        .contains("local.image_name: \"web-1-4-2\"")
        .contains("  > web:")
        .contains("      null.canary")
        .contains("      0:\n        manifest")
        .contains("      1:\n        shell-local -> shell-local");
}

#[test]
fn a_directory_template_merges_its_files_and_reads_auto_var_files() {
    let dir = template("directory");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "."]));
    let var = |n: &str| report["variables"][n]["value"].clone();
    assert_eq!(var("region"), json!("us-east-2"));
    assert_eq!(var("environment"), json!("staging"));
    assert_eq!(var("instance"), json!({ "size": "large", "disks": [20, 30] }));
    assert_eq!(report["variables"]["region"]["origin"], json!("region.auto.pkrvars.json"));
    assert_eq!(report["locals"]["name_prefix"]["value"], json!("staging-us-east-2"));
    assert_eq!(report["locals"]["total_disk"]["value"], json!(50));
    assert_eq!(report["locals"]["tags"]["value"]["root"], json!("."));

    // A -var-file beats the auto var files; the build sees the result.
    let run = dir.bake(&["build", "-color=false", "-var-file=production.pkrvars.hcl", "."]);
    run.success();
    assert_eq!(run.lines_of("platform.null.base"), ["production-us-east-2 large 50GB {\"environment\":\"production\",\"root\":\".\",\"size\":\"large\"}"]);

    // Validation applies to the auto var files' values too.
    dir.write("region.auto.pkrvars.json", "{ \"region\": \"moon\" }");
    dir.bake(&["validate", "."]).failure().contains("The region must look like eu-west-1.").contains("variables.pkr.hcl:6:21");
}

#[test]
fn nested_source_blocks_rename_and_provisioners_choose_their_sources() {
    let dir = template("multi-source");
    let run = dir.bake(&["build", "-color=false", "main.pkr.hcl"]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["app.null.debian", "app.null.ubuntu", "app.null.ubuntu-canary", "db.null.debian"]));
    assert_eq!(run.lines_of("app.null.ubuntu"), ["common on null.ubuntu in app", "except-debian on ubuntu", "default-step on ubuntu", "post-processed ubuntu"]);
    assert_eq!(
        run.lines_of("app.null.ubuntu-canary"),
        ["common on null.ubuntu-canary in app", "only-canary on ubuntu-canary", "except-debian on ubuntu-canary", "canary-step on ubuntu-canary"]
    );
    assert_eq!(run.lines_of("app.null.debian"), ["common on null.debian in app", "debian-step on debian", "post-processed debian"]);
    assert_eq!(run.lines_of("db.null.debian"), ["db on debian"]);

    let report = inspect_json(&dir.bake(&["inspect", "--json", "main.pkr.hcl"]));
    assert_eq!(report["builds"][0]["sources"], json!(["null.ubuntu", "null.debian", "null.ubuntu-canary"]));
    assert_eq!(report["builds"][0]["provisioners"][1], json!({ "type": "shell-local", "name": null, "only": ["null.ubuntu-canary"], "except": [] }));
}

#[test]
fn only_and_except_select_builds_by_glob() {
    let dir = template("multi-source");
    let all = ["app.null.debian", "app.null.ubuntu", "app.null.ubuntu-canary", "db.null.debian"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["-only=app.*"], &["app.null.debian", "app.null.ubuntu", "app.null.ubuntu-canary"]),
        (&["-only=*.null.debian"], &["app.null.debian", "db.null.debian"]),
        (&["-only=app.null.ubuntu"], &["app.null.ubuntu"]),
        (&["-only=db.*,app.null.ubuntu-canary"], &["app.null.ubuntu-canary", "db.null.debian"]),
        (&["-only=*ubuntu*"], &["app.null.ubuntu", "app.null.ubuntu-canary"]),
        (&["-except=app.*"], &["db.null.debian"]),
        (&["-except=*.null.ubuntu*", "-except=db.*"], &["app.null.debian"]),
        (&["--except", "*canary"], &["app.null.debian", "app.null.ubuntu", "db.null.debian"]),
        (&["-only=app.*", "-except=*.debian"], &["app.null.ubuntu", "app.null.ubuntu-canary"]),
        (&[], &all),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["build", "-color=false"];
        args.extend_from_slice(flags);
        args.push("main.pkr.hcl");
        let run = dir.bake(&args);
        run.success();
        assert_eq!(run.finished_builds(), set(expected), "{flags:?}");
    }
    // Selecting nothing is an error, not a silent success.
    dir.bake(&["build", "-only=web.*", "main.pkr.hcl"]).failure().contains("no build matches -only / -except");
    // validate checks only the selected builds.
    dir.bake(&["validate", "-only=db.*", "main.pkr.hcl"]).success().contains("The configuration is valid.");
}

#[test]
fn dynamic_blocks_expand_in_plugin_configuration() {
    let dir = template("dynamic");
    // No element, no block: valid.
    dir.bake(&["validate", "main.pkr.hcl"]).success();
    // Each element makes a "disk" block, which the null builder refuses by
    // name, at the dynamic block that generated it.
    let run = dir.bake(&["validate", "-var", r#"disks=[{ name = "root", size = 10 }, { name = "data", size = 100 }]"#, "main.pkr.hcl"]);
    run.failure()
        .contains("Error: Unsupported block type")
        .contains("Blocks of type \"disk\" are not expected in source \"null.vm\".")
        .contains("main.pkr.hcl:16:3");

    // The iterator, the labels and a nested dynamic block are evaluated for
    // each element: mistakes inside them point into the content.
    let text = std::fs::read_to_string(corpus("templates/dynamic/main.pkr.hcl")).unwrap();
    dir.write("bad.pkr.hcl", &text.replace("owner  = d.value.name", "owner  = d.value.owner"));
    dir.bake(&["validate", "-var", r#"disks=[{ name = "root", size = 10 }]"#, "bad.pkr.hcl"])
        .failure()
        .contains("Error: Unsupported attribute")
        .contains("bad.pkr.hcl:29:28")
        .contains("This object d.value does not have an attribute named \"owner\".");
    dir.write("bad.pkr.hcl", &text.replace("labels   = [d.value.name]", "labels   = d.value.name"));
    dir.bake(&["validate", "-var", r#"disks=[{ name = "root", size = 10 }]"#, "bad.pkr.hcl"])
        .failure()
        .contains("labels must be a list of strings")
        .contains("bad.pkr.hcl:19:16");
    dir.write("bad.pkr.hcl", &text.replace("for_each = var.disks", "for_each = 3"));
    dir.bake(&["validate", "bad.pkr.hcl"]).failure().contains("Cannot use a number value in for_each").contains("bad.pkr.hcl:17:16");
}

#[test]
fn json_templates_build_like_hcl_ones() {
    let dir = template("json");
    let run = dir.bake(&["build", "-color=false", "."]);
    run.success();
    assert_eq!(run.finished_builds(), set(&["j.null.first", "j.null.second"]));
    assert_eq!(run.lines_of("j.null.first"), ["hello from auto-json on first"]);
    assert_eq!(run.lines_of("j.null.second"), ["hello from auto-json on second", "only-second"]);
    let manifest: Json = serde_json::from_str(&dir.read("manifest.json")).unwrap();
    assert_eq!(manifest["builds"][0]["custom_data"], json!({ "who": "auto-json" }));
    // The file alone: no auto var files.
    let report = inspect_json(&dir.bake(&["inspect", "--json", "main.pkr.json"]));
    assert_eq!(report["locals"]["greeting"]["value"], json!("hello from json"));
    assert_eq!(report["builds"][0]["post_processors"], json!([[{ "type": "manifest", "name": null, "keep_input_artifact": null }]]));
}

#[test]
fn build_source_path_and_packer_references() {
    let dir = TestDir::new("templates-refs");
    dir.write(
        "tpl/t.pkr.hcl",
        r#"
source "null" "ref" {
  communicator = "none"
}

build {
  name    = "refs"
  sources = ["source.null.ref"]

  provisioner "shell-local" {
    inline = [
      "echo build.name=${build.name}",
      "echo source=${source.type}/${source.name}",
      "echo run=${build.PackerRunUUID}",
      "echo env-run=$PACKER_RUN_UUID",
      "echo root=${path.root}",
      "echo cwd-is-here=${path.cwd == abspath(".")}",
      "echo packer=${packer.version}",
    ]
  }

  post-processor "manifest" {
    output = "m.json"
  }
}
"#,
    );
    let run = dir.bake(&["build", "-color=false", "tpl/t.pkr.hcl"]);
    run.success();
    let lines = run.lines_of("refs.null.ref");
    let manifest: Json = serde_json::from_str(&dir.read("m.json")).unwrap();
    let uuid = manifest["last_run_uuid"].as_str().unwrap();
    assert_eq!(
        lines,
        [
            "build.name=refs".to_string(),
            "source=null/ref".into(),
            format!("run={uuid}"),
            format!("env-run={uuid}"),
            "root=tpl".into(),
            "cwd-is-here=true".into(),
            "packer=1.14.3".into(),
        ]
    );
}

#[test]
fn inspect_json_has_a_stable_shape() {
    let dir = TestDir::new("templates-inspect");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "size" {
  type        = number
  default     = 10
  description = "Disk size in GB."
}

locals {
  doubled = var.size * 2
}

source "null" "a" {
  communicator = "none"
}

build {
  name        = "b"
  description = "an example"
  sources     = ["source.null.a"]

  provisioner "shell-local" {
    name   = "first"
    except = ["null.x"]
    inline = ["true"]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["true"]
  }

  post-processors {
    post-processor "manifest" {
      keep_input_artifact = true
    }
    post-processor "shell-local" {
      name   = "announce"
      inline = ["true"]
    }
  }
}
"#,
    );
    let report = inspect_json(&dir.bake(&["inspect", "--json", "-var", "size=21", "t.pkr.hcl"]));
    assert_eq!(
        report,
        json!({
            "variables": {
                "size": { "value": 21, "type": "number", "sensitive": false, "unknown": false, "description": "Disk size in GB.", "origin": "-var size" }
            },
            "locals": { "doubled": { "value": 42, "sensitive": false, "unknown": false } },
            "sources": [{ "type": "null", "name": "a" }],
            "builds": [{
                "name": "b",
                "description": "an example",
                "sources": ["null.a"],
                "provisioners": [{ "type": "shell-local", "name": "first", "only": [], "except": ["null.x"] }],
                "error_cleanup_provisioner": "shell-local",
                "post_processors": [[
                    { "type": "manifest", "name": null, "keep_input_artifact": true },
                    { "type": "shell-local", "name": "announce", "keep_input_artifact": null }
                ]]
            }]
        })
    );
    // Closing stdout early is not an error worth a panic.
    let mut child =
        dir.command(&["inspect", "--json", "t.pkr.hcl"], &[]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// Many builds running shell-local scripts at once: writing one script
/// while another build forks must never make executing it fail with
/// "Text file busy".
#[test]
fn concurrent_shell_local_builds_never_hit_text_file_busy() {
    let dir = TestDir::new("templates-concurrent");
    let sources: String = (0..16).map(|i| format!("source \"null\" \"s{i}\" {{\n  communicator = \"none\"\n}}\n")).collect();
    let names: Vec<String> = (0..16).map(|i| format!("\"source.null.s{i}\"")).collect();
    let provisioners: String =
        (0..8).map(|p| format!("  provisioner \"shell-local\" {{\n    inline = [\"echo step-{p} on ${{source.name}}\"]\n  }}\n")).collect();
    dir.write("t.pkr.hcl", &format!("{sources}\nbuild {{\n  sources = [{}]\n{provisioners}}}\n", names.join(", ")));
    for _ in 0..3 {
        let run = dir.bake(&["build", "-color=false", "-parallel-builds=0", "t.pkr.hcl"]);
        run.success().lacks("Text file busy");
        assert_eq!(run.stdout.matches(": step-").count(), 16 * 8);
    }
}
