//! Waits until SSH answers; on timeout the error shows the last lines of the
//! serial console.

use super::{ssh_address, State};
use crate::config::Prepared;
use bake_sdk::ssh::{PrivateKeySource, SshConfig};
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::Path;
use std::sync::Arc;

pub struct ConnectSsh {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for ConnectSsh {
    fn name(&self) -> String {
        "Waiting for SSH".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.connect_ssh")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let (host, port) = ssh_address(&self.p, s);
        let mut cfg = SshConfig { host, port, ..self.p.comm.ssh.clone() };
        if let Some((private, _)) = &s.generated_key {
            cfg.auth.private_key = Some(PrivateKeySource::Text(private.clone()));
        }
        b.ui.message(format!("Connecting to {}@{} (timeout {:?})", cfg.username, cfg.address(), cfg.timeout));
        let serial = s.serial_log();
        let comm = bake_sdk::ssh::connect(cfg, &b.cancel, move || {
            let mut lines = vec!["last lines of the VM's serial console:".to_string()];
            lines.extend(tail(&serial, 15));
            lines
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

fn tail(path: &Path, lines: usize) -> Vec<String> {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let all: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}
