//! `bake console`, through the real binary: expressions piped on stdin (only
//! the last line's result is printed, as in Packer; every line's errors go
//! to stderr) and an interactive session on a real terminal (tmux).

mod util;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::{bake_bin, Run, TestDir};

const SECRET: &str = "hunter2-correct-horse";

const TEMPLATE: &str = r#"
variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "password" {
  type      = string
  sensitive = true
}

variable "sizes" {
  type    = list(number)
  default = [10, 20]
}

locals {
  name = "web-${var.region}"
  dsn  = "postgres://app:${var.password}@db"
  tags = { team = "images", region = var.region }
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
"#;

fn template() -> TestDir {
    let dir = TestDir::new("console");
    dir.write("t.pkr.hcl", TEMPLATE);
    dir
}

/// `printf INPUT | bake console ARGS`.
fn console(dir: &TestDir, args: &[&str], input: &str) -> Run {
    let mut child =
        dir.command(&[&["console"], args].concat(), &[]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start bake");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// The result of one expression against t.pkr.hcl with the password set.
#[track_caller]
fn eval(dir: &TestDir, expr: &str) -> String {
    let run = console(dir, &["-var", &format!("password={SECRET}"), "t.pkr.hcl"], &format!("{expr}\n"));
    run.success();
    assert_eq!(run.stderr, "", "{expr}");
    run.stdout
}

#[test]
fn arithmetic_and_functions_without_a_template() {
    let dir = TestDir::new("console-bare");
    for (expr, shown) in [
        ("1 + 2 * 3", "7"),
        ("10 / 4", "2.5"),
        ("upper(\"abc\")", "ABC"),
        ("format(\"%s-%03d\", \"web\", 7)", "web-007"),
        ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", "10.0.2.0/24"),
        ("[for s in [\"a\", \"b\"] : upper(s)]", "[\n  \"A\",\n  \"B\",\n]"),
        ("{ b = 1, a = [true] }", "{\n  \"a\" = [\n    true,\n  ]\n  \"b\" = 1\n}"),
        ("null", "null"),
    ] {
        let run = console(&dir, &[], &format!("{expr}\n"));
        run.success();
        assert_eq!(run.stdout, format!("{shown}\n"), "{expr}");
    }
    // Without a template there is no var: the error says why.
    let run = console(&dir, &[], "var.region\n");
    run.failure();
    assert!(run.stderr.contains("Unknown variable") && run.stderr.contains("started without a template"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn variables_from_flags_and_var_files_and_locals() {
    let dir = template();
    assert_eq!(eval(&dir, "var.region"), "eu-west-1\n");
    assert_eq!(eval(&dir, "local.name"), "web-eu-west-1\n");
    assert_eq!(eval(&dir, "var.sizes"), "[\n  10,\n  20,\n]\n");
    assert_eq!(eval(&dir, "sum(var.sizes) / 3"), "10\n");
    assert_eq!(eval(&dir, "local.tags"), "{\n  \"region\" = \"eu-west-1\"\n  \"team\" = \"images\"\n}\n");

    let run = console(&dir, &["-var", "password=x", "-var", "region=us-east-2", "t.pkr.hcl"], "local.name\n");
    assert_eq!(run.success().stdout, "web-us-east-2\n");

    dir.write("prod.pkrvars.hcl", "region = \"ap-south-1\"\nsizes = [1, 2, 3]\n");
    let run = console(&dir, &["-var", "password=x", "-var-file", "prod.pkrvars.hcl", "t.pkr.hcl"], "\"${local.name} ${length(var.sizes)}\"\n");
    assert_eq!(run.success().stdout, "web-ap-south-1 3\n");
    // -var wins over the file, as in a build.
    let run = console(&dir, &["-var", "password=x", "-var-file", "prod.pkrvars.hcl", "-var", "region=sa-east-1", "t.pkr.hcl"], "var.region\n");
    assert_eq!(run.success().stdout, "sa-east-1\n");
}

#[test]
fn sensitive_values_are_never_shown() {
    let dir = template();
    for expr in ["var.password", "local.dsn", "upper(var.password)", "\"pw=${var.password}\"", "length(var.password)", "[local.dsn]"] {
        assert_eq!(eval(&dir, expr), "<sensitive>\n", "{expr}");
    }
    let listing = eval(&dir, "variables");
    assert!(listing.contains("var.password: \"<sensitive>\"") && listing.contains("local.dsn: \"<sensitive>\""), "{listing}");
    assert!(listing.contains("var.region: \"eu-west-1\"") && listing.contains("local.name: \"web-eu-west-1\""), "{listing}");
    assert!(!listing.contains(SECRET), "{listing}");
    // Nor in an error about it.
    let run = console(&dir, &["-var", &format!("password={SECRET}"), "t.pkr.hcl"], "tonumber(var.password)\n");
    run.failure();
    assert!(run.stderr.contains("Error: ") && !run.all().contains(SECRET), "{}", run.all());
}

#[test]
fn an_error_is_reported_and_the_next_line_still_evaluated() {
    let dir = template();
    let args = ["-var", "password=x", "t.pkr.hcl"];
    let run = console(&dir, &args, "var.regoin\nupper(var.region)\n");
    // Packer's piped mode: every line's errors on stderr, the last line's
    // result on stdout, exit 1 because a line failed.
    run.failure();
    assert_eq!(run.stdout, "EU-WEST-1\n");
    assert!(run.stderr.contains("<console-input>:1:"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean \"region\"?"), "{}", run.stderr);

    // Only the last result is printed; a failing last line prints none.
    assert_eq!(console(&dir, &args, "1 + 1\n\"two\"\n").success().stdout, "two\n");
    let run = console(&dir, &args, "1 + 1\n1 +\n");
    run.failure();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("Error: "), "{}", run.stderr);
    // `exit` stops reading.
    assert_eq!(console(&dir, &args, "1\nexit\nnosuch()\n").success().stdout, "1\n");
}

/// Data sources do not run in the console (as in `bake validate`): what
/// they give, and every local computed from it, is unknown, as Packer shows
/// values it cannot know yet.
#[test]
fn data_source_outputs_are_unknown() {
    let dir = TestDir::new("console-data");
    dir.write(
        "t.pkr.hcl",
        r#"
data "debootstrap" "base" {
  suite = "bookworm"
}

locals {
  disk  = data.debootstrap.base.path
  label = "disk ${local.disk}"
  plain = "x"
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
"#,
    );
    for (expr, shown) in [("data.debootstrap.base.path", "<unknown>"), ("local.label", "<unknown>"), ("upper(local.plain)", "X")] {
        let run = console(&dir, &["t.pkr.hcl"], &format!("{expr}\n"));
        assert_eq!(run.success().stdout, format!("{shown}\n"), "{expr}");
    }
    let listing = console(&dir, &["t.pkr.hcl"], "variables\n").success().stdout.clone();
    assert!(listing.contains("local.disk: \"<unknown>\"\nlocal.label: \"<unknown>\"\nlocal.plain: \"x\""), "{listing}");
}

/// A variable without a value does not stop the console, as in Packer's:
/// it and what is computed from it are unknown; the rest evaluates.
#[test]
fn an_unset_variable_is_unknown() {
    let dir = template();
    for (expr, shown) in [("var.password", "<unknown>"), ("local.dsn", "<unknown>"), ("length(var.password)", "<unknown>"), ("local.name", "web-eu-west-1")] {
        let run = console(&dir, &["t.pkr.hcl"], &format!("{expr}\n"));
        assert_eq!(run.success().stdout, format!("{shown}\n"), "{expr}: {}", run.stderr);
    }
    let listing = console(&dir, &["t.pkr.hcl"], "variables\n").success().stdout.clone();
    assert!(listing.contains("var.password: \"<unknown>\"") && listing.contains("local.dsn: \"<unknown>\""), "{listing}");
}

/// A tmux server of the test's own (its socket in the test directory).
struct Tmux<'a> {
    socket: std::path::PathBuf,
    dir: &'a Path,
}

impl Tmux<'_> {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-S").arg(&self.socket).args(args).current_dir(self.dir).output().expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            // A key name (Enter, C-c) or literal text.
            let literal = !matches!(*k, "Enter" | "C-c" | "C-d" | "BSpace" | "Left" | "Home");
            let args: &[&str] = if literal { &["send-keys", "-t", "console", "-l", k] } else { &["send-keys", "-t", "console", k] };
            assert!(self.run(args).status.success(), "tmux send-keys {k}");
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "console"]).stdout).into_owned()
    }

    #[track_caller]
    fn wait_for(&self, what: impl Fn(&str) -> bool, label: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if what(&screen) {
                return screen;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "waited for {label}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn interactive_on_a_terminal() {
    let dir = template();
    let tmux = Tmux { socket: dir.path.join("tmux.sock"), dir: &dir.path };
    let command = format!("'{}' console -var password={SECRET} t.pkr.hcl; echo \"exit code $?\" > code.txt", bake_bin().display());
    let started = tmux.run(&["new-session", "-d", "-s", "console", "-x", "120", "-y", "50", &command]);
    assert!(started.status.success(), "tmux: {}", String::from_utf8_lossy(&started.stderr));
    // (tmux drops trailing blanks: the prompt "> " reads ">".)
    tmux.wait_for(|s| s.starts_with('>'), "the prompt");

    tmux.keys(&["var.region", "Enter"]);
    tmux.wait_for(|s| s.contains("> var.region\neu-west-1\n>"), "a result and the next prompt");
    // An error does not end the session.
    tmux.keys(&["nosuch(1)", "Enter"]);
    tmux.wait_for(|s| s.contains("There is no function named \"nosuch\"") && s.trim_end().ends_with('>'), "the error and a prompt");
    // Line editing: a typo fixed with backspace.
    tmux.keys(&["local.namx", "BSpace", "e", "Enter"]);
    tmux.wait_for(|s| s.contains("web-eu-west-1"), "the edited line's result");
    // Ctrl-C drops the line being typed; the session goes on.
    tmux.keys(&["upper(\"dropped\")", "C-c", "var.password", "Enter"]);
    let screen = tmux.wait_for(|s| s.contains("<sensitive>"), "the masked password");
    assert!(!screen.contains("DROPPED"), "{screen}");
    assert!(!screen.contains(SECRET), "{screen}");
    // Ctrl-D leaves with exit code 0.
    tmux.keys(&["C-d"]);
    let start = Instant::now();
    while !dir.exists("code.txt") || dir.read("code.txt").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "bake console did not exit on Ctrl-D:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(dir.read("code.txt"), "exit code 0\n");
}
