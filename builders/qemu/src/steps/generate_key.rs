//! Makes an SSH key for this build when the template gives no credentials.

use super::State;
use crate::config::Prepared;
use crate::seed;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct GenerateKey {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for GenerateKey {
    fn name(&self) -> String {
        "Generating an SSH key".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.generate_key")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let user = &self.p.comm.ssh.username;
        s.generated_key = Some(bake_sdk::ssh::generate_ed25519()?);
        match seed::own_seed(c) {
            Some(seed) => b.ui.message(format!(
                "Generated an SSH key for this build; {seed} is the template's own cloud-init seed, so bake adds none: it must authorize the key for user \"{user}\" ({{{{ .SSHPublicKey }}}} in cd_content, floppy_content or http_content)"
            )),
            None => b.ui.message(format!("Generated an SSH key for this build; cloud-init gives it to user \"{user}\"")),
        }
        Ok(())
    }
}
