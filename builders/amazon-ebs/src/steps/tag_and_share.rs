//! Tags each AMI and its snapshots with the template's `tags` and
//! `snapshot_tags` (placeholders filled), shares them (`ami_users`,
//! `ami_groups`, `snapshot_users`, `snapshot_groups`), sets
//! `deprecate_at` and `imds_support`, and writes `ssm_parameter` in each
//! region, in every region at once.

use super::State;
use crate::config::{render_tags, Prepared};
use aws_sdk_ec2::types::{
    AttributeValue, CreateVolumePermission, CreateVolumePermissionModifications, ImdsSupportValues, LaunchPermission, LaunchPermissionModifications,
    PermissionGroup,
};
use bake_aws::{resources, sdk_error, tags, Aws};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct TagAndShare {
    pub p: Arc<Prepared>,
}

fn failed(what: String) -> impl FnOnce(&(dyn std::error::Error + 'static)) -> anyhow::Error {
    move |e| anyhow::anyhow!("could not {what}: {}", sdk_error(e))
}

async fn finish_region(p: &Prepared, s: &State, aws: &Aws, id: &str) -> anyhow::Result<()> {
    let c = &p.config;
    let ec2 = aws.ec2();
    let image = ec2.describe_images().image_ids(id).send().await.map_err(|e| failed(format!("describe {id}"))(&e))?;
    let snapshots = image.images().first().map(resources::snapshots_of).unwrap_or_default();
    let values = s.placeholders();
    let image_tags = render_tags(&c.tags, &values)?;
    if !image_tags.is_empty() {
        let t = tags::with(Vec::new(), &image_tags);
        ec2.create_tags().resources(id).set_tags(Some(t)).send().await.map_err(|e| failed(format!("tag {id}"))(&e))?;
    }
    let snapshot_tags = render_tags(&c.snapshot_tags, &values)?;
    if !snapshot_tags.is_empty() && !snapshots.is_empty() {
        let t = tags::with(Vec::new(), &snapshot_tags);
        ec2.create_tags()
            .set_resources(Some(snapshots.clone()))
            .set_tags(Some(t))
            .send()
            .await
            .map_err(|e| failed(format!("tag the snapshots of {id}"))(&e))?;
    }
    if !c.ami_users.is_empty() || !c.ami_groups.is_empty() {
        let mut add: Vec<LaunchPermission> = c.ami_users.iter().map(|u| LaunchPermission::builder().user_id(u).build()).collect();
        add.extend(c.ami_groups.iter().map(|g| LaunchPermission::builder().group(PermissionGroup::from(g.as_str())).build()));
        ec2.modify_image_attribute()
            .image_id(id)
            .launch_permission(LaunchPermissionModifications::builder().set_add(Some(add)).build())
            .send()
            .await
            .map_err(|e| failed(format!("share {id}"))(&e))?;
    }
    if !c.snapshot_users.is_empty() || !c.snapshot_groups.is_empty() {
        let mut add: Vec<CreateVolumePermission> = c.snapshot_users.iter().map(|u| CreateVolumePermission::builder().user_id(u).build()).collect();
        add.extend(c.snapshot_groups.iter().map(|g| CreateVolumePermission::builder().group(PermissionGroup::from(g.as_str())).build()));
        for snapshot in &snapshots {
            ec2.modify_snapshot_attribute()
                .snapshot_id(snapshot)
                .create_volume_permission(CreateVolumePermissionModifications::builder().set_add(Some(add.clone())).build())
                .send()
                .await
                .map_err(|e| failed(format!("share the snapshot {snapshot}"))(&e))?;
        }
    }
    if let Some(at) = &c.deprecate_at {
        let at = aws_sdk_ec2::primitives::DateTime::from_str(at, aws_sdk_ec2::primitives::DateTimeFormat::DateTime)?;
        ec2.enable_image_deprecation().image_id(id).deprecate_at(at).send().await.map_err(|e| failed(format!("set the deprecation time of {id}"))(&e))?;
    }
    if c.imds_support.as_deref() == Some("v2.0") {
        ec2.modify_image_attribute()
            .image_id(id)
            .imds_support(AttributeValue::builder().value(ImdsSupportValues::V20.as_str()).build())
            .send()
            .await
            .map_err(|e| failed(format!("require IMDSv2 on {id}"))(&e))?;
    }
    if let Some(name) = &c.ssm_parameter {
        bake_aws::ami::put_ssm_parameter(aws, name, id).await?;
    }
    Ok(())
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
