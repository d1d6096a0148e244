//! End-to-end builds with the null builder, shell-local and manifest.

mod util;
use util::TestDir;

const TEMPLATE: &str = r#"
variable "token" {
  type      = string
  default   = "hunter2-very-secret"
  sensitive = true
}

source "null" "a" {
  communicator = "none"
}

build {
  name = "app"
  sources = ["source.null.a"]

  source "null.a" {
    name = "b"
  }

  provisioner "shell-local" {
    environment_vars = ["TOKEN=${var.token}", "WHO=${source.name}"]
    inline = [
      "echo hello from $WHO",
      "echo token=$TOKEN",
      "echo to-stderr >&2",
    ]
  }

  provisioner "shell-local" {
    only   = ["null.b"]
    inline = ["echo only-on-b"]
  }

  post-processor "manifest" {
    output = "out/manifest.json"
    custom_data = {
      team = "images"
    }
  }
}
"#;

#[test]
fn builds_run_provisioners_and_write_the_manifest() {
    let dir = TestDir::new("null-build");
    dir.write("t.pkr.hcl", TEMPLATE);
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success()
        .contains("app.null.a: hello from a")
        .contains("app.null.b: hello from b")
        .contains("to-stderr")
        .contains("token=<sensitive>")
        .lacks("hunter2-very-secret")
        .contains("Builds finished");
    // `only` restricts the second provisioner to the renamed source.
    assert_eq!(run.all().matches("only-on-b").count(), 1, "{}", run.all());

    let manifest: serde_json::Value = serde_json::from_str(&dir.read("out/manifest.json")).unwrap();
    let builds = manifest["builds"].as_array().unwrap();
    let mut names: Vec<&str> = builds.iter().map(|b| b["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["a", "b"], "both concurrent builds are in the manifest");
    for b in builds {
        assert_eq!(b["builder_type"], "null");
        assert_eq!(b["artifact_id"], "Null");
        assert_eq!(b["custom_data"]["team"], "images");
        assert_eq!(b["packer_run_uuid"], manifest["last_run_uuid"]);
    }
    assert!(!dir.read("out/manifest.json").contains("hunter2"));

    // A second run appends; last_run_uuid moves on.
    dir.bake(&["build", "-only=app.null.a", "t.pkr.hcl"]).success();
    let again: serde_json::Value = serde_json::from_str(&dir.read("out/manifest.json")).unwrap();
    assert_eq!(again["builds"].as_array().unwrap().len(), 3);
    assert_ne!(again["last_run_uuid"], manifest["last_run_uuid"]);
}

/// Two builds, `null.good` and `null.bad`, whose provisioner prints a line
/// and then fails on bad with "boom" on stderr; `more` goes in the build.
fn good_and_bad(more: &str) -> String {
    r#"
source "null" "good" { communicator = "none" }
source "null" "bad" { communicator = "none" }
build {
  sources = ["source.null.good", "source.null.bad"]
  provisioner "shell-local" {
    inline = ["echo running on ${source.name}", "test ${source.name} = good || { echo boom >&2; exit 7; }"]
  }
  MORE
}
"#
    .replace("MORE", more)
}

#[test]
fn a_failing_provisioner_fails_its_build_but_not_the_others() {
    let dir = TestDir::new("null-fail");
    dir.write("t.pkr.hcl", &good_and_bad(r#"error-cleanup-provisioner "shell-local" { inline = ["echo cleaning up after ${source.name}"] }"#));
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.failure()
        .contains("null.bad: boom")
        .contains("Erroneous exit code 7")
        .contains("cleaning up after bad")
        .lacks("cleaning up after good")
        .contains("--> null.good");
}

/// As Packer's: progress and the summary on stdout, errors on stderr, so
/// that `bake build t.pkr.hcl > build.log` keeps the log and still shows
/// what went wrong; with `-machine-readable`, only records on stdout.
#[test]
fn progress_goes_to_stdout_and_errors_to_stderr() {
    let dir = TestDir::new("null-streams");
    dir.write("t.pkr.hcl", &good_and_bad(""));
    // `> build.log 2> errors.log`: each stream into its own file.
    let redirected = |args: &[&str]| {
        let log = std::fs::File::create(dir.path.join("build.log")).unwrap();
        let errors = std::fs::File::create(dir.path.join("errors.log")).unwrap();
        let status = dir.command(args, &[]).stdout(log).stderr(errors).status().unwrap();
        (status.code(), dir.read("build.log"), dir.read("errors.log"))
    };
    let (code, log, errors) = redirected(&["build", "-color=false", "t.pkr.hcl"]);
    assert_eq!(code, Some(1), "--- build.log\n{log}--- errors.log\n{errors}");
    for progress in [
        "==> null.good: ",
        "null.good: running on good",
        "null.bad: running on bad",
        "==> Builds finished. The artifacts of successful builds are:",
        "--> null.good: ",
    ] {
        assert!(log.contains(progress), "build.log lacks {progress:?}:\n{log}");
        assert!(!errors.contains(progress), "errors.log has {progress:?}:\n{errors}");
    }
    for error in ["null.bad: boom", "Build 'null.bad' errored after", "Some builds didn't complete successfully and had errors:", "--> null.bad: "] {
        assert!(errors.contains(error), "errors.log lacks {error:?}:\n{errors}");
        assert!(!log.contains(error), "build.log has {error:?}:\n{log}");
    }

    let (code, log, errors) = redirected(&["build", "-machine-readable", "t.pkr.hcl"]);
    assert_eq!(code, Some(1), "--- build.log\n{log}--- errors.log\n{errors}");
    assert_eq!(errors, "", "with -machine-readable everything is a record on stdout");
    for line in log.lines() {
        let fields: Vec<&str> = line.splitn(4, ',').collect();
        assert!(fields.len() >= 3 && fields[0].parse::<u64>().is_ok(), "not a machine-readable record: {line:?}\n{log}");
    }
    assert!(log.lines().any(|l| l.ends_with(",null.bad,ui,error,    null.bad: boom")), "a command's stderr is an error record:\n{log}");
    assert!(log.lines().any(|l| l.contains(",null.bad,error,")), "{log}");
}

#[test]
fn valid_exit_codes_and_retries() {
    let dir = TestDir::new("null-exit");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "x" { communicator = "none" }
build {
  sources = ["source.null.x"]
  provisioner "shell-local" {
    inline           = ["exit 3"]
    valid_exit_codes = [0, 3]
  }
  provisioner "shell-local" {
    max_retries = 2
    inline      = ["n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; test $n -ge 2"]
  }
}
"#,
    );
    dir.bake(&["build", "t.pkr.hcl"]).success().contains("retrying (1 of 2)").contains("retrying (2 of 2)");
    assert_eq!(dir.read("count").trim(), "3");
}

/// Each provisioner is a step of its own in the progress, with its name and
/// its time, in the template's order.
#[test]
fn each_provisioner_is_its_own_timed_step() {
    let dir = TestDir::new("null-steps");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "p" { communicator = "none" }
build {
  sources = ["source.null.p"]
  provisioner "shell-local" {
    name   = "first"
    inline = ["echo one"]
  }
  provisioner "shell-local" {
    name   = "second"
    inline = ["echo two"]
  }
}
"#,
    );
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix:?} in\n{}", run.stdout));
    let first = (at("==> null.p: Provisioning with first …"), at("==> null.p: Provisioning with first done in "));
    let second = (at("==> null.p: Provisioning with second …"), at("==> null.p: Provisioning with second done in "));
    assert!(first.0 < first.1 && first.1 < second.0 && second.0 < second.1, "each step starts and ends before the next:\n{}", run.stdout);
    assert!(lines[first.0..first.1].iter().any(|l| l.ends_with(": one")) && lines[second.0..second.1].iter().any(|l| l.ends_with(": two")), "{}", run.stdout);
    assert!(lines[first.1].ends_with('s') && lines[second.1].ends_with('s'), "a step line ends with its time:\n{}", run.stdout);
}

#[test]
fn machine_readable_output_is_packer_shaped() {
    let dir = TestDir::new("null-machine");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "m" { communicator = "none" }
build {
  sources = ["source.null.m"]
  provisioner "shell-local" { inline = ["echo a,b"] }
}
"#,
    );
    let run = dir.bake(&["build", "-machine-readable", "t.pkr.hcl"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.ends_with(",null.m,ui,message,    null.m: a%!(PACKER_COMMA)b")), "{}", run.stdout);
    assert!(lines.iter().any(|l| l.ends_with(",null.m,artifact-count,1")), "{}", run.stdout);
    for l in &lines {
        let ts = l.split(',').next().unwrap();
        assert!(ts.parse::<u64>().is_ok(), "every record starts with a timestamp: {l}");
    }
}

/// A data source reports on the run's own UI: with `-machine-readable` its
/// progress is a record, and a sensitive variable in it is masked. The
/// debootstrap data source says "Using cached …" on a cache hit; its cache
/// key is learnt from the lock file a first run leaves (that run fails at
/// once: no mmdebstrap on its PATH).
#[test]
fn a_data_source_reports_through_the_runs_ui() {
    let dir = TestDir::new("null-data-ui");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "cache_name" {
  type      = string
  default   = "hush-cache-7c1f"
  sensitive = true
}
data "debootstrap" "base" {
  suite     = "bookworm"
  mirror    = "http://deb.example.invalid/debian"
  cache_dir = "${path.root}/${var.cache_name}"
}
source "null" "d" { communicator = "none" }
build {
  sources = ["source.null.d"]
  provisioner "shell-local" { inline = ["echo format=${data.debootstrap.base.format}"] }
}
"#,
    );
    dir.bake_env(&["build", "t.pkr.hcl"], &[("PATH", "/nonexistent")]).failure().contains("mmdebstrap");
    let lock = std::fs::read_dir(dir.path.join("hush-cache-7c1f")).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "lock"));
    let image = lock.expect("the first run left its lock file").with_extension("qcow2");
    std::fs::write(&image, "").unwrap();

    let run = dir.bake(&["build", "-machine-readable", "t.pkr.hcl"]);
    run.success().lacks("hush-cache-7c1f");
    let said = run.stdout.lines().find(|l| l.contains("Using cached Debian bookworm base image")).unwrap_or_else(|| panic!("no cache line:\n{}", run.stdout));
    let fields: Vec<&str> = said.splitn(5, ',').collect();
    assert!(fields[0].parse::<u64>().is_ok(), "a record starts with its timestamp: {said}");
    assert_eq!(fields[1..4], ["data.debootstrap.base", "ui", "say"], "{said}");
    assert!(fields[4].starts_with("==> data.debootstrap.base: Using cached Debian bookworm base image ") && fields[4].contains("<sensitive>"), "{said}");
}

#[test]
fn ctrl_c_cancels_the_build_and_kills_its_commands() {
    let dir = TestDir::new("null-sigint");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "s" { communicator = "none" }
build {
  sources = ["source.null.s"]
  provisioner "shell-local" { inline = ["echo started", "echo $$ > pid", "sleep 60", "echo never"] }
}
"#,
    );
    let child = dir.command(&["build", "t.pkr.hcl"], &[]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !dir.exists("pid") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let shell_pid: i32 = dir.read("pid").trim().parse().unwrap();
    // SAFETY: kill(2) with a pid we own and a standard signal.
    unsafe { libc_kill(child.id() as i32, 2) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    assert!(!stderr.contains("never"), "{stderr}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!is_running(shell_pid), "the provisioner's shell was left running");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// True when the process exists and is not a zombie (an exited process whose
/// parent, here possibly a container's init, has not reaped it yet).
fn is_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}
