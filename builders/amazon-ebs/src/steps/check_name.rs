//! An AMI name is unique in its region: a name that exists fails the build
//! here, before anything is created, unless `force_deregister` (the old AMI
//! is then replaced when the new one is made, see `create_image.rs`).

use super::State;
use crate::config::Prepared;
use bake_aws::resources::image_by_name;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct CheckName {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CheckName {
    fn name(&self) -> String {
        format!("Checking that the AMI name \"{}\" is free", self.p.config.ami_name)
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.check_name")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?;
        let name = &self.p.config.ami_name;
        let mut regions = vec![aws.region.clone()];
        regions.extend(self.p.copy_regions(&aws.region));
        for region in regions {
            let Some(existing) = image_by_name(&aws.in_region(&region).ec2(), name).await? else { continue };
            let id = existing.image_id().unwrap_or_default();
            if !self.p.config.force_deregister {
                anyhow::bail!(
                    "an AMI named \"{name}\" exists already in {region} ({id}); choose another ami_name (a timestamp in it makes each build's unique), \
                     or set force_deregister = true to replace it"
                );
            }
            b.ui.message(format!("{region}: {id} has the name \"{name}\"; force_deregister: it is replaced once the new AMI is made"));
        }
        Ok(())
    }
}
