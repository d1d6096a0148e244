//! Starting, streaming and stopping processes, safely from several builds
//! at once.
//!
//! Stopping is one policy everywhere: SIGTERM, then SIGKILL after a grace
//! period ([`terminate`] for our children, [`terminate_pid`] for a process a
//! journal names). [`run_streaming`] runs a command while its output lines
//! go to the caller, and stops it that way when the build is cancelled.
//!
//! Linux refuses to execute a file that any process holds open for writing
//! ("Text file busy", ETXTBSY). Our descriptors are close-on-exec, but a
//! process forked by another thread while a script is being written keeps a
//! copy of the writable descriptor until it calls exec. If a script is
//! executed in that window, its exec fails. Writing scripts and spawning
//! processes under one lock closes the window: `spawn` returns only once
//! the child has exec'd (and so closed its inherited descriptors), and no
//! fork happens while a script is open for writing.

use crate::ui::Stream;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

static EXEC_LOCK: Mutex<()> = Mutex::new(());

fn exec_lock() -> MutexGuard<'static, ()> {
    // A panic elsewhere while holding the lock leaves nothing inconsistent.
    EXEC_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes an executable script (mode 0755), closed before the lock is released.
pub fn write_script(path: &Path, text: &str) -> std::io::Result<()> {
    let _guard = exec_lock();
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o755).open(path)?;
    file.write_all(text.as_bytes())
}

/// Starts a process; use this, not `Command::spawn`, in plugins that run
/// scripts they wrote.
pub fn spawn(cmd: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let _guard = exec_lock();
    cmd.spawn()
}

/// Runs a process to completion and collects its output, started through
/// [`spawn`] (`Command::output` would fork outside the lock).
pub async fn output(cmd: &mut tokio::process::Command) -> std::io::Result<std::process::Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn(cmd)?.wait_with_output().await
}

/// What a stop signal goes to: one process, or the whole process group it
/// leads (a script's shell and the commands it started).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Process(u32),
    Group(u32),
}

impl Target {
    fn signal(self, signal: libc::c_int) {
        // SAFETY: kill(2) / killpg(2) with a plain pid and signal; no memory
        // is shared with the callee.
        unsafe {
            match self {
                Target::Process(pid) => libc::kill(pid as libc::pid_t, signal),
                Target::Group(pid) => libc::killpg(pid as libc::pid_t, signal),
            };
        }
    }

    /// True while the process, or some member of the group, exists.
    fn exists(self) -> bool {
        // SAFETY: as above; signal 0 only checks for existence.
        unsafe {
            match self {
                Target::Process(pid) => libc::kill(pid as libc::pid_t, 0) == 0,
                Target::Group(pid) => libc::killpg(pid as libc::pid_t, 0) == 0,
            }
        }
    }
}

/// Stops a child of ours: SIGTERM to the child (or, with `group`, to the
/// process group it leads), then SIGKILL to what is left after `grace`;
/// returns once the child is reaped. For a group, members that outlive
/// the child (a script's commands that ignore SIGTERM) are killed too.
pub async fn terminate(child: &mut tokio::process::Child, group: bool, grace: Duration) {
    let Some(pid) = child.id() else { return };
    let target = if group { Target::Group(pid) } else { Target::Process(pid) };
    let deadline = tokio::time::Instant::now() + grace;
    target.signal(libc::SIGTERM);
    if tokio::time::timeout_at(deadline, child.wait()).await.is_err() {
        target.signal(libc::SIGKILL);
        let _ = child.wait().await;
        return;
    }
    if group {
        while target.exists() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if target.exists() {
            target.signal(libc::SIGKILL);
        }
    }
}

/// Stops a process that is not our child (one a journal names): SIGTERM,
/// then SIGKILL when it is still running after `grace`, then waits up to
/// `grace` again for it to go. Blocks the thread while it waits.
pub fn terminate_pid(pid: u32, grace: Duration) {
    if !is_running(pid) {
        return;
    }
    let step = Duration::from_millis(100);
    let wait_gone = || {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !is_running(pid) {
                return true;
            }
            std::thread::sleep(step);
        }
        !is_running(pid)
    };
    Target::Process(pid).signal(libc::SIGTERM);
    if wait_gone() {
        return;
    }
    Target::Process(pid).signal(libc::SIGKILL);
    wait_gone();
}

/// True when the process exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|r| r.split_whitespace().next()).is_some_and(|s| s != "Z"),
        Err(_) => false,
    }
}

/// How [`run_streaming`] runs a command.
#[derive(Clone, Debug)]
pub struct Streaming {
    /// Written to the command's standard input, which is then closed; with
    /// `None` the command reads from /dev/null.
    pub stdin: Option<String>,
    /// How many of the last output lines (both streams, in arrival order)
    /// to keep for an error message.
    pub tail: usize,
    /// Runs the command in a process group of its own, so that
    /// cancelling stops its children too, not only itself.
    pub own_group: bool,
    /// Between SIGTERM and SIGKILL when cancelled.
    pub grace: Duration,
}

impl Default for Streaming {
    fn default() -> Streaming {
        Streaming { stdin: None, tail: 0, own_group: false, grace: Duration::from_secs(3) }
    }
}

/// How a streamed command ended.
#[derive(Debug)]
pub struct Streamed {
    pub status: std::process::ExitStatus,
    /// The last [`Streaming::tail`] lines of its output.
    pub tail: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The command could not be started (not found, not executable …).
    #[error("{0}")]
    Spawn(std::io::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The token was cancelled; the command was stopped (see [`terminate`]).
    #[error("cancelled")]
    Cancelled,
}

/// Runs a command to its end while handing each line of its output to
/// `on_line` as it comes (stdout and stderr, each line whole), started
/// through [`spawn`]. Cancelling `cancel` stops it with [`terminate`].
/// The caller decides what an exit status means.
pub async fn run_streaming(
    cmd: &mut tokio::process::Command,
    how: &Streaming,
    cancel: &CancellationToken,
    mut on_line: impl FnMut(Stream, &str),
) -> Result<Streamed, StreamError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    cmd.stdin(if how.stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    if how.own_group {
        cmd.process_group(0);
    }
    let mut child = spawn(cmd).map_err(StreamError::Spawn)?;
    if let (Some(mut input), Some(text)) = (child.stdin.take(), how.stdin.clone()) {
        // Written aside, so that a command that writes before it has read
        // all its input cannot block on a full pipe; dropped (closed) after.
        tokio::spawn(async move {
            let _ = input.write_all(text.as_bytes()).await;
        });
    }
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let (mut out_open, mut err_open) = (true, true);
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut keep = |stream: Stream, line: String, tail: &mut std::collections::VecDeque<String>| {
        on_line(stream, &line);
        if how.tail > 0 {
            if tail.len() == how.tail {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    };
    // `next_line` is cancel-safe: a line is never lost between the branches.
    while out_open || err_open {
        tokio::select! {
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => keep(Stream::Stdout, line, &mut tail),
                _ => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => keep(Stream::Stderr, line, &mut tail),
                _ => err_open = false,
            },
            _ = cancel.cancelled() => {
                terminate(&mut child, how.own_group, how.grace).await;
                return Err(StreamError::Cancelled);
            }
        }
    }
    let status = tokio::select! {
        status = child.wait() => status?,
        _ = cancel.cancelled() => {
            terminate(&mut child, how.own_group, how.grace).await;
            return Err(StreamError::Cancelled);
        }
    };
    Ok(Streamed { status, tail: tail.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many threads writing and running their own scripts at once: none
    /// may fail with "Text file busy".
    #[test]
    fn concurrent_scripts_never_see_text_file_busy() {
        let dir = std::env::temp_dir().join(format!("bake-sdk-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(8).enable_all().build().unwrap();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..16 {
                let dir = dir.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..20 {
                        let path = dir.join(format!("s{t}-{i}.sh"));
                        write_script(&path, &format!("#!/bin/sh\necho {t}-{i}\n")).unwrap();
                        let out = spawn(tokio::process::Command::new(&path).stdout(Stdio::piped())).unwrap().wait_with_output().await.unwrap();
                        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{t}-{i}"));
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn streams_both_outputs_feeds_stdin_and_keeps_a_tail() {
        runtime().block_on(async {
            let mut cmd = tokio::process::Command::new("/bin/sh");
            cmd.args(["-c", "while read l; do echo \"out $l\"; done; echo err >&2; exit 3"]);
            let how = Streaming { stdin: Some("a\nb\nc\n".into()), tail: 2, ..Default::default() };
            let mut seen = Vec::new();
            let done = run_streaming(&mut cmd, &how, &CancellationToken::new(), |s, l| seen.push((s, l.to_string()))).await.unwrap();
            assert_eq!(done.status.code(), Some(3));
            let stdout: Vec<&str> = seen.iter().filter(|(s, _)| *s == Stream::Stdout).map(|(_, l)| l.as_str()).collect();
            assert_eq!(stdout, ["out a", "out b", "out c"]);
            assert!(seen.contains(&(Stream::Stderr, "err".to_string())));
            assert_eq!(done.tail.len(), 2);
            assert!(matches!(
                run_streaming(&mut tokio::process::Command::new("/nonexistent/x"), &how, &CancellationToken::new(), |_, _| {}).await,
                Err(StreamError::Spawn(_))
            ));
        });
    }

    /// Cancelling stops the command's whole group: a child that ignores
    /// SIGTERM is killed after the grace period.
    #[test]
    fn cancelling_stops_the_group() {
        runtime().block_on(async {
            let dir = std::env::temp_dir().join(format!("bake-sdk-stream-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let pidfile = dir.join("child.pid");
            let mut cmd = tokio::process::Command::new("/bin/sh");
            cmd.args(["-c", &format!("sh -c 'trap \"\" TERM; echo $$ > {}; echo started; while :; do sleep 1; done' & wait", pidfile.display())]);
            let how = Streaming { own_group: true, grace: Duration::from_millis(300), ..Default::default() };
            let cancel = CancellationToken::new();
            let trigger = cancel.clone();
            let result = run_streaming(&mut cmd, &how, &cancel, move |_, line| {
                if line == "started" {
                    trigger.cancel();
                }
            })
            .await;
            assert!(matches!(result, Err(StreamError::Cancelled)));
            let pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
            for _ in 0..50 {
                if !is_running(pid) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(!is_running(pid), "the child that ignores SIGTERM was killed");
            let _ = std::fs::remove_dir_all(&dir);
        });
    }

    #[test]
    fn terminate_pid_escalates_to_sigkill() {
        let mut stubborn = std::process::Command::new("/bin/sh").args(["-c", "trap '' TERM; while :; do sleep 1; done"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        terminate_pid(stubborn.id(), Duration::from_millis(300));
        assert!(!is_running(stubborn.id()));
        let _ = stubborn.wait();
    }
}
