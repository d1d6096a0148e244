//! An AMI as a build's result, whichever plugin made it (the amazon-ebs
//! builder, the amazon-import post-processor): Packer's artifact form, its
//! removal when a chain does not keep it, and what a finished AMI gets in
//! each region ([`publish`]: tags, launch permissions, deprecation, IMDSv2,
//! the SSM parameter that names the newest one).

use crate::{resources, sdk_error, Aws};
use bake_sdk::artifact::{state as keys, DestroyArtifact};
use bake_sdk::{async_trait, Artifact, Ui};
use std::collections::BTreeMap;

/// Packer's amazon artifact: the id `region:ami-…,…` sorted by region, and
/// the region → AMI map the manifest's `region_images` and the terraform
/// post-processor read.
pub fn artifact(builder_type: &str, images: &BTreeMap<String, String>) -> Artifact {
    let id = images.iter().map(|(r, a)| format!("{r}:{a}")).collect::<Vec<_>>().join(",");
    let lines: Vec<String> = images.iter().map(|(r, a)| format!("{r}: {a}")).collect();
    Artifact {
        builder_type: builder_type.into(),
        id,
        description: format!("AMIs were created:\n{}", lines.join("\n")),
        files: Vec::new(),
        state: BTreeMap::from([(keys::REGION_IMAGES.to_string(), serde_json::json!(images))]),
    }
}

/// Removes AMIs that a chain does not keep (Packer's `Artifact.Destroy`):
/// each region's AMI with its snapshots, through the AWS_* environment.
pub struct DeregisterAmis;

#[async_trait]
impl DestroyArtifact for DeregisterAmis {
    async fn destroy(&self, artifact: &Artifact, next: &Artifact, ui: &Ui) -> anyhow::Result<()> {
        let keep = bake_sdk::artifact::region_images(next);
        for (region, id) in bake_sdk::artifact::region_images(artifact) {
            let Some(id) = id.as_str() else { continue };
            if keep.get(&region).and_then(|v| v.as_str()) == Some(id) {
                continue;
            }
            let ec2 = crate::access::from_environment(&region).await.ec2();
            resources::delete_image(&ec2, id).await?;
            ui.message(format!("Deregistered the intermediate AMI {id} in {region} and deleted its snapshots"));
        }
        Ok(())
    }
}

/// What a finished AMI gets, the same whichever plugin made it (Packer's
/// options of those names).
#[derive(Default)]
pub struct Publication<'a> {
    /// `tags`, on the AMI.
    pub tags: Vec<aws_sdk_ec2::types::Tag>,
    /// `snapshot_tags` (amazon-import's `tags` go on both).
    pub snapshot_tags: Vec<aws_sdk_ec2::types::Tag>,
    /// `ami_users`, `ami_groups`, `ami_org_arns`, `ami_ou_arns`.
    pub users: &'a [String],
    pub groups: &'a [String],
    pub org_arns: &'a [String],
    pub ou_arns: &'a [String],
    /// `snapshot_users`, `snapshot_groups`.
    pub snapshot_users: &'a [String],
    pub snapshot_groups: &'a [String],
    /// `deprecate_at`, RFC 3339 (checked when the template is read).
    pub deprecate_at: Option<&'a str>,
    /// `imds_support = "v2.0"`.
    pub imds_v2: bool,
    pub ssm_parameter: Option<&'a str>,
}

/// Gives the AMI `id` (whose snapshots are `snapshots`) in `aws`'s region
/// what `p` asks for.
pub async fn publish(aws: &Aws, id: &str, snapshots: &[String], p: &Publication<'_>) -> anyhow::Result<()> {
    use aws_sdk_ec2::types::{
        AttributeValue, CreateVolumePermission, CreateVolumePermissionModifications, ImdsSupportValues, LaunchPermission, LaunchPermissionModifications,
        PermissionGroup,
    };
    let failed = |what: String| move |e: &(dyn std::error::Error + 'static)| anyhow::anyhow!("could not {what} in {}: {}", aws.region, sdk_error(e));
    let ec2 = aws.ec2();
    if !p.tags.is_empty() {
        ec2.create_tags().resources(id).set_tags(Some(p.tags.clone())).send().await.map_err(|e| failed(format!("tag {id}"))(&e))?;
    }
    if !p.snapshot_tags.is_empty() && !snapshots.is_empty() {
        ec2.create_tags()
            .set_resources(Some(snapshots.to_vec()))
            .set_tags(Some(p.snapshot_tags.clone()))
            .send()
            .await
            .map_err(|e| failed(format!("tag the snapshots of {id}"))(&e))?;
    }
    let mut launch: Vec<LaunchPermission> = p.users.iter().map(|u| LaunchPermission::builder().user_id(u).build()).collect();
    launch.extend(p.groups.iter().map(|g| LaunchPermission::builder().group(PermissionGroup::from(g.as_str())).build()));
    launch.extend(p.org_arns.iter().map(|a| LaunchPermission::builder().organization_arn(a).build()));
    launch.extend(p.ou_arns.iter().map(|a| LaunchPermission::builder().organizational_unit_arn(a).build()));
    if !launch.is_empty() {
        ec2.modify_image_attribute()
            .image_id(id)
            .launch_permission(LaunchPermissionModifications::builder().set_add(Some(launch)).build())
            .send()
            .await
            .map_err(|e| failed(format!("share {id}"))(&e))?;
    }
    let mut volume: Vec<CreateVolumePermission> = p.snapshot_users.iter().map(|u| CreateVolumePermission::builder().user_id(u).build()).collect();
    volume.extend(p.snapshot_groups.iter().map(|g| CreateVolumePermission::builder().group(PermissionGroup::from(g.as_str())).build()));
    if !volume.is_empty() {
        for snapshot in snapshots {
            ec2.modify_snapshot_attribute()
                .snapshot_id(snapshot)
                .create_volume_permission(CreateVolumePermissionModifications::builder().set_add(Some(volume.clone())).build())
                .send()
                .await
                .map_err(|e| failed(format!("share the snapshot {snapshot}"))(&e))?;
        }
    }
    if let Some(at) = p.deprecate_at {
        let at = aws_sdk_ec2::primitives::DateTime::from_str(at, aws_sdk_ec2::primitives::DateTimeFormat::DateTime)?;
        ec2.enable_image_deprecation().image_id(id).deprecate_at(at).send().await.map_err(|e| failed(format!("set the deprecation time of {id}"))(&e))?;
    }
    if p.imds_v2 {
        ec2.modify_image_attribute()
            .image_id(id)
            .imds_support(AttributeValue::builder().value(ImdsSupportValues::V20.as_str()).build())
            .send()
            .await
            .map_err(|e| failed(format!("require IMDSv2 on {id}"))(&e))?;
    }
    if let Some(name) = p.ssm_parameter {
        put_ssm_parameter(aws, name, id).await?;
    }
    Ok(())
}

/// Writes `name` = the AMI `id` in `aws`'s region (data type
/// `aws:ec2:image`, so that launch templates can `resolve:ssm:` it).
pub async fn put_ssm_parameter(aws: &Aws, name: &str, id: &str) -> anyhow::Result<()> {
    aws_sdk_ssm::Client::new(&aws.sdk)
        .put_parameter()
        .name(name)
        .value(id)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .data_type("aws:ec2:image")
        .overwrite(true)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not write the SSM parameter {name} in {}: {}", aws.region, sdk_error(&e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_id_is_packers_sorted_by_region() {
        let images = BTreeMap::from([
            ("us-west-2".to_string(), "ami-2".to_string()),
            ("eu-west-1".to_string(), "ami-3".to_string()),
            ("us-east-1".to_string(), "ami-1".to_string()),
        ]);
        let a = artifact("amazon-ebs", &images);
        assert_eq!(a.id, "eu-west-1:ami-3,us-east-1:ami-1,us-west-2:ami-2");
        assert_eq!(bake_sdk::artifact::region_images(&a).get("us-west-2").and_then(|v| v.as_str()), Some("ami-2"));
        assert!(a.description.starts_with("AMIs were created:\neu-west-1: ami-3\n"), "{}", a.description);
    }
}
