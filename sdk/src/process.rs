//! Writing a script and starting processes from several builds at once.
//!
//! Linux refuses to execute a file that any process holds open for writing
//! ("Text file busy", ETXTBSY). Our descriptors are close-on-exec, but a
//! process forked by another thread while a script is being written keeps a
//! copy of the writable descriptor until it calls exec. If a script is
//! executed in that window, its exec fails. Writing scripts and spawning
//! processes under one lock closes the window: `spawn` returns only once
//! the child has exec'd (and so closed its inherited descriptors), and no
//! fork happens while a script is open for writing.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

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
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    spawn(cmd)?.wait_with_output().await
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
                        let out = spawn(tokio::process::Command::new(&path).stdout(std::process::Stdio::piped())).unwrap().wait_with_output().await.unwrap();
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
}
