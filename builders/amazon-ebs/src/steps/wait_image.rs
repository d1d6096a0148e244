//! Waits for the AMI, showing its snapshot's progress; the deadline follows
//! the volume size (see `bake_aws::wait`), and its snapshots get the run's
//! tags as soon as EC2 names them, so a sweep finds them too.

use super::State;
use crate::config::Prepared;
use bake_aws::{sdk_error, tags};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct WaitImage {
    pub p: Arc<Prepared>,
}

/// The size the AMI's volumes will have, in GiB: its mappings', else the
/// instance's, else the source AMI's.
pub fn volume_gib(p: &Prepared, s: &State) -> u64 {
    let sum = |m: &[crate::config::BlockDevice]| m.iter().filter_map(|d| d.volume_size).map(|v| v.max(0) as u64).sum::<u64>();
    [sum(&p.config.ami_block_device_mappings), sum(&p.config.launch_block_device_mappings), s.source.as_ref().map_or(0, |s| s.volume_gib)]
        .into_iter()
        .find(|&g| g > 0)
        .unwrap_or(8)
}

#[async_trait]
impl Step<State> for WaitImage {
    fn name(&self) -> String {
        "Waiting for the AMI".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.wait_image")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?.clone();
        let ec2 = aws.ec2();
        let id = s.image_id(&aws.region);
        let described = ec2.describe_images().image_ids(&id).send().await.map_err(|e| anyhow::anyhow!("could not describe {id}: {}", sdk_error(&e)))?;
        if let Some(image) = described.images().first() {
            tags::tag_snapshots(&ec2, image, tags::temporary(&b.run_uuid)).await?;
        }
        let image = bake_aws::images::wait_available(&b.ui, &ec2, &id, &aws.region, &self.p.polling, volume_gib(&self.p, s)).await?;
        tags::tag_snapshots(&ec2, &image, tags::temporary(&b.run_uuid)).await?;
        b.ui.message(format!("{}: AMI {id} is available", aws.region));
        Ok(())
    }
}
