//! Finds the UEFI firmware and gives the VM its own copy of the variable
//! store.

use super::State;
use crate::config::Prepared;
use bake_qemu_machine::firmware::ovmf;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::PathBuf;
use std::sync::Arc;

pub struct PrepareFirmware {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for PrepareFirmware {
    fn name(&self) -> String {
        "Preparing UEFI firmware".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.prepare_firmware")
    }

    async fn run(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let installed = ovmf();
        let code = c.efi_firmware_code.as_ref().map_or(installed.code, PathBuf::from);
        let vars = c.efi_firmware_vars.as_ref().map_or(installed.vars, PathBuf::from);
        for f in [&code, &vars] {
            if !f.is_file() {
                anyhow::bail!("UEFI firmware {} not found; install it with: apt-get install ovmf (or set efi_firmware_code / efi_firmware_vars)", f.display());
            }
        }
        // efi_drop_efivars: the VM's variables live with the runtime files,
        // so they never reach the output directory.
        let dir = if c.efi_drop_efivars { &s.runtime_dir } else { &s.partial_dir };
        let copy = dir.join("efivars.fd");
        std::fs::copy(&vars, &copy)?;
        s.efi = Some((code, copy));
        Ok(())
    }
}
