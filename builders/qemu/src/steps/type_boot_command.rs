//! Types `boot_command` (or each of `boot_steps`) into the VM's console
//! through QMP after `boot_wait`.

use super::{template_values, State};
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;
use std::time::Duration;

pub struct TypeBootCommand {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for TypeBootCommand {
    fn name(&self) -> String {
        "Typing the boot command".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.type_boot_command")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        b.ui.message(format!("Waiting {:?} (boot_wait)", c.boot_wait));
        tokio::time::sleep(c.boot_wait).await;
        let interval = c
            .boot_key_interval
            .or_else(|| std::env::var("PACKER_KEY_INTERVAL").ok().and_then(|v| bake_sdk::duration::parse(&v).ok()))
            .unwrap_or(Duration::from_millis(100));
        // boot_command is one unnamed step; boot_steps names each.
        let steps: Vec<(String, Option<&String>)> = if c.boot_steps.is_empty() {
            vec![(c.boot_command.concat(), None)]
        } else {
            c.boot_steps.iter().map(|step| (step[0].clone(), step.get(1).filter(|d| !d.is_empty()))).collect()
        };
        let values = template_values(s);
        let mut vm = s.vm.as_ref().expect("qemu started before").lock().await;
        for (keys, description) in steps {
            if let Some(d) = description {
                b.ui.message(format!("Boot step: {d}"));
            }
            let command = bake_sdk::placeholders::render(&keys, &values).map_err(anyhow::Error::msg)?;
            let actions = crate::boot_command::parse(&command).map_err(anyhow::Error::msg)?;
            crate::boot_command::type_command(vm.qmp(), &actions, interval, &b.cancel).await?;
        }
        Ok(())
    }
}
