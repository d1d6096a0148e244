//! The `null` builder: creates no machine. With `communicator = "none"` the
//! provisioners run without one (shell-local, breakpoint); with `ssh` they run
//! on an existing host, reached with the SSH communicator.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::ssh::{PrivateKeySource, SshAuth, SshConfig};
use bake_sdk::{async_trait, Artifact, BuildInfo, Builder, GeneratedData, ProvisionHook};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_communicator")]
    communicator: String,
    ssh_host: Option<String>,
    ssh_port: Option<u16>,
    ssh_username: Option<String>,
    ssh_password: Option<String>,
    ssh_private_key_file: Option<String>,
    ssh_timeout: Option<String>,
    ssh_handshake_attempts: Option<u32>,
    pause_before_connecting: Option<String>,
    ssh_keep_alive_interval: Option<String>,
}

fn default_communicator() -> String {
    "none".to_string()
}

pub struct NullBuilder {
    communicator: String,
    /// Set with `communicator = "ssh"`.
    ssh: Option<SshConfig>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let ssh = match config.communicator.as_str() {
        "none" => None,
        "ssh" => Some(ssh_config(&config, body, what)?),
        other => {
            let at = body.attributes.get("communicator").map(|a| a.span).unwrap_or(body.span);
            return Err(Diagnostic::error("Invalid communicator", format!("communicator must be \"none\" or \"ssh\", not \"{other}\"."))
                .at(at)
                .into());
        }
    };
    Ok(Box::new(NullBuilder { communicator: config.communicator, ssh }))
}

/// Checks the `ssh_*` arguments, reporting every problem at once, each at
/// the attribute it is about (or at `communicator` for a missing one).
fn ssh_config(c: &Config, body: &EvalBody, what: &str) -> Result<SshConfig, Diagnostics> {
    let at = |key: &str| body.attributes.get(key).map(|a| a.span);
    let communicator_at = at("communicator").unwrap_or(body.span);
    let mut diags = Diagnostics::new();
    let mut missing = |key: &str, detail: &str| {
        diags.push(
            Diagnostic::error("Missing required argument", format!("The argument \"{key}\" is required in {what} with communicator = \"ssh\"."))
                .at(communicator_at)
                .with_help(detail.to_string()),
        )
    };
    if c.ssh_host.as_deref().is_none_or(str::is_empty) {
        missing("ssh_host", "set ssh_host to the address of the machine to provision");
    }
    if c.ssh_username.as_deref().is_none_or(str::is_empty) {
        missing("ssh_username", "set ssh_username to the user to log in as");
    }
    if c.ssh_password.is_none() && c.ssh_private_key_file.is_none() {
        missing("ssh_password or ssh_private_key_file", "set ssh_private_key_file to a private key the host accepts, or ssh_password");
    }
    if let Some(file) = &c.ssh_private_key_file {
        if !std::path::Path::new(file).is_file() {
            diags.push(
                Diagnostic::error("Private key file not found", format!("ssh_private_key_file \"{file}\" does not exist or is not a file."))
                    .at(at("ssh_private_key_file").unwrap_or(body.span)),
            );
        }
    }
    let defaults = SshConfig::default();
    let mut duration = |key: &str, value: &Option<String>, default| match value {
        None => default,
        Some(s) => bake_sdk::duration::parse(s).unwrap_or_else(|e| {
            diags.push(Diagnostic::error("Invalid duration", format!("{key}: {e}")).at(at(key).unwrap_or(body.span)));
            default
        }),
    };
    let timeout = duration("ssh_timeout", &c.ssh_timeout, defaults.timeout);
    let pause_before_connecting = duration("pause_before_connecting", &c.pause_before_connecting, defaults.pause_before_connecting);
    let keepalive_interval = duration("ssh_keep_alive_interval", &c.ssh_keep_alive_interval, defaults.keepalive_interval);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(SshConfig {
        host: c.ssh_host.clone().unwrap_or_default(),
        port: c.ssh_port.unwrap_or(22),
        username: c.ssh_username.clone().unwrap_or_default(),
        auth: SshAuth { password: c.ssh_password.clone(), private_key: c.ssh_private_key_file.as_ref().map(|f| PrivateKeySource::File(PathBuf::from(f))) },
        timeout,
        handshake_attempts: c.ssh_handshake_attempts.unwrap_or(defaults.handshake_attempts),
        pause_before_connecting,
        keepalive_interval,
    })
}

#[async_trait]
impl Builder for NullBuilder {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        build.ui.say(format!("Running the null builder (communicator: {})", self.communicator));
        let mut generated = GeneratedData::from([
            ("ID".to_string(), "Null".to_string()),
            ("PackerRunUUID".to_string(), build.run_uuid.clone()),
        ]);
        match &self.ssh {
            None => hook.provision(None, &generated).await?,
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
                let result = hook.provision(Some(&comm), &generated).await;
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
