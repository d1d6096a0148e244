//! Copies the AMI to `ami_regions`, all at once, each copy recorded and
//! tagged with the run's id before it is awaited. With `encrypt_boot` the
//! build region's AMI is first replaced by an encrypted copy of itself (as
//! Packer does; `kms_key_id`), and the copies are encrypted too
//! (`region_kms_key_ids`, else the region's default key).

use super::{Image, State};
use crate::config::Prepared;
use aws_sdk_ec2::types::ResourceType;
use bake_aws::resources::{self, IMAGE};
use bake_aws::{sdk_error, tags, Aws};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct CopyRegions {
    pub p: Arc<Prepared>,
}

/// Copies `source` (in the build region) to `region` and waits for it.
async fn copy(p: &Prepared, s: &State, b: &BuildInfo, source: &str, region: &str, kms_key_id: Option<String>) -> anyhow::Result<String> {
    let build_aws: &Aws = s.aws()?;
    let aws = build_aws.in_region(region);
    if region != build_aws.region {
        super::create_image::replace_existing(p, &aws, b).await?;
    }
    let ec2 = aws.ec2();
    let entry = resources::record(b, IMAGE, region, &format!("run:{}", b.run_uuid))?;
    s.set_image(region, Image { entry, id: String::new() });
    let encrypted = p.config.encrypt_boot == Some(true);
    let run_tags = tags::temporary(&b.run_uuid);
    let out = ec2
        .copy_image()
        .source_image_id(source)
        .source_region(&build_aws.region)
        .name(&p.config.ami_name)
        .description(&p.config.ami_description)
        .set_encrypted(encrypted.then_some(true))
        .set_kms_key_id(kms_key_id.filter(|_| encrypted))
        .tag_specifications(tags::specification(ResourceType::Image, &run_tags))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not copy {source} to {region}: {}", sdk_error(&e)))?;
    let id = out.image_id().unwrap_or_default().to_string();
    resources::identify(b, entry, IMAGE, region, &id);
    s.set_image(region, Image { entry, id: id.clone() });
    // Not every endpoint tags on CopyImage (the emulator does not).
    ec2.create_tags().resources(&id).set_tags(Some(run_tags.clone())).send().await.map_err(|e| anyhow::anyhow!("could not tag {id}: {}", sdk_error(&e)))?;
    b.ui.message(format!("{region}: copying {source} as {id}"));
    let image = bake_aws::images::wait_available(&b.ui, &ec2, &id, region, &p.polling, super::wait_image::volume_gib(p, s)).await?;
    super::wait_image::tag_snapshots(&ec2, &image, run_tags).await?;
    b.ui.message(format!("{region}: AMI {id} is available"));
    Ok(id)
}

#[async_trait]
impl Step<State> for CopyRegions {
    fn name(&self) -> String {
        if self.p.config.encrypt_boot == Some(true) {
            "Encrypting and copying the AMI".into()
        } else {
            "Copying the AMI to other regions".into()
        }
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.copy_regions")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let build_region = s.aws()?.region.clone();
        if self.p.config.encrypt_boot == Some(true) {
            let plain = s.take_image(&build_region).ok_or_else(|| anyhow::anyhow!("no AMI to encrypt"))?;
            // Until the copy exists, the plain AMI is the partial one.
            let encrypted = {
                s.set_image(&format!("{build_region}#plain"), plain.clone());
                copy(&self.p, s, b, &plain.id, &build_region, self.p.config.kms_key_id.clone()).await
            };
            let ec2 = s.aws()?.ec2();
            resources::delete_image(&ec2, &plain.id).await?;
            resources::release(b, plain.entry);
            s.take_image(&format!("{build_region}#plain"));
            b.ui.message(format!("{build_region}: removed the unencrypted {}", plain.id));
            encrypted?;
        }
        let source = s.image_id(&build_region);
        let copies = self.p.copy_regions(&build_region);
        let state: &State = s;
        bake_aws::in_every_region(&copies, |region| async {
            copy(&self.p, state, b, &source, region, self.p.config.region_kms_key_ids.get(region).cloned()).await.map(drop)
        })
        .await
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let build_region = s.aws.as_ref().map(|a| a.region.clone()).unwrap_or_default();
        let mut regions = self.p.copy_regions(&build_region);
        if self.p.config.encrypt_boot == Some(true) {
            regions.push(build_region.clone());
            regions.push(format!("{build_region}#plain"));
        }
        super::create_image::remove_partial(s, &regions, b).await
    }
}
