//! The `null` builder: creates no machine. With `communicator = "none"` the
//! provisioners run without one (shell-local, breakpoint); with `ssh` they run
//! on an existing host.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, BuildInfo, Builder, GeneratedData, ProvisionHook};
use serde::Deserialize;

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
}

fn default_communicator() -> String {
    "none".to_string()
}

pub struct NullBuilder {
    config: Config,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let at = |key: &str| body.attributes.get(key).map(|a| a.span).unwrap_or(body.span);
    match config.communicator.as_str() {
        "none" => {}
        "ssh" => {
            // The SSH communicator arrives with the qemu builder; until then
            // say so at validate time rather than fail mid-build.
            return Err(Diagnostic::error(
                "SSH communicator not available yet",
                format!("The null builder in {what} asks for communicator = \"ssh\", which this version of bake cannot use yet."),
            )
            .at(at("communicator"))
            .with_help("use communicator = \"none\" with shell-local provisioners")
            .into());
        }
        other => {
            return Err(Diagnostic::error("Invalid communicator", format!("communicator must be \"none\" or \"ssh\", not \"{other}\"."))
                .at(at("communicator"))
                .into())
        }
    }
    let _ = (&config.ssh_host, &config.ssh_port, &config.ssh_username, &config.ssh_password, &config.ssh_private_key_file, &config.ssh_timeout);
    Ok(Box::new(NullBuilder { config }))
}

#[async_trait]
impl Builder for NullBuilder {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        build.ui.say(format!("Running the null builder (communicator: {})", self.config.communicator));
        let generated = GeneratedData::from([
            ("ID".to_string(), "Null".to_string()),
            ("PackerRunUUID".to_string(), build.run_uuid.clone()),
        ]);
        hook.provision(None, &generated).await?;
        Ok(Some(Artifact {
            builder_type: "null".into(),
            id: "Null".into(),
            description: "Did not export anything. This is the null builder".into(),
            ..Artifact::default()
        }))
    }
}
