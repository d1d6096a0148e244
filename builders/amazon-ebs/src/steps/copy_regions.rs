//! Copies the AMI to `ami_regions`, all at once, each copy recorded and
//! tagged with the run's id before it is awaited. With `encrypt_boot` the
//! build region's AMI is first replaced by an encrypted copy of itself (as
//! Packer does; `kms_key_id`), and the copies are encrypted too
//! (`region_kms_key_ids`, else the region's default key).

use super::{Image, State};
use crate::config::Prepared;
use bake_aws::images::CopyAs;
use bake_aws::resources;
use bake_aws::Aws;
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
    let copy = CopyAs { name: &p.config.ami_name, description: &p.config.ami_description, encrypted: p.config.encrypt_boot == Some(true), kms_key_id };
    let made = |entry, id: &str| s.set_image(region, Image { entry, id: id.to_string() });
    let image = bake_aws::images::copy(b, build_aws, &aws, source, &copy, &p.polling, super::wait_image::volume_gib(p, s), &made).await?;
    let id = image.image_id().unwrap_or_default().to_string();
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
