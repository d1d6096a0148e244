//! Hands the machine to the engine's provisioners, with the steps every
//! builder uses (`bake_sdk::provisioning`): what they see of the VM.

use super::{ssh_address, State, HTTP_IP};
use crate::config::Prepared;
use bake_sdk::provisioning::MachineView;
use bake_sdk::ssh::PrivateKeySource;
use bake_sdk::steps::Step;
use bake_sdk::{BuildInfo, Communicator, GeneratedData, ProvisionHook};
use std::sync::Arc;

/// The steps that provision the VM: the machine is ready, then each of the
/// hook's provisioners.
pub fn provision_steps<'h>(p: &Arc<Prepared>, hook: &'h dyn ProvisionHook) -> Vec<Box<dyn Step<State> + 'h>> {
    let p = p.clone();
    let view: MachineView<State> = Arc::new(move |s: &State, b: &BuildInfo| {
        let comm = s.comm.clone().map(|c| c as Arc<dyn Communicator>);
        (generated_data(&p, s, b), comm)
    });
    bake_sdk::provisioning::provision_steps("qemu", hook, view)
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
