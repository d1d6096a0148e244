//! Chooses the accelerator and the ports and starts qemu, trying other ports
//! when one is taken before qemu binds it.

use super::{template_values, State};
use crate::args::{self, Machine};
use crate::config::Prepared;
use bake_qemu_machine::vm::{Launch, StartError, Vm, VmHandle};
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::{Arc, Mutex};

pub struct RunQemu {
    pub p: Arc<Prepared>,
    pub ssh: bool,
}

#[async_trait]
impl Step<State> for RunQemu {
    fn name(&self) -> String {
        "Starting the VM".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.run_qemu")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let firmware = s.efi.as_ref().map(|(code, _)| code.clone());
        let cache = bake_sdk::cache::root();
        let (accel, why) = bake_qemu_machine::accel::choose(c.accelerator.as_deref(), &c.qemu_binary, firmware.as_deref(), &cache).await;
        b.ui.message(format!("Accelerator: {accel} ({why})"));
        s.accelerator = accel;
        // A port can be taken between our check and qemu's bind (another
        // program, another bake): try a few.
        let mut last_error = None;
        for _ in 0..5 {
            s.ssh_host_port = if self.ssh { Some(reserve_port("127.0.0.1", c.host_port_min, c.host_port_max)?) } else { None };
            s.vnc_port = if c.disable_vnc { None } else { Some(reserve_port(&c.vnc_bind_address, c.vnc_port_min, c.vnc_port_max)?) };
            match self.start(s, b).await {
                Ok(()) => return Ok(()),
                Err(e) if StartError::is_port_in_use(&e) => {
                    release_port(s.ssh_host_port.take());
                    release_port(s.vnc_port.take());
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("qemu did not start")))
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(mut vm) = s.vm.take() {
            vm.finish().await.stop().await;
        }
        release_port(s.ssh_host_port);
        release_port(s.vnc_port);
        Ok(())
    }
}

impl RunQemu {
    async fn start(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        // A fresh qemu for each boot under TCG: see bake_qemu_machine::vm. Not when the
        // user's qemuargs decide what a reset does, nor with a TPM (swtpm
        // ends with the qemu that used it).
        let restart_on_reset = matches!(s.accelerator.as_str(), "tcg" | "none")
            && s.swtpm.is_none()
            && !c.qemuargs.iter().any(|row| matches!(row.first().map(String::as_str), Some("-no-reboot" | "-action")));
        let machine = Machine {
            accelerator: s.accelerator.clone(),
            disks: s.disks.clone(),
            cdroms: s.cdroms.clone(),
            efi: s.efi.clone(),
            floppy: s.floppy.clone(),
            tpm_socket: s.swtpm.as_ref().map(|t| t.socket.clone()),
            qmp_socket: s.runtime_dir.join("qmp.sock"),
            serial_log: s.serial_log(),
            pidfile: s.runtime_dir.join("qemu.pid"),
            restart_on_reset,
            ssh_host_port: s.ssh_host_port,
            vnc_port: s.vnc_port,
            template_values: template_values(s),
        };
        let argv = args::command_line(&self.p, &s.vm_name, &machine).map_err(anyhow::Error::msg)?;
        b.ui.message(format!("{} {}", c.qemu_binary, argv.join(" ")));
        let vm = Vm::start(Launch {
            binary: c.qemu_binary.clone(),
            argv,
            log: s.runtime_dir.join("qemu.log"),
            pidfile: machine.pidfile,
            qmp_socket: machine.qmp_socket,
            serial_log: machine.serial_log,
            restart_on_reset,
            build: b.name.clone(),
            journal: b.journal.clone(),
            ui: b.ui.clone(),
        })
        .await?;
        s.vm = Some(VmHandle::new(vm));
        Ok(())
    }
}

/// Process-wide reserved ports, so parallel builds in one bake never pick
/// the same one between choosing it and qemu binding it.
static RESERVED: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A free TCP port in [min, max), reserved until released.
fn reserve_port(bind: &str, min: u16, max: u16) -> anyhow::Result<u16> {
    let mut reserved = RESERVED.lock().expect("port lock");
    let span = u32::from(max.saturating_sub(min)).max(1);
    let start = (std::process::id() + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())) % span;
    for i in 0..span {
        let port = min + ((start + i) % span) as u16;
        if reserved.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind((bind, port)).is_ok() {
            reserved.push(port);
            return Ok(port);
        }
    }
    anyhow::bail!("no free port between {min} and {max} on {bind}")
}

fn release_port(port: Option<u16>) {
    if let Some(p) = port {
        RESERVED.lock().expect("port lock").retain(|r| *r != p);
    }
}
