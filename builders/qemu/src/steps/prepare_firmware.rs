//! Finds the UEFI firmware and gives the VM its own copy of the variable
//! store.

use super::State;
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::{Path, PathBuf};
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
        let code = PathBuf::from(c.efi_firmware_code.clone().unwrap_or_else(|| default_firmware().0));
        let vars = PathBuf::from(c.efi_firmware_vars.clone().unwrap_or_else(|| default_firmware().1));
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

/// Debian's OVMF paths (4M builds first, as bookworm ships).
pub fn default_firmware() -> (String, String) {
    for (code, vars) in
        [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"), ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")]
    {
        if Path::new(code).exists() {
            return (code.into(), vars.into());
        }
    }
    ("/usr/share/OVMF/OVMF_CODE.fd".into(), "/usr/share/OVMF/OVMF_VARS.fd".into())
}
