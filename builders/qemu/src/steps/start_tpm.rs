//! Starts swtpm for `vtpm`; its cleanup runs after qemu's.

use super::State;
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct StartTpm {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for StartTpm {
    fn name(&self) -> String {
        "Starting the software TPM".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.start_tpm")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let tpm1 = self.p.config.use_tpm1;
        let swtpm = crate::tpm::Swtpm::start(&s.runtime_dir.join("tpm"), tpm1, &b.journal, &b.name).await?;
        b.ui.message(format!("swtpm (TPM {}) on {}", if tpm1 { "1.2" } else { "2.0" }, swtpm.socket.display()));
        s.swtpm = Some(swtpm);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        // After RunQemu's cleanup: qemu is gone before its TPM is.
        if let Some(swtpm) = s.swtpm.take() {
            swtpm.stop(&b.journal).await;
        }
        Ok(())
    }
}
