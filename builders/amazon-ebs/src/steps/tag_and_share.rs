//! Tags each AMI and its snapshots with the template's `tags` and
//! `snapshot_tags` (placeholders filled), shares them (`ami_users`,
//! `ami_groups`, `ami_org_arns`, `ami_ou_arns`, `snapshot_users`,
//! `snapshot_groups`), sets
//! `deprecate_at` and `imds_support`, and writes `ssm_parameter` in each
//! region, in every region at once.

use super::State;
use crate::config::Prepared;
use bake_aws::ami::Publication;
use bake_aws::{resources, sdk_error, tags, Aws};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct TagAndShare {
    pub p: Arc<Prepared>,
}

async fn finish_region(p: &Prepared, s: &State, aws: &Aws, id: &str) -> anyhow::Result<()> {
    let c = &p.config;
    let image = aws.ec2().describe_images().image_ids(id).send().await.map_err(|e| anyhow::anyhow!("could not describe {id}: {}", sdk_error(&e)))?;
    let snapshots = image.images().first().map(resources::snapshots_of).unwrap_or_default();
    let values = s.placeholders();
    let publication = Publication {
        tags: tags::with(Vec::new(), &tags::render(&c.tags, &values)?),
        snapshot_tags: tags::with(Vec::new(), &tags::render(&c.snapshot_tags, &values)?),
        users: &c.ami_users,
        groups: &c.ami_groups,
        org_arns: &c.ami_org_arns,
        ou_arns: &c.ami_ou_arns,
        snapshot_users: &c.snapshot_users,
        snapshot_groups: &c.snapshot_groups,
        deprecate_at: c.deprecate_at.as_deref(),
        imds_v2: c.imds_support.as_deref() == Some("v2.0"),
        ssm_parameter: c.ssm_parameter.as_deref(),
    };
    bake_aws::ami::publish(aws, id, &snapshots, &publication).await
}

#[async_trait]
impl Step<State> for TagAndShare {
    fn name(&self) -> String {
        "Tagging and sharing the AMIs".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.tag_and_share")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?.clone();
        let images = s.image_ids();
        let state: &State = s;
        bake_aws::in_every_region(images.keys(), |region| {
            let aws = aws.in_region(region);
            let id = &images[region];
            async move { finish_region(&self.p, state, &aws, id).await }
        })
        .await?;
        if let Some(name) = &self.p.config.ssm_parameter {
            b.ui.message(format!("SSM parameter {name} = the new AMI, in {}", images.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
        Ok(())
    }
}
