//! The `qemu` builder: boots a temporary VM from an installer ISO or a disk
//! image, provisions it over SSH, shuts it down and turns its disk into a
//! qcow2 or raw image. Packer's options and semantics (see `config.rs`), plus
//! what Packer lacks: accelerator detection that really works, a generated
//! key handed to cloud-init images, ACPI power-down when no shutdown command
//! is given, and a journal that lets `bake cleanup` stop a VM whose bake was
//! killed.

mod args;
pub mod boot_command;
mod config;
mod floppy;
pub mod http;
mod seed;
mod steps;
mod tpm;

/// QMP lives with the machine; re-exported for the boot command and its tests.
pub use bake_qemu_machine::qmp;

use bake_sdk::artifact::state as keys;
use bake_sdk::communicator::config::Kind;
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::steps::{run_steps, Step};
use bake_sdk::{async_trait, Artifact, BuildInfo, Builder, ProvisionHook};
use std::collections::BTreeMap;
use std::sync::Arc;
use steps::*;

pub struct QemuBuilder {
    p: Arc<config::Prepared>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    let p = config::prepare(body, what)?;
    Ok(Box::new(QemuBuilder { p: Arc::new(p) }))
}

/// With SSH and no credentials given, bake makes a key for the build (as
/// Packer does); it reaches the guest through bake's own cloud-init seed,
/// or through the template's when it has one (`seed::own_seed`).
fn generates_key(p: &config::Prepared) -> bool {
    p.comm.needs_generated_key()
}

#[async_trait]
impl Builder for QemuBuilder {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        let p = &self.p;
        let c = &p.config;
        let ssh = p.comm.kind == Kind::Ssh;
        let mut list: Vec<Box<dyn Step<State> + '_>> =
            vec![Box::new(PrepareDirs { p: p.clone() }), Box::new(FetchSource { p: p.clone() }), Box::new(CreateDisks { p: p.clone() })];
        if c.efi_boot || c.efi_firmware_code.is_some() || c.efi_firmware_vars.is_some() {
            list.push(Box::new(PrepareFirmware { p: p.clone() }));
        }
        let seed_key = generates_key(p) && seed::own_seed(c).is_none();
        if generates_key(p) {
            list.push(Box::new(GenerateKey { p: p.clone() }));
        }
        if !c.cd_files.is_empty() || !c.cd_content.is_empty() || seed_key {
            list.push(Box::new(CreateCdroms { p: p.clone(), seed_key }));
        }
        if !c.floppy_files.is_empty() || !c.floppy_dirs.is_empty() || !c.floppy_content.is_empty() {
            list.push(Box::new(CreateFloppy { p: p.clone() }));
        }
        if c.http_directory.is_some() || !c.http_content.is_empty() {
            list.push(Box::new(StartHttp { p: p.clone() }));
        }
        if c.vtpm {
            list.push(Box::new(StartTpm { p: p.clone() }));
        }
        list.push(Box::new(RunQemu { p: p.clone(), ssh }));
        if !c.boot_command.is_empty() || !c.boot_steps.is_empty() {
            list.push(Box::new(TypeBootCommand { p: p.clone() }));
        }
        if ssh {
            list.push(Box::new(ConnectSsh { p: p.clone() }));
        }
        list.extend(provision_steps(p, hook));
        list.push(Box::new(Shutdown { p: p.clone() }));
        if !(c.skip_compaction || c.use_backing_file) || c.disk_compression {
            list.push(Box::new(Compact { p: p.clone() }));
        }
        list.push(Box::new(Finalize));

        let mut state = State::default();
        run_steps(&list, &mut state, build).await?;
        let disk = state.output_dir.join(&state.vm_name);
        Ok(Some(Artifact {
            builder_type: "qemu".into(),
            id: "VM".into(),
            description: format!("VM files in directory: {}", state.output_dir.display()),
            files: state.files.clone(),
            state: BTreeMap::from([
                (keys::DISK_NAME.to_string(), serde_json::json!(state.vm_name)),
                (keys::DISK_PATH.to_string(), serde_json::json!(disk.display().to_string())),
                (keys::DISK_TYPE.to_string(), serde_json::json!(c.format)),
                (keys::DISK_SIZE.to_string(), serde_json::json!(p.disk_size)),
                (keys::DOMAIN_TYPE.to_string(), serde_json::json!(state.accelerator)),
            ]),
        }))
    }
}
