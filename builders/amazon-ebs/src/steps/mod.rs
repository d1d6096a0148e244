//! The amazon-ebs build, step by step: each file is one step of the list in
//! `lib.rs`, with its cleanup. Every AWS resource is written to the journal
//! and tagged with the run's id before (or as) it is created, and its step's
//! cleanup removes exactly that, on success, failure and Ctrl-C alike.

mod check_name;
mod connect;
mod connect_ssh;
mod copy_regions;
mod create_image;
mod finish;
mod key_pair;
mod network;
mod run_instance;
mod security_group;
mod source_ami;
mod stop_instance;
mod tag_and_share;
mod wait_image;

pub use check_name::CheckName;
pub use connect::Connect;
pub use connect_ssh::{private_key as connect_ssh_private_key, ssh_host as connect_ssh_host, ConnectSsh};
pub use copy_regions::CopyRegions;
pub use create_image::CreateImage;
pub use finish::Finish;
pub use key_pair::KeyPair;
pub use network::Network;
pub use run_instance::RunInstance;
pub use security_group::SecurityGroup;
pub use source_ami::SourceAmi;
pub use stop_instance::StopInstance;
pub use tag_and_share::TagAndShare;
pub use wait_image::WaitImage;

use bake_aws::Aws;
use bake_sdk::journal::EntryId;
use bake_sdk::ssh::SshCommunicator;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct State {
    pub aws: Option<Aws>,
    pub source: Option<SourceImage>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    /// The key pair the instance starts with (temporary or the template's).
    pub key_name: Option<String>,
    /// The private key of a temporary key pair, and its journal entry.
    pub private_key: Option<String>,
    pub key_pair_entry: Option<EntryId>,
    /// The temporary security group (id, empty until made) and its entry.
    pub temporary_group: Option<(EntryId, String)>,
    pub instance: Option<Instance>,
    pub comm: Option<Arc<SshCommunicator>>,
    /// Region → the AMI made there (the build region's, then the copies);
    /// shared with the copies that run at once, each of which records its
    /// AMI before it awaits anything.
    pub images: Arc<Mutex<BTreeMap<String, Image>>>,
    /// Set by the last step: the AMIs are the build's result, not partial.
    pub done: bool,
}

impl State {
    pub fn aws(&self) -> anyhow::Result<&Aws> {
        self.aws.as_ref().ok_or_else(|| anyhow::anyhow!("not connected to AWS"))
    }

    pub fn set_image(&self, region: &str, image: Image) {
        self.images.lock().unwrap_or_else(|e| e.into_inner()).insert(region.to_string(), image);
    }

    pub fn take_image(&self, region: &str) -> Option<Image> {
        self.images.lock().unwrap_or_else(|e| e.into_inner()).remove(region)
    }

    /// Region → AMI id, sorted by region.
    pub fn image_ids(&self) -> BTreeMap<String, String> {
        self.images.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(r, i)| (r.clone(), i.id.clone())).collect()
    }

    pub fn image_id(&self, region: &str) -> String {
        self.image_ids().remove(region).unwrap_or_default()
    }

    /// The values of the tag options' placeholders (Packer's names).
    pub fn placeholders(&self) -> BTreeMap<&'static str, String> {
        let source = self.source.clone().unwrap_or_default();
        BTreeMap::from([
            ("BuildRegion", self.aws.as_ref().map(|a| a.region.clone()).unwrap_or_default()),
            ("SourceAMI", source.id),
            ("SourceAMIName", source.name),
            ("SourceAMIOwner", source.owner),
            ("SourceAMIOwnerName", source.owner_name),
            ("SourceAMICreationDate", source.creation_date),
        ])
    }
}

/// The AMI the instance starts from.
#[derive(Clone, Debug, Default)]
pub struct SourceImage {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub owner_name: String,
    pub creation_date: String,
    /// The size of its volumes together, for the AMI wait's deadline.
    pub volume_gib: u64,
}

/// The build instance, as soon as RunInstances answered.
#[derive(Clone, Debug, Default)]
pub struct Instance {
    pub entry: EntryId,
    pub id: String,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub public_dns: Option<String>,
    pub private_dns: Option<String>,
}

/// An AMI of the build in one region; `id` is empty until the call that
/// makes it returns (the journal entry exists before).
#[derive(Clone, Debug, Default)]
pub struct Image {
    pub entry: EntryId,
    pub id: String,
}
