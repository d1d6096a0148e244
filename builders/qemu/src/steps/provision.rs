//! Hands the communicator and the build's generated data to the provisioners.

use super::{ssh_address, State, HTTP_IP};
use crate::config::Prepared;
use bake_sdk::ssh::PrivateKeySource;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo, Communicator, GeneratedData, ProvisionHook};
use std::sync::Arc;

pub struct Provision<'h> {
    pub p: Arc<Prepared>,
    pub hook: &'h dyn ProvisionHook,
}

#[async_trait]
impl Step<State> for Provision<'_> {
    fn name(&self) -> String {
        "Provisioning".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.provision")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let mut generated = GeneratedData::new();
        let (host, port) = ssh_address(&self.p, s);
        let ssh = &self.p.comm.ssh;
        for (k, v) in [
            ("ID", s.vm_name.clone()),
            ("Host", host),
            ("Port", port.to_string()),
            ("User", ssh.username.clone()),
            ("Password", ssh.auth.password.clone().unwrap_or_default()),
            ("SSHPrivateKey", private_key_text(&self.p, s)),
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
        let comm = s.comm.clone();
        self.hook.provision(comm.as_deref().map(|c| c as &dyn Communicator), &generated).await
    }
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
