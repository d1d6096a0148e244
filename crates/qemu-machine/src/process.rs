//! The qemu process (and swtpm beside it): started with a pid file recorded
//! in the journal first, so that `bake cleanup` can stop it after a crash;
//! stopped politely (QMP `quit` for qemu), then firmly.

use bake_sdk::journal::{EntryId, Journal, Resource};
use bake_sdk::process::terminate;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How long a process has between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct QemuProcess {
    pub child: tokio::process::Child,
    pub journal_id: EntryId,
    pub pidfile: PathBuf,
}

impl QemuProcess {
    /// Starts qemu with `args`; its stdout and stderr are appended to `log`.
    pub async fn start(binary: &str, args: &[String], log: &Path, pidfile: &Path, journal: &Journal, build: &str) -> anyhow::Result<QemuProcess> {
        Self::start_program("qemu", "qemu-system-x86", binary, args, log, pidfile, journal, build).await
    }

    /// Starts `binary` (`what` in the journal, installed by Debian's
    /// `package`) as qemu is started.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_program(
        what: &str,
        package: &str,
        binary: &str,
        args: &[String],
        log: &Path,
        pidfile: &Path,
        journal: &Journal,
        build: &str,
    ) -> anyhow::Result<QemuProcess> {
        let journal_id = journal.record(build, Resource::Process { pidfile: pidfile.to_path_buf(), pid: None, what: what.into() })?;
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let child = bake_sdk::process::spawn(
            tokio::process::Command::new(binary)
                .args(args)
                .stdin(Stdio::null())
                .stdout(log_file.try_clone()?)
                .stderr(log_file)
                .kill_on_drop(true)
                // Its own process group: a Ctrl-C at the terminal reaches
                // bake, which then shuts qemu (and then swtpm) down in
                // order, instead of killing it under our feet.
                .process_group(0),
        )
        .map_err(|e| {
            let _ = journal.release(journal_id);
            anyhow::anyhow!("cannot start {binary} ({e}); install it with: apt-get install {package}")
        })?;
        if let Some(pid) = child.id() {
            journal.update(journal_id, build, Resource::Process { pidfile: pidfile.to_path_buf(), pid: Some(pid), what: what.into() })?;
        }
        Ok(QemuProcess { child, journal_id, pidfile: pidfile.to_path_buf() })
    }

    /// Waits for the process to exit by itself, up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait()).await.ok().and_then(Result::ok)
    }

    pub fn has_exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the process as bake stops every child ([`terminate`]): SIGTERM,
    /// then SIGKILL after a grace period.
    pub async fn stop(&mut self, journal: &Journal) {
        if self.has_exited().is_none() {
            terminate(&mut self.child, false, STOP_GRACE).await;
        }
        let _ = std::fs::remove_file(&self.pidfile);
        let _ = journal.release(self.journal_id);
    }
}
