//! The `null` builder: creates no machine. With `communicator = "none"` the
//! provisioners run without one (shell-local, breakpoint); with `ssh` they run
//! on an existing host, reached with the SSH communicator.

use bake_sdk::communicator::config::{decode_with_communicator, Kind, Support};
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::plugin::provision_all;
use bake_sdk::ssh::{PrivateKeySource, SshConfig};
use bake_sdk::{async_trait, Artifact, BuildInfo, Builder, GeneratedData, ProvisionHook};
use serde::Deserialize;

/// The null builder has no options of its own: only the communicator's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

/// No machine to make, so nothing to fill in: an SSH host and credentials
/// must be given.
const SUPPORT: Support =
    Support { kinds: &[Kind::None, Kind::Ssh], default: Kind::None, host_from_builder: false, generates_key: false, cloud_key_pairs: false };

pub struct NullBuilder {
    communicator: &'static str,
    /// Set with `communicator = "ssh"`.
    ssh: Option<SshConfig>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    let (Config {}, comm) = decode_with_communicator::<Config>(body, what, &SUPPORT)?;
    let ssh = (comm.kind == Kind::Ssh).then_some(comm.ssh);
    Ok(Box::new(NullBuilder { communicator: comm.kind.name(), ssh }))
}

#[async_trait]
impl Builder for NullBuilder {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        build.ui.say(format!("Running the null builder (communicator: {})", self.communicator));
        let mut generated = GeneratedData::from([("ID".to_string(), "Null".to_string()), ("PackerRunUUID".to_string(), build.run_uuid.clone())]);
        match &self.ssh {
            None => provision_all(hook, build, None, &generated).await?,
            Some(cfg) => {
                build.ui.say(format!("Waiting for SSH to become available on {}@{}...", cfg.username, cfg.address()));
                let comm = bake_sdk::ssh::connect(cfg.clone(), &build.cancel, Vec::new).await?;
                build.ui.say("Connected to SSH!");
                let key = match &cfg.auth.private_key {
                    Some(PrivateKeySource::File(path)) => std::fs::read_to_string(path).unwrap_or_default(),
                    Some(PrivateKeySource::Text(text)) => text.clone(),
                    None => String::new(),
                };
                for (k, v) in [
                    ("Host", cfg.host.clone()),
                    ("Port", cfg.port.to_string()),
                    ("User", cfg.username.clone()),
                    ("Password", cfg.auth.password.clone().unwrap_or_default()),
                    ("SSHPrivateKey", key),
                ] {
                    generated.insert(k.to_string(), v);
                }
                let result = provision_all(hook, build, Some(&comm), &generated).await;
                comm.close().await;
                result?;
            }
        }
        Ok(Some(Artifact {
            builder_type: "null".into(),
            id: "Null".into(),
            description: "Did not export anything. This is the null builder".into(),
            ..Artifact::default()
        }))
    }
}
