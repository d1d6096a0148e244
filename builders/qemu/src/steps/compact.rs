//! Rewrites the main disk with `qemu-img convert`, which drops unused blocks
//! and applies `disk_compression`.

use super::State;
use crate::config::Prepared;
use bake_qemu_machine::qemu_img;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct Compact {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for Compact {
    fn name(&self) -> String {
        "Converting the disk".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.compact")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let main = s.disks[0].clone();
        let converted = main.with_file_name(format!("{}.convert", s.vm_name));
        b.ui.message(format!("qemu-img convert{} -O {}", if c.disk_compression { " -c" } else { "" }, c.format));
        qemu_img::convert(&main, &converted, &c.format, c.disk_compression).await?;
        std::fs::rename(&converted, &main)?;
        Ok(())
    }
}
