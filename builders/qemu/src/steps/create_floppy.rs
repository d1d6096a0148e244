//! Builds the floppy image from `floppy_files`, `floppy_dirs` and
//! `floppy_content`.

use super::{with_public_key, State};
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct CreateFloppy {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CreateFloppy {
    fn name(&self) -> String {
        "Creating the floppy image".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.create_floppy")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let image = s.runtime_dir.join("floppy.img");
        let label = c.floppy_label.as_deref().unwrap_or(crate::floppy::DEFAULT_LABEL);
        crate::floppy::make(&image, label, &c.floppy_files, &c.floppy_dirs, &with_public_key(&c.floppy_content, s), &s.runtime_dir.join("floppy")).await?;
        b.ui.message(format!("Floppy \"{label}\": {}", image.display()));
        s.floppy = Some(image);
        Ok(())
    }
}
