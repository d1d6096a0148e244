//! Connects to AWS with the template's access options (the credentials are
//! checked here, before anything is created) and checks that the copy
//! regions exist.

use super::State;
use crate::config::Prepared;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct Connect {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for Connect {
    fn name(&self) -> String {
        "Connecting to AWS".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.connect")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = self.p.access.connect(&b.ui).await?;
        b.ui.message(format!("Building in {}", aws.region));
        let copies = self.p.copy_regions(&aws.region);
        if !copies.is_empty() && !self.p.config.skip_region_validation {
            let known = aws
                .ec2()
                .describe_regions()
                .all_regions(true)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("could not list the AWS regions: {}", bake_aws::sdk_error(&e)))?;
            let names: Vec<&str> = known.regions().iter().filter_map(|r| r.region_name()).collect();
            for region in &copies {
                if !names.contains(&region.as_str()) {
                    anyhow::bail!("ami_regions names \"{region}\", which is not an AWS region (skip_region_validation = true skips this check)");
                }
            }
        }
        s.aws = Some(aws);
        Ok(())
    }
}
