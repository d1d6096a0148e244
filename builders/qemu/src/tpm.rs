//! `vtpm`: a software TPM (swtpm) for the VM, as Packer gives one: one
//! `swtpm socket` per VM, TPM 2.0 unless `use_tpm1`, its state in the
//! build's runtime directory, reached by qemu over a control socket.
//!
//! swtpm is journalled before it starts (as qemu is), so `bake cleanup`
//! stops it after a crash; the build's cleanup stops it after qemu on every
//! other path. It ends by itself when the qemu that used it exits, which is
//! why a VM with a TPM reboots in place rather than in a fresh qemu (see
//! `bake_qemu_machine::vm`).

use bake_qemu_machine::process::QemuProcess;
use bake_sdk::journal::Journal;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Swtpm {
    process: QemuProcess,
    pub socket: PathBuf,
}

impl Swtpm {
    /// Starts swtpm with its state under `dir`; returns once its control
    /// socket accepts qemu.
    pub async fn start(dir: &Path, tpm1: bool, journal: &Journal, build: &str) -> anyhow::Result<Swtpm> {
        std::fs::create_dir_all(dir)?;
        let socket = dir.join("swtpm.sock");
        let mut args = vec![
            "socket".to_string(),
            "--tpmstate".into(),
            format!("dir={}", dir.display()),
            "--ctrl".into(),
            format!("type=unixio,path={}", socket.display()),
            "--pid".into(),
            format!("file={}", dir.join("swtpm.pid").display()),
        ];
        if !tpm1 {
            args.push("--tpm2".into());
        }
        let log = dir.join("swtpm.log");
        let mut process = QemuProcess::start_program("swtpm", "swtpm", "swtpm", &args, &log, &dir.join("swtpm.pid"), journal, build).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if let Some(status) = process.has_exited() {
                process.stop(journal).await;
                anyhow::bail!("swtpm exited at once ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default().trim());
            }
            if tokio::time::Instant::now() > deadline {
                process.stop(journal).await;
                anyhow::bail!("swtpm did not create its socket {} within 10 s", socket.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Swtpm { process, socket })
    }

    pub async fn stop(mut self, journal: &Journal) {
        self.process.stop(journal).await;
    }
}
