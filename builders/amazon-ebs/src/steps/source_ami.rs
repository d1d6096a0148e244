//! Finds the AMI the instance starts from: `source_ami` by id, or what
//! `source_ami_filter` selects (its owners required, the newest with
//! `most_recent`). It must be available; its facts fill the tags'
//! placeholders (`{{ .SourceAMIName }}` …).

use super::{SourceImage, State};
use crate::config::Prepared;
use aws_sdk_ec2::types::{Image, ImageState};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct SourceAmi {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for SourceAmi {
    fn name(&self) -> String {
        "Finding the source AMI".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.source_ami")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?;
        let ec2 = aws.ec2();
        let image = match (&self.p.config.source_ami, self.p.filter()) {
            (Some(id), _) => {
                let out = ec2
                    .describe_images()
                    .image_ids(id)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("could not find the source AMI {id}: {}", bake_aws::sdk_error(&e)))?;
                out.images()
                    .first()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("the source AMI {id} does not exist in {} (or is not visible to this account)", aws.region))?
            }
            (None, Some(filter)) => filter.find(&ec2).await?,
            (None, None) => anyhow::bail!("no source AMI is configured"),
        };
        let source = describe(&image);
        if image.state() != Some(&ImageState::Available) {
            let state = image.state().map_or("unknown".to_string(), |st| st.as_str().to_string());
            anyhow::bail!("the source AMI {} ({}) is {state}, not available", source.id, source.name);
        }
        b.ui.message(format!("Source AMI: {} ({}), owner {}, made {}", source.id, source.name, source.owner, source.creation_date));
        s.source = Some(source);
        Ok(())
    }
}

fn describe(image: &Image) -> SourceImage {
    let text = |s: Option<&str>| s.unwrap_or_default().to_string();
    let volume_gib = image.block_device_mappings().iter().filter_map(|m| m.ebs().and_then(|e| e.volume_size())).map(|size| size.max(0) as u64).sum();
    SourceImage {
        id: text(image.image_id()),
        name: text(image.name()),
        owner: text(image.owner_id()),
        owner_name: text(image.image_owner_alias()),
        creation_date: text(image.creation_date()),
        volume_gib,
    }
}
