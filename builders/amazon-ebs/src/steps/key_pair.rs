//! The key pair the instance starts with: the template's
//! (`ssh_keypair_name`, with `ssh_private_key_file`), or a temporary one
//! made by EC2 (`temporary_key_pair_type`, rsa by default, as Packer) when
//! the template gives no credentials; its private key logs in and is masked
//! in every output.

use super::State;
use crate::config::Prepared;
use aws_sdk_ec2::types::{KeyType, ResourceType};
use bake_aws::resources::{self, KEY_PAIR};
use bake_aws::{sdk_error, tags};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct KeyPair {
    pub p: Arc<Prepared>,
}

/// A name of the run and the build, so that parallel builds do not clash.
pub fn temporary_name(b: &BuildInfo) -> String {
    format!("bake_{}_{}", b.source_name, b.run_uuid)
}

#[async_trait]
impl Step<State> for KeyPair {
    fn name(&self) -> String {
        match &self.p.comm.key_pair.existing {
            Some(name) => format!("Using the key pair {name}"),
            None => "Creating a temporary key pair".into(),
        }
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.key_pair")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(name) = &self.p.comm.key_pair.existing {
            s.key_name = Some(name.clone());
            return Ok(());
        }
        let aws = s.aws()?.clone();
        let name = self.p.comm.key_pair.temporary_name.clone().unwrap_or_else(|| temporary_name(b));
        let kind = if self.p.comm.key_pair.temporary_type == "ed25519" { KeyType::Ed25519 } else { KeyType::Rsa };
        s.key_pair_entry = Some(resources::record(b, KEY_PAIR, &aws.region, &name)?);
        s.key_name = Some(name.clone());
        let created = aws
            .ec2()
            .create_key_pair()
            .key_name(&name)
            .key_type(kind)
            .tag_specifications(tags::specification(ResourceType::KeyPair, &tags::temporary(&b.run_uuid)))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not create the key pair {name}: {}", sdk_error(&e)))?;
        let material = created.key_material().unwrap_or_default().to_string();
        b.ui.add_secret(&material);
        b.ui.message(format!("Created the key pair {name} ({})", self.p.comm.key_pair.temporary_type));
        s.private_key = Some(material);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let Some(entry) = s.key_pair_entry.take() else { return Ok(()) };
        let (Some(aws), Some(name)) = (&s.aws, &s.key_name) else { return Ok(()) };
        resources::delete_key_pair(&aws.ec2(), name).await?;
        resources::release(b, entry);
        b.ui.message(format!("Deleted the key pair {name}"));
        Ok(())
    }
}
