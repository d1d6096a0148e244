//! Hands the machine to the engine's provisioners: one step that tells the
//! engine the machine is ready (its generated data), then one step per
//! provisioner, each timed and named in the progress as the others are.

use super::{ssh_address, State, HTTP_IP};
use crate::config::Prepared;
use bake_sdk::ssh::PrivateKeySource;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo, Communicator, GeneratedData, ProvisionHook, ProvisionerStep};
use std::sync::Arc;

/// The steps that provision the machine: [`MachineReady`], then each of the
/// hook's provisioners.
pub fn provision_steps<'h>(p: &Arc<Prepared>, hook: &'h dyn ProvisionHook) -> Vec<Box<dyn Step<State> + 'h>> {
    let mut steps: Vec<Box<dyn Step<State> + 'h>> = vec![Box::new(MachineReady { p: p.clone(), hook })];
    for provisioner in hook.provisioners() {
        steps.push(Box::new(Provision { p: p.clone(), provisioner }));
    }
    steps
}

/// Tells the engine the machine is reachable (so that it masks the build's
/// credentials and keeps the generated data for the post-processors), also
/// when there is no provisioner.
pub struct MachineReady<'h> {
    pub p: Arc<Prepared>,
    pub hook: &'h dyn ProvisionHook,
}

#[async_trait]
impl Step<State> for MachineReady<'_> {
    fn name(&self) -> String {
        "Handing the machine to the provisioners".into()
    }

    fn id(&self) -> StepId {
        StepId::new("qemu.machine_ready")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        self.hook.machine_ready(&generated_data(&self.p, s, b));
        Ok(())
    }
}

/// One provisioner, run over the build's communicator.
pub struct Provision<'h> {
    pub p: Arc<Prepared>,
    pub provisioner: Box<dyn ProvisionerStep + 'h>,
}

#[async_trait]
impl Step<State> for Provision<'_> {
    fn name(&self) -> String {
        self.provisioner.name()
    }

    fn id(&self) -> StepId {
        self.provisioner.id()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let generated = generated_data(&self.p, s, b);
        let comm = s.comm.clone();
        self.provisioner.run(comm.as_deref().map(|c| c as &dyn Communicator), &generated).await
    }
}

/// What the provisioners see as `build.*`: the same for every one of them,
/// since it depends only on the configuration and the running machine.
fn generated_data(p: &Prepared, s: &State, b: &BuildInfo) -> GeneratedData {
    let mut generated = GeneratedData::new();
    let (host, port) = ssh_address(p, s);
    let ssh = &p.comm.ssh;
    for (k, v) in [
        ("ID", s.vm_name.clone()),
        ("Host", host),
        ("Port", port.to_string()),
        ("User", ssh.username.clone()),
        ("Password", ssh.auth.password.clone().unwrap_or_default()),
        ("SSHPrivateKey", private_key_text(p, s)),
        ("SSHPublicKey", s.generated_key.as_ref().map(|k| k.1.clone()).unwrap_or_default()),
        ("PackerRunUUID", b.run_uuid.clone()),
    ] {
        generated.insert(k.to_string(), v);
    }
    // Only when the HTTP server runs, so that provisioners do not pass
    // an address nothing listens on (PACKER_HTTP_ADDR).
    if let Some(http_port) = s.http.as_ref().map(|h| h.port()) {
        generated.insert("PackerHTTPIP".into(), HTTP_IP.to_string());
        generated.insert("PackerHTTPPort".into(), http_port.to_string());
        generated.insert("PackerHTTPAddr".into(), format!("{HTTP_IP}:{http_port}"));
    }
    generated
}

/// The private key the build logs in with: the generated one, or the
/// `ssh_private_key_file`'s text (for `build.SSHPrivateKey`).
fn private_key_text(p: &Prepared, s: &State) -> String {
    match (&s.generated_key, &p.comm.ssh.auth.private_key) {
        (Some((private, _)), _) => private.clone(),
        (None, Some(PrivateKeySource::File(f))) => std::fs::read_to_string(f).unwrap_or_default(),
        (None, Some(PrivateKeySource::Text(text))) => text.clone(),
        (None, None) => String::new(),
    }
}
