//! Helpers for tests that drive the real `bake` binary in a temp directory.

#![allow(dead_code)]

pub mod moto;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory, removed when dropped.
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let path = std::env::temp_dir().join(format!("bake-test-{name}-{}-{}", std::process::id(), unique()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir { path }
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, text).expect("write file");
        p
    }

    /// Copies a directory of the repository (such as a corpus under
    /// `tests/corpus`) into this one, recursively.
    pub fn copy_from(&self, src: &Path) {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create dir");
            for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
                let entry = entry.expect("dir entry");
                let target = to.join(entry.file_name());
                if entry.file_type().expect("file type").is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy file");
                }
            }
        }
        copy(src, &self.path);
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path.join(rel).exists()
    }

    /// Runs bake with `args` in this directory.
    pub fn bake(&self, args: &[&str]) -> Run {
        self.bake_env(args, &[])
    }

    pub fn bake_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.command(args, env).output().expect("run bake");
        Run::from(out)
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(bake_bin());
        cmd.args(args).current_dir(&self.path);
        // Tests must not see the developer's own variables.
        for (k, _) in std::env::vars() {
            if k.starts_with("PKR_VAR_") || k.starts_with("BAKE_VAR_") {
                cmd.env_remove(k);
            }
        }
        // Journals go to the test's own directory, not the user's.
        cmd.env("BAKE_STATE_DIR", self.path.join(".bake-state"));
        cmd.envs(env.iter().copied());
        cmd
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Names as a set, to compare with [`Run::finished_builds`].
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A directory under `tests/corpus`.
pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(rel)
}

pub fn bake_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bake"))
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(self.code, 0, "bake failed:\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(&self) -> &Run {
        assert_eq!(self.code, 1, "expected exit 1:\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// The builds a run finished, from its closing summary (`--> NAME: …`).
    pub fn finished_builds(&self) -> BTreeSet<String> {
        self.stdout
            .lines()
            .skip_while(|l| !l.contains("Builds finished"))
            .filter_map(|l| l.strip_prefix("--> ").and_then(|l| l.split_once(':')).map(|(n, _)| n.to_string()))
            .collect()
    }

    /// The progress lines a build printed, without its prefix.
    pub fn lines_of(&self, build: &str) -> Vec<&str> {
        let prefix = format!("    {build}: ");
        self.stdout.lines().filter_map(|l| l.strip_prefix(&prefix)).collect()
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn contains(&self, needle: &str) -> &Run {
        assert!(self.all().contains(needle), "output lacks {needle:?}:\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn lacks(&self, needle: &str) -> &Run {
        assert!(!self.all().contains(needle), "output has {needle:?}:\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// Sends signal `sig` (2 for SIGINT, 9 for SIGKILL) to process `pid`.
pub fn signal(pid: u32, sig: i32) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    // SAFETY: kill(2) with a pid we own and a standard signal number.
    unsafe { kill(pid as i32, sig) };
}

/// Parses `bake inspect --json` output.
pub fn inspect_json(run: &Run) -> serde_json::Value {
    run.success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("inspect --json is not JSON ({e}):\n{}", run.stdout))
}

/// Runs `bake build t.pkr.hcl` in `dir` and presses Ctrl-C in the middle:
/// when a progress line contains `busy`, it waits `settle` (so the work is
/// well under way), runs `check` (to see the temp files bake is writing),
/// then sends SIGINT. Asserts that bake then exits 1 within 30 s, without a
/// panic, and that `out/` is left empty; returns everything bake printed.
pub fn interrupt_build(dir: &TestDir, busy: &str, settle: std::time::Duration, check: impl FnOnce()) -> String {
    interrupt_build_with(dir, &[], busy, settle, check)
}

/// [`interrupt_build`] with `env` set for bake (a moto's endpoint …).
pub fn interrupt_build_with(dir: &TestDir, env: &[(&str, &str)], busy: &str, settle: std::time::Duration, check: impl FnOnce()) -> String {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = dir.command(&["build", "-color=false", "t.pkr.hcl"], env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start bake");
    let stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut stdout = String::new();
    let mut check = Some(check);
    let mut signalled = None;
    // Progress goes to stdout; read it to the end, which is when bake exits.
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines().map_while(Result::ok) {
        if signalled.is_none() && line.contains(busy) {
            std::thread::sleep(settle);
            if let Some(check) = check.take() {
                check();
            }
            signal(child.id(), 2);
            signalled = Some(Instant::now());
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().expect("wait for bake");
    let output = format!("{stdout}{}", stderr.join().unwrap_or_default());
    let signalled = signalled.unwrap_or_else(|| panic!("no progress line contained {busy:?}:\n{output}"));
    assert_eq!(status.code(), Some(1), "{output}");
    assert!(signalled.elapsed() < Duration::from_secs(30), "bake took {:?} to stop after Ctrl-C", signalled.elapsed());
    assert!(!output.contains("panicked"), "{output}");
    let left: Vec<_> = std::fs::read_dir(dir.path.join("out")).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "left in out/: {left:?}");
    output
}
