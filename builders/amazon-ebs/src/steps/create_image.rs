//! Makes the AMI from the stopped instance. With `force_deregister`, an
//! AMI of the same name is deregistered first (its snapshots deleted too
//! with `force_delete_snapshot`), as Packer does. The new AMI is tagged
//! with the run's id as it is made, and journaled before: until the build
//! has finished it is partial, and a failure, Ctrl-C or `bake cleanup`
//! removes it with its snapshots.

use super::{Image, State};
use crate::config::Prepared;
use aws_sdk_ec2::types::ResourceType;
use bake_aws::resources::{self, IMAGE};
use bake_aws::{sdk_error, tags, Aws};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct CreateImage {
    pub p: Arc<Prepared>,
}

/// `force_deregister`: removes the AMI of the build's name in `aws`'s region.
pub async fn replace_existing(p: &Prepared, aws: &Aws, b: &BuildInfo) -> anyhow::Result<()> {
    resources::replace_existing(&b.ui, aws, &p.config.ami_name, p.config.force_deregister, p.config.force_delete_snapshot).await
}

/// The name of the AMI an encrypted one is copied from.
pub fn unencrypted_name(b: &BuildInfo) -> String {
    format!("bake-unencrypted-{}-{}", b.source_name, b.run_uuid)
}

/// Removes the build's partial AMIs in the regions `regions` of `s.images`.
pub async fn remove_partial(s: &mut State, regions: &[String], b: &BuildInfo) -> anyhow::Result<()> {
    if s.done {
        return Ok(());
    }
    let Some(aws) = s.aws.clone() else { return Ok(()) };
    for region in regions {
        let Some(image) = s.take_image(region) else { continue };
        // `REGION#plain`: the unencrypted AMI an encrypted one is copied from.
        let region = region.split('#').next().unwrap_or_default();
        let ec2 = aws.in_region(region).ec2();
        // Cancelled before the call answered: find it by the run's tag.
        let ids = if image.id.is_empty() { resources::images_of_run(&ec2, &b.run_uuid).await? } else { vec![image.id.clone()] };
        for id in &ids {
            resources::delete_image(&ec2, id).await?;
            b.ui.message(format!("{region}: deregistered the partial AMI {id} and deleted its snapshots"));
        }
        resources::release(b, image.entry);
    }
    Ok(())
}

#[async_trait]
impl Step<State> for CreateImage {
    fn name(&self) -> String {
        format!("Creating the AMI \"{}\"", self.p.config.ami_name)
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.create_image")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let aws = s.aws()?.clone();
        replace_existing(&self.p, &aws, b).await?;
        let instance = s.instance.as_ref().map(|i| i.id.clone()).unwrap_or_default();
        let entry = resources::record(b, IMAGE, &aws.region, &format!("run:{}", b.run_uuid))?;
        s.set_image(&aws.region, Image { entry, id: String::new() });
        // An encrypted AMI is an encrypted copy of this one, which takes the
        // name (see copy_regions.rs); this one is removed then.
        let name = if c.encrypt_boot == Some(true) { unencrypted_name(b) } else { c.ami_name.clone() };
        let mappings: Vec<_> = c.ami_block_device_mappings.iter().map(super::run_instance::block_device).collect();
        let out = aws
            .ec2()
            .create_image()
            .instance_id(&instance)
            .name(&name)
            .description(&c.ami_description)
            .set_block_device_mappings(Some(mappings).filter(|m| !m.is_empty()))
            .tag_specifications(tags::specification(ResourceType::Image, &tags::temporary(&b.run_uuid)))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not create the AMI \"{}\" from {instance}: {}", c.ami_name, sdk_error(&e)))?;
        let id = out.image_id().unwrap_or_default().to_string();
        resources::identify(b, entry, IMAGE, &aws.region, &id);
        s.set_image(&aws.region, Image { entry, id: id.clone() });
        b.ui.message(format!("{}: AMI {id} is being made from {instance}", aws.region));
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let region = s.aws.as_ref().map(|a| a.region.clone()).unwrap_or_default();
        remove_partial(s, &[region], b).await
    }
}
