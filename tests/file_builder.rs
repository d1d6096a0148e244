//! The file builder and the null data source through the real binary, with
//! the `file` starter template (`bake init --template file`) and
//! `examples/file.pkr.hcl`.

mod util;
use std::path::Path;
use std::process::Command;
use util::TestDir;

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn tool(dir: &TestDir, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).current_dir(&dir.path).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TEMPLATE: &str = r#"
data "null" "greeting" {
  input = "hello"
}

locals {
  text = "${data.null.greeting.output} world"
}

source "file" "text" {
  content = "${local.text}\n"
  target  = "out/deep/dir/text.txt"
}

source "file" "copy" {
  source = "blob.bin"
  target = "out/blob.bin"
}

build {
  sources = ["source.file.text", "source.file.copy"]

  provisioner "shell-local" {
    inline = ["echo provisioned: $(wc -c < ${source.name == "text" ? "out/deep/dir/text.txt" : "out/blob.bin"}) bytes"]
  }

  post-processor "manifest" {
    output = "out/manifest.json"
  }
}
"#;

#[test]
fn content_and_source_make_artifacts_and_data_null_feeds_a_local() {
    let dir = TestDir::new("file-builder");
    dir.write("t.pkr.hcl", TEMPLATE);
    tool(&dir, "sh", &["-c", "head -c 3000000 /dev/urandom > blob.bin"]);
    // The data source's value is known at validate time already.
    let inspect = dir.bake(&["inspect", "t.pkr.hcl"]);
    inspect.success().contains("hello world");
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success()
        // The provisioners run once the file exists.
        .contains("file.text: provisioned: 12 bytes")
        .contains("file.copy: provisioned: 3000000 bytes")
        .contains("Copying blob.bin to out/blob.bin");
    assert_eq!(dir.read("out/deep/dir/text.txt"), "hello world\n");
    assert_eq!(std::fs::read(dir.path.join("out/blob.bin")).unwrap(), std::fs::read(dir.path.join("blob.bin")).unwrap());
    let manifest: serde_json::Value = serde_json::from_str(&dir.read("out/manifest.json")).unwrap();
    for b in manifest["builds"].as_array().unwrap() {
        assert_eq!(b["builder_type"], "file");
        assert_eq!(b["artifact_id"], "File");
        let want = if b["name"] == "text" { "out/deep/dir/text.txt" } else { "out/blob.bin" };
        assert_eq!(b["files"][0]["name"], want, "{b}");
    }
    // Nothing else was written beside the targets.
    let mut out: Vec<String> = std::fs::read_dir(dir.path.join("out")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    out.sort();
    assert_eq!(out, ["blob.bin", "deep", "manifest.json"]);
}

#[test]
fn mistakes_are_reported_at_their_lines() {
    let dir = TestDir::new("file-builder-errors");
    dir.write(
        "t.pkr.hcl",
        r#"
data "null" "empty" {
  input = ""
}

source "file" "both" {
  source  = "t.pkr.hcl"
  content = "text"
  target  = "out/both"
}

source "file" "missing" {
  source = "no/such/file.txt"
  target = "out/missing"
}

build {
  sources = ["source.file.both", "source.file.missing"]
}
"#,
    );
    dir.bake(&["validate", "t.pkr.hcl"]).failure().contains("t.pkr.hcl:3:11").contains("must be specified");
    dir.write("t.pkr.hcl", &dir.read("t.pkr.hcl").replace("input = \"\"", "input = \"x\""));
    dir.bake(&["validate", "t.pkr.hcl"])
        .failure()
        .contains("t.pkr.hcl:8:13")
        .contains("cannot take both source and content")
        .contains("t.pkr.hcl:13:12")
        .contains("\"no/such/file.txt\"");
    dir.bake(&["build", "t.pkr.hcl"]).failure();
    assert!(!dir.exists("out"), "a template that does not validate builds nothing");
}

#[test]
fn neither_source_nor_content_makes_an_empty_file_as_in_packer() {
    let dir = TestDir::new("file-builder-empty");
    dir.write("t.pkr.hcl", "source \"file\" \"e\" {\n  target = \"out/empty\"\n}\n\nbuild {\n  sources = [\"source.file.e\"]\n}\n");
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success().contains("Both source file and contents are blank; out/empty will have no content");
    assert_eq!(std::fs::metadata(dir.path.join("out/empty")).unwrap().len(), 0);
}

#[test]
fn the_starter_template_and_the_example_build() {
    let dir = TestDir::new("file-init");
    dir.bake(&["init", "--list"]).success().contains("file ");
    dir.bake(&["init", "--template", "file", "."]).success();
    assert_eq!(dir.read("file.pkr.hcl"), std::fs::read_to_string(repo("templates/file.pkr.hcl")).unwrap());
    dir.bake(&["build", "-color=false", "file.pkr.hcl"]).success();
    assert_eq!(dir.read("output/motd.txt"), "hello from bake\n");
    let sums = dir.read("output/example.sha256");
    assert!(sums.ends_with("\tmotd.txt\n"), "{sums:?}");
    assert_eq!(tool(&dir, "sh", &["-c", "cd output && sed 's/\\t/  /' example.sha256 | sha256sum -c"]), "motd.txt: OK\n");

    let example = repo("examples/file.pkr.hcl");
    dir.bake(&["validate", example.to_str().unwrap()]).success();
    dir.bake(&["build", "-color=false", example.to_str().unwrap()]).success();
    let out = |rel: &str| format!("output/file/{rel}");
    assert_eq!(tool(&dir, "tar", &["-tzf", &out("notes.tar.gz")]), "NOTES.txt\n");
    assert!(dir.read(&out("NOTES.txt")).starts_with("Release 2026.12:"));
    assert_eq!(std::fs::read(dir.path.join(out("index.html"))).unwrap(), std::fs::read(repo("examples/web/index.html")).unwrap());
    assert_eq!(tool(&dir, "sh", &["-c", "cd output/file && sed 's/\\t/  /' page.sha256 | sha256sum -c"]), "page.tar.gz: OK\n");
    // The file builder's artifact makes a box for Packer's `file` provider.
    assert_eq!(tool(&dir, "tar", &["-tzf", &out("page-file.box")]), "metadata.json\nVagrantfile\nindex.html\n");
    let metadata: serde_json::Value = serde_json::from_str(&tool(&dir, "tar", &["-xzOf", &out("page-file.box"), "metadata.json"])).unwrap();
    assert_eq!(metadata["provider"], "file");
}
