//! The running VM: one qemu process and its QMP connection, and — under
//! TCG — a watcher that turns a guest reboot into a fresh qemu process.
//!
//! Why a fresh process: TCG keeps the code it translated for the old system
//! across a warm reset, and a page that still holds some of that code stays
//! write-protected, so every byte written there goes through TCG's
//! self-modifying-code path (a lock and a lookup per store). After a reboot
//! OVMF decompressing itself and systemd-boot copying the kernel in land on
//! such pages: here (QEMU 7.2) the firmware took 10–90 s after a reboot,
//! depending on how much of the old system's code was still cached, against
//! 8 s in a new process. So qemu runs with `-no-reboot`; when the guest
//! resets, qemu exits with the QMP `SHUTDOWN` reason `guest-reset`, and the
//! watcher starts it again on the same disks, firmware variables, ports and
//! sockets. To the guest and to SSH it is the reboot it asked for. Under KVM
//! there is no translated code and a reset stays a reset.

use crate::process::QemuProcess;
use crate::qmp::Qmp;
use bake_sdk::journal::Journal;
use bake_sdk::ui::Ui;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};
use tokio::task::JoinHandle;

/// How to start (and start again) this build's qemu.
#[derive(Clone)]
pub struct Launch {
    pub binary: String,
    pub argv: Vec<String>,
    /// qemu's own stdout and stderr.
    pub log: PathBuf,
    pub pidfile: PathBuf,
    pub qmp_socket: PathBuf,
    /// The serial console's log; qemu truncates it on start, so a restart
    /// first moves the last boot's aside (`serial-boot1.log`, …).
    pub serial_log: PathBuf,
    /// qemu runs with `-no-reboot`, and a guest reset starts it again.
    pub restart_on_reset: bool,
    pub build: String,
    pub journal: Arc<Journal>,
    pub ui: Ui,
}

pub struct Vm {
    process: QemuProcess,
    qmp: Qmp,
    launch: Launch,
    /// Times the guest rebooted into a fresh qemu.
    restarts: u32,
}

/// Why qemu did not start: it exited at once, with its own words.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A port qemu was to listen on (an SSH host forward, VNC) was taken
    /// between choosing it and qemu binding it: other ports may work.
    #[error("qemu exited at once ({status}): {output}")]
    PortInUse { status: std::process::ExitStatus, output: String },
    /// Anything else: bad arguments, a missing file, no accelerator.
    #[error("qemu exited at once ({status}): {output}")]
    Exited { status: std::process::ExitStatus, output: String },
}

impl StartError {
    /// Reads qemu's output once, here, so that callers decide on the
    /// variant. qemu says "Could not set up host forwarding rule" for a
    /// taken user-network port and "Address already in use" for VNC.
    fn from_output(status: std::process::ExitStatus, output: &str) -> StartError {
        let output = output.to_string();
        if output.contains("host forwarding") || output.contains("Address already in use") {
            StartError::PortInUse { status, output }
        } else {
            StartError::Exited { status, output }
        }
    }

    /// Whether `error` (or one of its causes) is a port clash.
    pub fn is_port_in_use(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| matches!(cause.downcast_ref::<StartError>(), Some(StartError::PortInUse { .. })))
    }
}

impl Vm {
    /// Starts qemu and connects to its QMP socket; fails with qemu's own
    /// words when it exits at once (bad arguments, a port taken).
    pub async fn start(launch: Launch) -> anyhow::Result<Vm> {
        let _ = std::fs::remove_file(&launch.qmp_socket);
        let mut process = QemuProcess::start(&launch.binary, &launch.argv, &launch.log, &launch.pidfile, &launch.journal, &launch.build).await?;
        let qmp = Qmp::connect(&launch.qmp_socket, Duration::from_secs(10)).await;
        // qemu fails fast on bad arguments or a taken port: give it a moment.
        if let Some(status) = process.has_exited().or(if qmp.is_err() { process.wait_exit(Duration::from_millis(500)).await } else { None }) {
            let output = std::fs::read_to_string(&launch.log).unwrap_or_default();
            process.stop(&launch.journal).await;
            return Err(StartError::from_output(status, output.trim()).into());
        }
        Ok(Vm { process, qmp: qmp?, launch, restarts: 0 })
    }

    pub fn qmp(&mut self) -> &mut Qmp {
        &mut self.qmp
    }

    /// Waits up to `timeout` for the machine to stop for good (a reboot
    /// meanwhile is restarted, as the watcher would); true when it did.
    pub async fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if self.process.wait_exit(left).await.is_none() {
                return false;
            }
            if !self.restart_if_reset().await {
                let _ = self.launch.journal.release(self.process.journal_id);
                return true;
            }
        }
    }

    /// After qemu exited: starts it again when the guest reset it (and
    /// restarting is on); true when it did.
    async fn restart_if_reset(&mut self) -> bool {
        if !self.launch.restart_on_reset || self.qmp.shutdown_reason(Duration::from_secs(1)).await.as_deref() != Some("guest-reset") {
            return false;
        }
        let ui = self.launch.ui.clone();
        ui.message("The guest rebooted; starting qemu again (under TCG a fresh process boots the firmware several times faster)");
        match self.restart().await {
            Ok(()) => true,
            Err(e) => {
                ui.error(format!("cannot start qemu again after the guest rebooted: {e:#}"));
                false
            }
        }
    }

    /// Stops qemu: QMP `quit`, then signals.
    pub async fn stop(&mut self) {
        if self.process.has_exited().is_none() {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.qmp.quit()).await;
        }
        self.process.stop(&self.launch.journal).await;
    }

    /// Starts qemu again after the guest reset it, minus any `-boot once=`:
    /// a reboot boots the default order, as it would have in place.
    async fn restart(&mut self) -> anyhow::Result<()> {
        let _ = self.launch.journal.release(self.process.journal_id);
        let restarts = self.restarts + 1;
        let serial = &self.launch.serial_log;
        let _ = std::fs::rename(serial, serial.with_file_name(format!("serial-boot{restarts}.log")));
        let mut launch = self.launch.clone();
        launch.argv = after_reset(&launch.argv);
        *self = Vm::start(launch).await?;
        self.restarts = restarts;
        Ok(())
    }
}

/// The VM as the build's steps hold it, shared with the reboot watcher.
pub struct VmHandle {
    vm: Arc<Mutex<Vm>>,
    reboot_watcher: Option<JoinHandle<()>>,
}

impl VmHandle {
    pub fn new(vm: Vm) -> VmHandle {
        let restart_on_reset = vm.launch.restart_on_reset;
        let vm = Arc::new(Mutex::new(vm));
        let reboot_watcher = restart_on_reset.then(|| tokio::spawn(watch_reboots(vm.clone())));
        VmHandle { vm, reboot_watcher }
    }

    pub async fn lock(&self) -> MutexGuard<'_, Vm> {
        self.vm.lock().await
    }

    /// The VM, to be stopped: a reboot from now on is not restarted.
    pub async fn finish(&mut self) -> MutexGuard<'_, Vm> {
        // Locked first, so the watcher is never stopped halfway through a
        // restart: it only waits (for the lock, or on its timer) here.
        let vm = self.vm.lock().await;
        if let Some(watcher) = self.reboot_watcher.take() {
            watcher.abort();
        }
        vm
    }
}

impl Drop for VmHandle {
    fn drop(&mut self) {
        // Only after qemu stopped for good (or `finish`): no restart runs.
        if let Some(watcher) = self.reboot_watcher.take() {
            watcher.abort();
        }
    }
}

/// Restarts qemu whenever the guest reboots, while nobody else is waiting
/// on it; ends when qemu stops for another reason (powered off, crashed:
/// the step that waits on the machine, or SSH, reports that).
async fn watch_reboots(vm: Arc<Mutex<Vm>>) {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut vm = vm.lock().await;
        if vm.process.has_exited().is_some() && !vm.restart_if_reset().await {
            return;
        }
    }
}

/// The command line for starting qemu again after the guest reset it:
/// without `-boot once=…`, which a reset in place would have forgotten too.
pub fn after_reset(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg != "-boot" {
            out.push(arg.clone());
            continue;
        }
        let Some(value) = args.next() else {
            out.push(arg.clone());
            break;
        };
        let kept: Vec<&str> = value.split(',').filter(|part| !part.starts_with("once=")).collect();
        if !kept.is_empty() {
            out.push(arg.clone());
            out.push(kept.join(","));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_after_a_reset_forgets_boot_once() {
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(after_reset(&argv("-m 1024M -boot once=d -no-reboot")), argv("-m 1024M -no-reboot"));
        assert_eq!(after_reset(&argv("-boot once=d,menu=on -m 1024M")), argv("-boot menu=on -m 1024M"));
        assert_eq!(after_reset(&argv("-boot c -m 1024M")), argv("-boot c -m 1024M"));
    }
}
