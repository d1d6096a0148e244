//! Waits until SSH answers on the instance: at `ssh_host` when the template
//! sets it, else at the address `ssh_interface` names (Packer's order
//! without one: public DNS, public IP, private IP).

use super::State;
use crate::config::Prepared;
use bake_sdk::ssh::{PrivateKeySource, SshConfig};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct ConnectSsh {
    pub p: Arc<Prepared>,
}

/// Where SSH reaches the instance.
pub fn ssh_host(p: &Prepared, s: &State) -> anyhow::Result<String> {
    if !p.comm.ssh.host.is_empty() {
        return Ok(p.comm.ssh.host.clone());
    }
    let i = s.instance.clone().unwrap_or_default();
    let host = match p.config.ssh_interface.as_deref() {
        Some("public_ip") => i.public_ip,
        Some("private_ip") => i.private_ip,
        Some("public_dns") => i.public_dns,
        Some("private_dns") => i.private_dns,
        _ => i.public_dns.or(i.public_ip).or(i.private_ip),
    };
    host.ok_or_else(|| {
        let interface = p.config.ssh_interface.as_deref().unwrap_or("any address");
        anyhow::anyhow!("the instance {} has no {interface} to connect to; choose another ssh_interface, or set associate_public_ip_address = true", i.id)
    })
}

/// The private key the build logs in with: the temporary key pair's, or
/// the template's `ssh_private_key_file`.
pub fn private_key(p: &Prepared, s: &State) -> Option<PrivateKeySource> {
    s.private_key.clone().map(PrivateKeySource::Text).or_else(|| p.comm.ssh.auth.private_key.clone())
}

#[async_trait]
impl Step<State> for ConnectSsh {
    fn name(&self) -> String {
        "Waiting for SSH".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.connect_ssh")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let mut cfg = SshConfig { host: ssh_host(&self.p, s)?, ..self.p.comm.ssh.clone() };
        cfg.auth.private_key = private_key(&self.p, s);
        b.ui.message(format!("Connecting to {}@{} (timeout {:?})", cfg.username, cfg.address(), cfg.timeout));
        let instance = s.instance.as_ref().map(|i| i.id.clone()).unwrap_or_default();
        let comm = bake_sdk::ssh::connect(cfg, &b.cancel, move || {
            vec![format!("the instance {instance}'s console: aws ec2 get-console-output --instance-id {instance}")]
        })
        .await?;
        s.comm = Some(Arc::new(comm));
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(comm) = s.comm.take() {
            comm.close().await;
        }
        Ok(())
    }
}
