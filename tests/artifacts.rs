//! The artifacts that autoscaling groups and Terraform consume: artifice
//! chains, the manifest's `bake` section, the terraform post-processor,
//! `bake artifacts`, and the Terraform example.

mod util;
use serde_json::Value as Json;
use util::TestDir;

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// Entries of the manifest whose full build name is `name`.
fn entries<'a>(manifest: &'a Json, name: &str) -> Vec<&'a Json> {
    manifest["builds"].as_array().unwrap().iter().filter(|b| b["bake"]["build"] == name).collect()
}

const CHAINS: &str = r#"
source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }

build {
  name    = "app"
  sources = ["source.null.a", "source.null.b"]

  provisioner "shell-local" {
    inline = ["for i in 1 2 3 4 5; do echo $i-${source.name} > ${source.name}-$i.txt; done"]
  }

  # The first file becomes an intermediate artifact the second artifice
  # does not keep: it is removed.
  post-processors {
    post-processor "artifice" {
      files = ["${source.name}-1.txt"]
    }
    post-processor "artifice" {
      files               = ["${source.name}-2.txt"]
      keep_input_artifact = false
    }
    post-processor "manifest" {
      output = "first.json"
    }
  }

  # Here the intermediate one is kept (artifice keeps its input by default).
  post-processors {
    post-processor "artifice" {
      files = ["${source.name}-3.txt"]
    }
    post-processor "artifice" {
      files = ["${source.name}-4.txt"]
    }
  }

  # Fails for b only: b fails, a does not, and the next chain still runs.
  post-processor "artifice" {
    only  = ["null.b"]
    files = ["missing-${source.name}.txt"]
  }

  post-processors {
    post-processor "artifice" {
      except = ["null.a"]
      files  = ["${source.name}-5.txt"]
    }
    post-processor "manifest" {
      output = "after.json"
    }
  }
}
"#;

#[test]
fn artifice_chains_keep_remove_and_fail_alone() {
    let dir = TestDir::new("artifice-chains");
    dir.write("t.pkr.hcl", CHAINS);
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.failure()
        .contains("missing-b.txt\" does not exist")
        .lacks("missing-a.txt")
        .contains("Removed intermediate artifact file a-1.txt")
        .contains("Removed intermediate artifact file b-1.txt")
        .lacks("Removed intermediate artifact file a-3.txt");
    for s in ["a", "b"] {
        assert!(!dir.exists(&format!("{s}-1.txt")), "{s}-1.txt was an intermediate artifact not kept");
        for kept in [2, 3, 4, 5] {
            assert!(dir.exists(&format!("{s}-{kept}.txt")), "{s}-{kept}.txt is kept");
        }
    }

    let first = json(&dir.read("first.json"));
    for s in ["a", "b"] {
        let e = entries(&first, &format!("app.null.{s}"));
        assert_eq!(e.len(), 1, "{first:#}");
        assert_eq!(e[0]["builder_type"], "packer.post-processor.artifice");
        assert_eq!(e[0]["artifact_id"], format!("{s}-2.txt"));
        assert_eq!(e[0]["files"][0]["name"], format!("{s}-2.txt"));
        assert_eq!(e[0]["bake"]["files"][0]["sha256"], sha256sum(&dir.path.join(format!("{s}-2.txt"))));
        assert_eq!(e[0]["bake"]["files"][0]["size"], 4);
    }
    // The chain after the failing one ran for b; `except` left a out of its
    // artifice, so a's manifest entry is the builder's own artifact.
    let after = json(&dir.read("after.json"));
    assert_eq!(entries(&after, "app.null.b")[0]["files"][0]["name"], "b-5.txt");
    assert_eq!(entries(&after, "app.null.a")[0]["builder_type"], "null");
    // The summary lists each artifact once.
    let summary = &run.stdout[run.stdout.find("Builds finished").expect("summary")..];
    assert_eq!(summary.matches("Created artifact from files: a-2.txt").count(), 1, "{summary}");
}

#[test]
fn artifice_without_files_is_a_validation_error() {
    let dir = TestDir::new("artifice-nofiles");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  post-processor "artifice" {
    fils = ["x"]
  }
}
"#,
    );
    dir.bake(&["validate", "t.pkr.hcl"]).failure().contains("did you mean \"files\"?");
}

const PROVENANCE: &str = r#"
variable "token" {
  type      = string
  default   = "hunter2-very-secret"
  sensitive = true
}

variable "size" {
  type    = number
  default = 3
}

source "null" "disk" { communicator = "none" }

build {
  sources = ["source.null.disk"]
  provisioner "shell-local" {
    inline = ["echo image > web.qcow2"]
  }
  post-processors {
    post-processor "artifice" {
      files = ["web.qcow2"]
    }
    post-processor "manifest" {}
  }
}
"#;

#[test]
fn the_manifest_records_where_an_image_comes_from() {
    let dir = TestDir::new("manifest-extras");
    dir.write("t.pkr.hcl", PROVENANCE);
    dir.bake(&["build", "-var", "size=5", "t.pkr.hcl"]).success();
    let text = dir.read("packer-manifest.json");
    assert!(!text.contains("hunter2"), "{text}");
    let m = json(&text);
    let artifice = entries(&m, "null.disk").into_iter().find(|e| e["builder_type"] == "packer.post-processor.artifice").expect("artifice entry");
    // Packer's fields, unchanged.
    for key in ["name", "builder_type", "build_time", "files", "artifact_id", "packer_run_uuid"] {
        assert!(artifice.get(key).is_some(), "{key} missing: {artifice:#}");
    }
    assert_eq!(artifice["name"], "disk");
    let bake = &artifice["bake"];
    assert_eq!(bake["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(bake["build"], "null.disk");
    assert_eq!(bake["format"], "qcow2");
    assert_eq!(bake["region_images"], serde_json::json!({}));
    assert_eq!(bake["files"][0]["path"], "web.qcow2");
    assert_eq!(bake["files"][0]["size"], 6);
    assert_eq!(bake["files"][0]["sha256"], sha256sum(&dir.path.join("web.qcow2")));
    assert_eq!(bake["template"]["path"], "t.pkr.hcl");
    assert_eq!(bake["template"]["sha256"], sha256sum(&dir.path.join("t.pkr.hcl")));
    assert_eq!(bake["variables"]["token"], "<sensitive>");
    assert_eq!(bake["variables"]["size"], 5);
    assert!(bake["template"].get("git_commit").is_none(), "not in a repository: {bake:#}");
}

#[test]
fn the_manifest_records_the_git_commit_of_the_template() {
    let dir = TestDir::new("manifest-git");
    dir.write("tpl/t.pkr.hcl", PROVENANCE);
    dir.write("tpl/more.pkr.hcl", "variable \"more\" {\n  default = 1\n}\n");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=bake", "-c", "user.email=bake@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir.path.join("tpl"))
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "template"]);
    let head = git(&["rev-parse", "HEAD"]);
    dir.bake(&["build", "tpl"]).success();
    let m = json(&dir.read("packer-manifest.json"));
    let t = &m["builds"][0]["bake"]["template"];
    assert_eq!(t["git_commit"], head, "{m:#}");
    assert_eq!(t["git_dirty"], false, "{m:#}");
    assert_eq!(t["path"], "tpl");
    assert_eq!(t["files"][1]["sha256"], sha256sum(&dir.path.join("tpl/t.pkr.hcl")));
    // A directory's hash is that of its sha256sum listing.
    let listing = std::process::Command::new("sh").arg("-c").arg("sha256sum *.pkr.hcl | sha256sum").current_dir(dir.path.join("tpl")).output().unwrap();
    assert_eq!(t["sha256"], String::from_utf8_lossy(&listing.stdout).split_whitespace().next().unwrap());

    // An uncommitted change shows.
    dir.write("tpl/more.pkr.hcl", "variable \"more\" {\n  default = 2\n}\n");
    dir.bake(&["build", "tpl"]).success();
    let m = json(&dir.read("packer-manifest.json"));
    assert_eq!(m["builds"][1]["bake"]["template"]["git_dirty"], true, "{m:#}");
    assert_eq!(m["builds"][1]["bake"]["variables"]["more"], 2);
}

/// Three builds in each of two bakes running at once, all writing the same
/// manifest and Terraform file.
#[test]
fn concurrent_writers_lose_nothing() {
    let dir = TestDir::new("concurrent");
    let template = |tag: &str| {
        format!(
            r#"
source "null" "x" {{ communicator = "none" }}
build {{
  name    = "{tag}"
  sources = ["source.null.x"]
  source "null.x" {{ name = "y" }}
  source "null.x" {{ name = "z" }}
  post-processor "manifest" {{ output = "out/m.json" }}
  post-processor "terraform" {{ output = "out/images.auto.tfvars.json" }}
}}
"#
        )
    };
    dir.write("one/t.pkr.hcl", &template("one"));
    dir.write("two/t.pkr.hcl", &template("two"));
    let children: Vec<_> = ["one", "two"]
        .iter()
        .map(|t| dir.command(&["build", t], &[]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap())
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let m = json(&dir.read("out/m.json"));
    assert_eq!(m["builds"].as_array().unwrap().len(), 6, "{m:#}");
    let tf = json(&dir.read("out/images.auto.tfvars.json"));
    let mut names: Vec<&String> = tf["bake_images"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["one.null.x", "one.null.y", "one.null.z", "two.null.x", "two.null.y", "two.null.z"]);
}

#[test]
fn terraform_variables_have_one_shape_and_merge() {
    let dir = TestDir::new("terraform-pp");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "web" { communicator = "none" }
build {
  name    = "images"
  sources = ["source.null.web"]
  provisioner "shell-local" {
    inline = ["date +%N > web.qcow2"]
  }
  post-processors {
    post-processor "artifice" {
      files = ["web.qcow2"]
    }
    post-processor "terraform" {
      output        = "tf/images.auto.tfvars.json"
      variable_name = "images"
    }
  }
}
"#,
    );
    // Another variable and another build's entry are already there.
    dir.write("tf/images.auto.tfvars.json", r#"{ "other": 1, "images": { "images.null.old": { "artifact_id": "keep-me" } } }"#);
    dir.bake(&["build", "t.pkr.hcl"]).success();
    let tf = json(&dir.read("tf/images.auto.tfvars.json"));
    assert_eq!(tf["other"], 1);
    assert_eq!(tf["images"]["images.null.old"]["artifact_id"], "keep-me");
    let web = &tf["images"]["images.null.web"];
    let hash = sha256sum(&dir.path.join("web.qcow2"));
    assert_eq!(web["builder_type"], "packer.post-processor.artifice");
    assert_eq!(web["artifact_id"], "web.qcow2");
    assert_eq!(web["format"], "qcow2");
    assert_eq!(web["files"][0]["path"], "web.qcow2");
    assert_eq!(web["files"][0]["sha256"], hash);
    assert!(web["files"][0]["size"].as_u64().unwrap() > 0);
    assert_eq!(web["image"]["path"], "web.qcow2");
    assert_eq!(web["image"]["sha256"], hash);
    assert_eq!(web["amis"], serde_json::json!({}));
    assert_eq!(web["digest"], Json::Null);

    // A second run replaces the build's own entry and keeps the others.
    dir.bake(&["build", "t.pkr.hcl"]).success();
    let again = json(&dir.read("tf/images.auto.tfvars.json"));
    assert_eq!(again["images"].as_object().unwrap().len(), 2);
    assert_eq!(again["images"]["images.null.web"]["image"]["sha256"], sha256sum(&dir.path.join("web.qcow2")));
    assert_eq!(again["images"]["images.null.old"]["artifact_id"], "keep-me");
}

#[test]
fn terraform_options_are_checked() {
    let dir = TestDir::new("terraform-bad");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "web" { communicator = "none" }
build {
  sources = ["source.null.web"]
  post-processor "terraform" {
    variable_name = "1bad name"
  }
}
"#,
    );
    dir.bake(&["validate", "t.pkr.hcl"]).failure().contains("is not a Terraform variable name");
}

/// A manifest as two runs of bake (and one of Packer, for an AMI) left it.
const MANIFEST: &str = r#"{
  "builds": [
    { "name": "web", "builder_type": "qemu", "build_time": 1700000000, "files": [{ "name": "out/web.qcow2", "size": 10 }],
      "artifact_id": "VM", "packer_run_uuid": "run-1",
      "bake": { "build": "images.qemu.web", "format": "qcow2", "region_images": {},
                "files": [{ "path": "out/web.qcow2", "size": 10, "sha256": "aaaa" }], "template": { "git_commit": "c0ffee" } } },
    { "name": "ami", "builder_type": "amazon-ebs", "build_time": 1700000100, "files": [],
      "artifact_id": "us-east-1:ami-111,eu-west-1:ami-222", "packer_run_uuid": "run-1" },
    { "name": "web", "builder_type": "qemu", "build_time": 1700000200, "files": [{ "name": "out/web.qcow2", "size": 12 }],
      "artifact_id": "VM", "packer_run_uuid": "run-2",
      "bake": { "build": "images.qemu.web", "format": "qcow2", "region_images": {},
                "files": [{ "path": "out/web.qcow2", "size": 12, "sha256": "bbbb" }] } },
    { "name": "api", "builder_type": "amazon-ebs", "build_time": 1700000300, "files": [], "artifact_id": "",
      "packer_run_uuid": "run-2", "bake": { "build": "images.amazon-ebs.api", "region_images": { "us-east-1": "ami-333" } } }
  ],
  "last_run_uuid": "run-2"
}"#;

#[test]
fn bake_artifacts_reads_the_manifest() {
    let dir = TestDir::new("artifacts-cmd");
    dir.write("packer-manifest.json", MANIFEST);

    // The latest of each build, for people.
    let run = dir.bake(&["artifacts", "images.qemu.web"]);
    run.success().contains("images.qemu.web  qemu  VM").contains("sha256:bbbb").contains("run-2").lacks("aaaa").contains("2023-11-14");
    // By source name, or glob.
    dir.bake(&["artifacts", "web"]).success().contains("bbbb");
    let all = dir.bake(&["artifacts", "--json"]);
    let list = json(&all.success().stdout);
    let builds: Vec<&str> = list.as_array().unwrap().iter().map(|b| b["build"].as_str().unwrap()).collect();
    assert_eq!(builds, ["ami", "images.amazon-ebs.api", "images.qemu.web"]);
    assert_eq!(list[2]["files"][0]["sha256"], "bbbb");
    assert_eq!(list[0]["region_images"]["eu-west-1"], "ami-222");

    // The history, oldest first.
    let history = json(&dir.bake(&["artifacts", "*.web", "--history", "--json"]).success().stdout);
    let hashes: Vec<&str> = history.as_array().unwrap().iter().map(|b| b["files"][0]["sha256"].as_str().unwrap()).collect();
    assert_eq!(hashes, ["aaaa", "bbbb"]);
    dir.bake(&["artifacts", "web", "--history"]).success().contains("aaaa").contains("bbbb").contains("commit  c0ffee");

    // One image id, for scripts: bake's region map, or Packer's amazon id.
    assert_eq!(dir.bake(&["artifacts", "*api", "--region", "us-east-1"]).success().stdout, "ami-333\n");
    assert_eq!(dir.bake(&["artifacts", "ami", "--region", "eu-west-1"]).success().stdout, "ami-222\n");
    let both = dir.bake(&["artifacts", "--region", "us-east-1"]);
    both.success().contains("ami\tami-111").contains("images.amazon-ebs.api\tami-333");
    let j = json(&dir.bake(&["artifacts", "api", "--region", "us-east-1", "--json"]).success().stdout);
    assert_eq!(j[0]["image_id"], "ami-333");

    // Nothing matches: exit 1, and say what there is.
    dir.bake(&["artifacts", "nope*"]).failure().contains("no build in packer-manifest.json matches \"nope*\"").contains("images.qemu.web");
    dir.bake(&["artifacts", "web", "--region", "us-east-1"]).failure().contains("no artifact of a build matching \"web\" has an image in region us-east-1");
    dir.bake(&["artifacts", "--manifest", "nowhere.json"]).failure().contains("no manifest at nowhere.json");
}

#[test]
fn bake_artifacts_after_a_build() {
    let dir = TestDir::new("artifacts-build");
    dir.write("t.pkr.hcl", PROVENANCE);
    dir.bake(&["build", "t.pkr.hcl"]).success();
    let hash = sha256sum(&dir.path.join("web.qcow2"));
    dir.bake(&["artifacts", "null.disk"]).success().contains(&format!("web.qcow2  6 B  sha256:{hash}")).contains("format  qcow2");
}

/// The parsed `*.tf` files of a directory of the Terraform example.
fn terraform_module(rel: &str) -> Vec<bake_lang::ast::Block> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform").join(rel);
    let sources = bake_lang::SourceMap::new();
    let mut blocks = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tf")).collect();
    names.sort();
    assert!(!names.is_empty(), "no .tf file in {}", dir.display());
    for path in names {
        let id = sources.add(&path, std::fs::read_to_string(&path).unwrap());
        let body = bake_lang::parse::parse_file(&sources, id).unwrap_or_else(|d| panic!("{} does not parse: {}", path.display(), d.render(&sources)));
        blocks.extend(body.blocks);
    }
    blocks
}

fn labels(b: &bake_lang::ast::Block) -> Vec<&str> {
    b.labels.iter().map(|l| l.value.as_str()).collect()
}

#[test]
fn the_terraform_example_rolls_an_autoscaling_group() {
    let root = terraform_module("");
    let find =
        |kind: &str, l: &[&str]| root.iter().find(|b| b.kind == kind && labels(b) == l).unwrap_or_else(|| panic!("no {kind} {l:?} in examples/terraform"));
    let images = find("module", &["images"]);
    for arg in ["source", "manifest_path", "build", "region"] {
        assert!(images.body.attribute(arg).is_some(), "module images lacks {arg}");
    }
    find("resource", &["aws_launch_template", "this"]).body.attribute("image_id").expect("the launch template's image_id");
    let asg = find("resource", &["aws_autoscaling_group", "this"]);
    let refresh = asg.body.blocks_of("instance_refresh").next().expect("an instance_refresh block");
    assert!(refresh.body.attribute("strategy").is_some());
    assert!(asg.body.blocks_of("launch_template").next().is_some());
    for v in ["region", "manifest_path", "build", "subnet_ids"] {
        find("variable", &[v]);
    }
    // The images module is locals and outputs only: it runs with no provider.
    let sub = terraform_module("images");
    for b in &sub {
        assert!(["terraform", "locals", "variable", "output"].contains(&b.kind.as_str()), "images/ has a {} block", b.kind);
    }
    for o in ["image_id", "region_images", "artifact_id", "format", "files"] {
        assert!(sub.iter().any(|b| b.kind == "output" && labels(b) == [o]), "images/ has no output {o}");
    }
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform/README.md")).unwrap();
    assert!(readme.contains("instance_refresh"));
}

#[test]
fn terraform_reads_the_manifest_through_the_images_module() {
    let has_terraform = std::process::Command::new("terraform")
        .arg("version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_terraform {
        println!("skipped: no terraform binary");
        return;
    }
    let dir = TestDir::new("terraform-module");
    dir.write("t.pkr.hcl", PROVENANCE);
    dir.bake(&["build", "t.pkr.hcl"]).success();
    // A Packer-written AMI entry beside bake's own.
    let mut m = json(&dir.read("packer-manifest.json"));
    m["builds"].as_array_mut().unwrap().push(serde_json::json!({
        "name": "ami", "builder_type": "amazon-ebs", "build_time": 1, "files": [],
        "artifact_id": "us-east-1:ami-111,eu-west-1:ami-222", "packer_run_uuid": "r"
    }));
    dir.write("packer-manifest.json", &serde_json::to_string(&m).unwrap());
    dir.copy_from(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform/images"));
    let manifest = dir.path.join("packer-manifest.json");
    let terraform = |args: &[&str]| {
        let out = std::process::Command::new("terraform")
            .args(args)
            .current_dir(&dir.path)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .output()
            .expect("run terraform");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // The root module (which needs the AWS provider) is at least well
    // formed in Terraform's own parser.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform");
    let fmt = std::process::Command::new("terraform").args(["fmt", "-check", "-recursive", "-no-color"]).arg(&example).output().unwrap();
    assert!(fmt.status.success(), "terraform fmt -check: {}", String::from_utf8_lossy(&fmt.stderr));
    let (ok, out, err) = terraform(&["init", "-no-color", "-backend=false"]);
    assert!(ok, "terraform init: {out}{err}");
    let manifest_var = format!("manifest_path={}", manifest.display());
    let apply = |vars: &[&str]| {
        let mut args = vec!["apply", "-auto-approve", "-no-color", "-var", &manifest_var];
        for v in vars {
            args.extend(["-var", v]);
        }
        terraform(&args)
    };
    let (ok, out, err) = apply(&["build=null.disk"]);
    assert!(ok, "terraform apply: {out}{err}");
    let (_, outputs, _) = terraform(&["output", "-json"]);
    let outputs = json(&outputs);
    assert_eq!(outputs["image_id"]["value"], "web.qcow2");
    assert_eq!(outputs["format"]["value"], "qcow2");
    assert_eq!(outputs["files"]["value"][0]["sha256"], sha256sum(&dir.path.join("web.qcow2")));

    let (ok, out, err) = apply(&["build=ami", "region=eu-west-1"]);
    assert!(ok, "terraform apply: {out}{err}");
    assert_eq!(json(&terraform(&["output", "-json"]).1)["image_id"]["value"], "ami-222");

    let (ok, out, err) = apply(&["build=nothing"]);
    assert!(!ok && err.contains("no build named \"nothing\""), "{out}{err}");
}
