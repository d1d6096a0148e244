//! Builds the CD-ROM images: the template's `cd_files`/`cd_content`, and
//! bake's own cloud-init seed carrying the generated key.

use super::{sanitize, with_public_key, State};
use crate::config::Prepared;
use crate::seed;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct CreateCdroms {
    pub p: Arc<Prepared>,
    /// Hand the generated key to the guest through bake's own cloud-init
    /// seed (the template has none).
    pub seed_key: bool,
}

#[async_trait]
impl Step<State> for CreateCdroms {
    fn name(&self) -> String {
        "Creating CD-ROM images".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.create_cdroms")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        if !c.cd_files.is_empty() || !c.cd_content.is_empty() {
            let iso = s.runtime_dir.join("cd.iso");
            let label = c.cd_label.clone().unwrap_or_else(|| "packer".into());
            seed::make_iso(&iso, &label, &c.cd_files, &with_public_key(&c.cd_content, s), &s.runtime_dir.join("cd")).await?;
            s.cdroms.push(iso);
        }
        if let (true, Some((_, public))) = (self.seed_key, &s.generated_key) {
            let user = self.p.comm.ssh.username.clone();
            let content = BTreeMap::from([
                ("user-data".to_string(), seed::cloud_init_user_data(&user, public)),
                ("meta-data".to_string(), seed::cloud_init_meta_data(&format!("bake-{}", b.run_uuid), &sanitize(&b.source_name))),
            ]);
            let iso = s.runtime_dir.join("cidata.iso");
            seed::make_iso(&iso, "cidata", &[], &content, &s.runtime_dir.join("cidata")).await?;
            s.cdroms.push(iso);
        }
        Ok(())
    }
}
