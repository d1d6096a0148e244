//! Shuts the guest down (`shutdown_command`, or an ACPI power-down) and waits
//! for qemu to exit.

use super::State;
use crate::config::Prepared;
use bake_sdk::communicator::config::Kind;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo, Communicator};
use std::sync::Arc;

pub struct Shutdown {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for Shutdown {
    fn name(&self) -> String {
        "Shutting down the VM".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.shutdown")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        match (&c.shutdown_command, s.comm.clone()) {
            // No communicator: the guest powers itself off (an installer).
            _ if self.p.comm.kind == Kind::None => b.ui.message("Waiting for the VM to power itself off (communicator = \"none\")"),
            (Some(cmd), Some(comm)) => {
                b.ui.message(format!("Running the shutdown command: {cmd}"));
                let ui = b.ui.clone();
                // The connection drops as the machine goes down; that is the
                // expected outcome, not an error.
                let _ = comm.run(cmd, &mut |stream, line: &str| ui.output(stream, line)).await;
            }
            _ => {
                b.ui.message("Sending an ACPI power-down (no shutdown_command)");
                s.vm.as_ref().expect("qemu started before").lock().await.qmp().system_powerdown().await?;
            }
        }
        if let Some(comm) = s.comm.take() {
            comm.close().await;
        }
        let stopped = s.vm.as_ref().expect("qemu started before").lock().await.wait_exit(c.shutdown_timeout).await;
        if !stopped {
            anyhow::bail!("timeout after {:?} waiting for the machine to shut down; check shutdown_command (the VM is stopped by force)", c.shutdown_timeout);
        }
        s.vm = None;
        Ok(())
    }
}
