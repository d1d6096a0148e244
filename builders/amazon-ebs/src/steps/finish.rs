//! The last step: the AMIs are the build's result now. They lose the run's
//! temporary tags (so that no sweep ever takes them), no cleanup removes
//! them, and the journal lets go of them.

use super::State;
use bake_aws::{resources, sdk_error, tags};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};

pub struct Finish;

#[async_trait]
impl Step<State> for Finish {
    fn name(&self) -> String {
        "Keeping the AMIs".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.finish")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?.clone();
        for (region, id) in s.image_ids() {
            let ec2 = aws.in_region(&region).ec2();
            let image = ec2.describe_images().image_ids(&id).send().await.map_err(|e| anyhow::anyhow!("could not describe {id}: {}", sdk_error(&e)))?;
            let mut ids = image.images().first().map(resources::snapshots_of).unwrap_or_default();
            ids.push(id.clone());
            tags::untag_temporary(&ec2, ids).await?;
        }
        s.done = true;
        for image in s.images.lock().unwrap_or_else(|e| e.into_inner()).values() {
            resources::release(b, image.entry);
        }
        Ok(())
    }
}
