//! Downloads (or finds in the cache) the ISO or disk image the build starts
//! from, checked against `iso_checksum`.

use super::State;
use crate::config::Prepared;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::Path;
use std::sync::Arc;

pub struct FetchSource {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for FetchSource {
    fn name(&self) -> String {
        "Fetching the source image".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.fetch_source")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let checksum = bake_download::parse_checksum(c.iso_checksum.as_deref().unwrap_or("none")).map_err(anyhow::Error::msg)?;
        let path =
            bake_download::fetch(&self.p.iso_urls, &checksum, c.iso_target_path.as_deref().map(Path::new), &c.iso_target_extension, &b.ui, &b.cancel).await?;
        b.ui.message(format!("Source image: {}", path.display()));
        s.source_image = Some(std::fs::canonicalize(&path).unwrap_or(path));
        Ok(())
    }
}
