//! An AMI as a build's result, whichever plugin made it (the amazon-ebs
//! builder, the amazon-import post-processor): Packer's artifact form, its
//! removal when a chain does not keep it, and the SSM parameter that names
//! the newest one.

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
