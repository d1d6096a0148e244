//! The `breakpoint` provisioner: pauses the build until the user presses
//! Enter, so they can look at the machine. Without a terminal it goes on at once.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, ProvisionContext, Provisioner};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    note: String,
    #[serde(default)]
    disable: bool,
}

pub struct Breakpoint {
    config: Config,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Provisioner>, Diagnostics> {
    Ok(Box::new(Breakpoint { config: decode(body, what)? }))
}

#[async_trait]
impl Provisioner for Breakpoint {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()> {
        let ui = &ctx.build.ui;
        if self.config.disable {
            ui.say("Breakpoint disabled, continuing");
            return Ok(());
        }
        if !self.config.note.is_empty() {
            ui.say(format!("Breakpoint: {}", self.config.note));
        }
        ui.say("Pausing at breakpoint: press Enter to continue");
        // EOF (no terminal, as in CI) continues immediately.
        match bake_sdk::terminal::read_line(&ctx.build.cancel).await {
            Ok(_) => Ok(()),
            Err(_) => Err(bake_sdk::Cancelled::at("breakpoint").into()),
        }
    }
}
