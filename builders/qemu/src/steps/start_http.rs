//! Serves `http_directory` and `http_content` to the guest for the length of
//! the build.

use super::{with_public_key, State, HTTP_IP};
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::PathBuf;
use std::sync::Arc;

pub struct StartHttp {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for StartHttp {
    fn name(&self) -> String {
        "Starting the HTTP server".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.start_http")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let server = crate::http::start(
            c.http_directory.as_ref().map(PathBuf::from),
            with_public_key(&c.http_content, s),
            &c.http_bind_address,
            c.http_port_min,
            c.http_port_max,
        )
        .await?;
        b.ui.message(format!("Serving HTTP on port {} (the guest sees http://{HTTP_IP}:{})", server.port(), server.port()));
        s.http = Some(server);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        s.http = None;
        Ok(())
    }
}
