//! The import, step by step, each with its cleanup: connect and check →
//! upload (every region at once) → register the AMIs → keep them. Every
//! snapshot and AMI is journaled before it exists and tagged with the run's
//! id as it is made, so a failure, Ctrl-C or `bake cleanup` removes it.
//! Packer's S3 route (`crate::route_s3`) shares the first and last steps,
//! the state, and what is done to a finished AMI ([`publish`]).

use crate::config::Prepared;
use crate::disk::Disk;
use crate::upload::{self, Options, Parent};
use aws_sdk_ec2::types::{ArchitectureValues, BlockDeviceMapping, BootModeValues, EbsBlockDevice, ResourceType, VolumeType};
use bake_aws::ami::Publication;
use bake_aws::resources::{self, IMAGE, SNAPSHOT};
use bake_aws::{sdk_error, tags, Aws};
use bake_sdk::journal::EntryId;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Marks the snapshots bake imported, for `parent_snapshot = "auto"`.
pub const FAMILY_TAG: &str = "bake:family";

#[derive(Default)]
pub struct State {
    pub aws: Option<Aws>,
    pub disk: Option<Arc<Disk>>,
    pub boot_mode: String,
    /// Region → what was made there; shared by the regions' uploads, which
    /// run at once.
    pub regions: Arc<Mutex<BTreeMap<String, Made>>>,
    /// The S3 route's object and import task.
    pub object: Option<Arc<Mutex<crate::route_s3::Staged>>>,
    pub import: Option<Arc<Mutex<crate::route_s3::Task>>>,
    pub done: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Made {
    pub snapshot: Option<(EntryId, String)>,
    pub image: Option<(EntryId, String)>,
    pub uploaded: Option<upload::Uploaded>,
    /// The snapshots of an AMI the S3 route copied into place.
    pub copied_snapshots: Vec<String>,
}

impl State {
    pub fn aws(&self) -> anyhow::Result<&Aws> {
        self.aws.as_ref().ok_or_else(|| anyhow::anyhow!("not connected to AWS"))
    }

    pub fn update(&self, region: &str, change: impl FnOnce(&mut Made)) {
        change(self.regions.lock().unwrap_or_else(|e| e.into_inner()).entry(region.to_string()).or_default());
    }

    pub fn made(&self) -> BTreeMap<String, Made> {
        self.regions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Region → AMI id.
    pub fn images(&self) -> BTreeMap<String, String> {
        self.made().into_iter().filter_map(|(r, m)| m.image.map(|(_, id)| (r, id))).collect()
    }
}

/// Every region the AMI is made in: the build's first.
pub fn regions(p: &Prepared, build_region: &str) -> Vec<String> {
    let mut all = vec![build_region.to_string()];
    for r in &p.config.ami_regions {
        if !all.contains(r) {
            all.push(r.clone());
        }
    }
    all
}

/// Where bake keeps the block hashes of a snapshot it uploaded.
fn hashes_path(snapshot: &str) -> PathBuf {
    bake_sdk::cache::dir("ebs-blocks").join(format!("{snapshot}.json"))
}

fn load_hashes(snapshot: &str) -> Option<BTreeMap<u64, String>> {
    serde_json::from_slice(&std::fs::read(hashes_path(snapshot)).ok()?).ok()
}

fn save_hashes(snapshot: &str, hashes: &BTreeMap<u64, String>) -> std::io::Result<()> {
    let path = hashes_path(snapshot);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(hashes).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

pub struct Connect {
    pub p: Arc<Prepared>,
    pub disk_path: PathBuf,
}

#[async_trait]
impl Step<State> for Connect {
    fn name(&self) -> String {
        "Connecting to AWS and reading the disk".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.connect")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = self.p.access.connect(&b.ui).await?;
        let disk = Disk::open(&self.disk_path)?;
        // On the S3 route a qcow2 is sent as raw, which is what VM Import
        // is told it gets.
        let sent_as = if self.p.s3.is_some() { "raw" } else { disk.format() };
        if let Some(format) = &self.p.config.format {
            if format != disk.format() && format != sent_as {
                anyhow::bail!("format = \"{format}\", but {} is a {} disk", self.disk_path.display(), disk.format());
            }
        }
        let boot_mode = match &self.p.config.boot_mode {
            Some(mode) => mode.clone(),
            None => {
                bake_disk_image::boot_mode(&disk.head().map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.disk_path.display()))?).as_str().to_string()
            }
        };
        b.ui.message(format!("{}: a {} disk of {}, boot mode {boot_mode}", self.disk_path.display(), disk.format(), bake_sdk::ui::human_size(disk.size())));
        for region in regions(&self.p, &aws.region) {
            let Some(existing) = resources::image_by_name(&aws.in_region(&region).ec2(), &self.p.ami_name).await? else { continue };
            let id = existing.image_id().unwrap_or_default();
            if !self.p.config.force_deregister {
                anyhow::bail!(
                    "an AMI named \"{}\" exists already in {region} ({id}); choose another ami_name, or set force_deregister = true to replace it",
                    self.p.ami_name
                );
            }
        }
        if let Some(route) = &self.p.s3 {
            crate::s3::check_bucket(&crate::s3::client(&aws), &route.bucket).await?;
        }
        (s.aws, s.disk, s.boot_mode) = (Some(aws), Some(Arc::new(disk)), boot_mode);
        Ok(())
    }
}

pub struct Upload {
    pub p: Arc<Prepared>,
}

/// The parent snapshot in `aws`'s region, when the template asks for one.
async fn parent(p: &Prepared, aws: &Aws, b: &BuildInfo) -> anyhow::Result<Option<Parent>> {
    let Some(wanted) = &p.config.parent_snapshot else { return Ok(None) };
    let ec2 = aws.ec2();
    let id = if wanted == "auto" {
        let filter = aws_sdk_ec2::types::Filter::builder().name(format!("tag:{FAMILY_TAG}")).values(&p.family).build();
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(filter)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not look for a parent snapshot: {}", sdk_error(&e)))?;
        let mut found: Vec<_> = out.snapshots().iter().filter(|s| s.state() == Some(&aws_sdk_ec2::types::SnapshotState::Completed)).cloned().collect();
        found.sort_by_key(|s| s.start_time().map(|t| t.secs()));
        match found.last().and_then(|s| s.snapshot_id()) {
            Some(id) => id.to_string(),
            None => {
                b.ui.message(format!("{}: no earlier snapshot of \"{}\"; uploading in full", aws.region, p.family));
                return Ok(None);
            }
        }
    } else {
        wanted.clone()
    };
    let hashes = load_hashes(&id);
    let blocks = match &hashes {
        Some(h) => h.keys().copied().collect(),
        None => {
            let ebs = upload::client(aws);
            let mut blocks = std::collections::BTreeSet::new();
            let mut next: Option<String> = None;
            loop {
                let out = ebs
                    .list_snapshot_blocks()
                    .snapshot_id(&id)
                    .set_next_token(next.clone())
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("could not list the blocks of {id}: {}", sdk_error(&e)))?;
                blocks.extend(out.blocks().iter().filter_map(|b| b.block_index()).map(|i| i.max(0) as u64));
                next = out.next_token().map(str::to_string);
                if next.is_none() {
                    break;
                }
            }
            blocks
        }
    };
    let how = if hashes.is_some() { "only the blocks that differ are sent" } else { "its block hashes are not here, so every block with data is sent" };
    b.ui.message(format!("{}: parent snapshot {id}: {how}", aws.region));
    Ok(Some(Parent { snapshot_id: id, hashes, blocks }))
}

async fn upload_region(p: &Prepared, s: &State, b: &BuildInfo, region: &str) -> anyhow::Result<()> {
    let aws = s.aws()?.in_region(region);
    let disk = s.disk.clone().ok_or_else(|| anyhow::anyhow!("no disk"))?;
    let encrypted = p.config.encrypt_boot == Some(true);
    let kms = p.kms_key_for(region, &s.aws()?.region);
    let mut tags: Vec<(String, String)> =
        tags::temporary(&b.run_uuid).iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect();
    tags.push((FAMILY_TAG.into(), p.family.clone()));
    let options = Options {
        description: format!("{} (bake amazon-import of {})", p.ami_name, b.name),
        tags,
        encrypted,
        kms_key_arn: kms.filter(|_| encrypted),
        parent: parent(p, &aws, b).await?,
        concurrency: p.concurrency,
    };
    let entry = resources::record(b, SNAPSHOT, region, &format!("run:{}", b.run_uuid))?;
    s.update(region, |m| m.snapshot = Some((entry, String::new())));
    let started = |id: &str| {
        resources::identify(b, entry, SNAPSHOT, region, id);
        s.update(region, |m| m.snapshot = Some((entry, id.to_string())));
    };
    let uploaded = upload::upload(&b.ui, &aws, disk.clone(), &options, &started).await?;
    upload::wait_completed(&b.ui, &aws, &uploaded.snapshot_id, &p.polling, disk.volume_gib() as u64).await?;
    if let Err(e) = save_hashes(&uploaded.snapshot_id, &uploaded.hashes) {
        b.ui.message(format!("cannot keep the block hashes of {} (a later parent_snapshot upload sends every block): {e}", uploaded.snapshot_id));
    }
    s.update(region, |m| m.uploaded = Some(uploaded));
    Ok(())
}

/// Deletes the run's partial AMIs and snapshots in every region (each
/// region tried, whatever another's fails with); what is removed leaves
/// the state, so a removal that fails is tried again by the next cleanup.
pub async fn remove_partial(s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
    if s.done {
        return Ok(());
    }
    let Some(aws) = s.aws.clone() else { return Ok(()) };
    let regions: Vec<String> = s.made().into_keys().collect();
    let state: &State = s;
    bake_aws::in_every_region(&regions, |region| remove_partial_in(state, b, &aws, region)).await
}

async fn remove_partial_in(s: &State, b: &BuildInfo, aws: &Aws, region: &str) -> anyhow::Result<()> {
    let ec2 = aws.in_region(region).ec2();
    let Some(m) = s.made().get(region).cloned() else { return Ok(()) };
    if let Some((entry, id)) = m.image {
        // Cancelled before RegisterImage or CopyImage answered: it may
        // have made one, tagged with the run.
        let ids = if id.is_empty() { resources::images_of_run(&ec2, &b.run_uuid).await? } else { vec![id] };
        for id in ids {
            resources::delete_image(&ec2, &id).await?;
            b.ui.message(format!("{region}: deregistered the partial AMI {id}"));
        }
        resources::release(b, entry);
        s.update(region, |m| m.image = None);
    }
    if let Some((entry, id)) = m.snapshot {
        // Cancelled before StartSnapshot answered: it may have made one.
        let ids = if id.is_empty() { resources::snapshots_of_run(&ec2, &b.run_uuid).await? } else { vec![id] };
        for id in ids {
            resources::delete_snapshot(&ec2, &id).await?;
            b.ui.message(format!("{region}: deleted the partial snapshot {id}"));
        }
        resources::release(b, entry);
        s.update(region, |m| m.snapshot = None);
    }
    Ok(())
}

#[async_trait]
impl Step<State> for Upload {
    fn name(&self) -> String {
        "Uploading the disk into EBS snapshots".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.upload")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let all = regions(&self.p, &s.aws()?.region);
        let state: &State = s;
        bake_aws::in_every_region(&all, |r| upload_region(&self.p, state, b, r)).await
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        remove_partial(s, b).await
    }
}

pub struct Register {
    pub p: Arc<Prepared>,
}

async fn register_region(p: &Prepared, s: &State, b: &BuildInfo, region: &str) -> anyhow::Result<()> {
    let c = &p.config;
    let aws = s.aws()?.in_region(region);
    let ec2 = aws.ec2();
    let disk = s.disk.clone().ok_or_else(|| anyhow::anyhow!("no disk"))?;
    let snapshot = s.made().get(region).and_then(|m| m.snapshot.clone()).map(|(_, id)| id).unwrap_or_default();
    resources::replace_existing(&b.ui, &aws, &p.ami_name, c.force_deregister, c.force_delete_snapshot).await?;
    let root = BlockDeviceMapping::builder()
        .device_name("/dev/xvda")
        .ebs(
            EbsBlockDevice::builder()
                .snapshot_id(&snapshot)
                .volume_size(disk.volume_gib() as i32)
                .volume_type(VolumeType::Gp3)
                .delete_on_termination(true)
                .build(),
        )
        .build();
    let entry = resources::record(b, IMAGE, region, &format!("run:{}", b.run_uuid))?;
    s.update(region, |m| m.image = Some((entry, String::new())));
    let out = ec2
        .register_image()
        .name(&p.ami_name)
        .description(&c.ami_description)
        .architecture(ArchitectureValues::from(c.architecture.as_deref().unwrap_or("x86_64")))
        .root_device_name("/dev/xvda")
        .block_device_mappings(root)
        .virtualization_type("hvm")
        .ena_support(true)
        .boot_mode(BootModeValues::from(s.boot_mode.as_str()))
        .tag_specifications(tags::specification(ResourceType::Image, &tags::temporary(&b.run_uuid)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not register the AMI \"{}\" from {snapshot}: {}", p.ami_name, sdk_error(&e)))?;
    let id = out.image_id().unwrap_or_default().to_string();
    resources::identify(b, entry, IMAGE, region, &id);
    s.update(region, |m| m.image = Some((entry, id.clone())));
    // The snapshot belongs to the AMI now: removing the AMI removes it.
    if let Some((snapshot_entry, _)) = s.made().get(region).and_then(|m| m.snapshot.clone()) {
        resources::release(b, snapshot_entry);
        s.update(region, |m| m.snapshot = None);
    }
    bake_aws::images::wait_available(&b.ui, &ec2, &id, region, &p.polling, disk.volume_gib() as u64).await?;
    publish(p, &aws, &s.aws()?.region, &id, vec![snapshot.clone()]).await?;
    b.ui.message(format!("{region}: AMI {id} ({}, {}) from {snapshot}", p.ami_name, s.boot_mode));
    Ok(())
}

/// What a finished AMI gets, on either route: the template's tags (on it
/// and its snapshots), its launch permissions, the SSM parameter.
pub async fn publish(p: &Prepared, aws: &Aws, build_region: &str, id: &str, snapshots: Vec<String>) -> anyhow::Result<()> {
    let c = &p.config;
    let values = BTreeMap::from([("BuildRegion", build_region.to_string())]);
    let user_tags = tags::with(Vec::new(), &tags::render(&c.tags, &values).map_err(|e| anyhow::anyhow!("tags: {e}"))?);
    let publication = Publication {
        // Packer's amazon-import tags the snapshots alike.
        snapshot_tags: user_tags.clone(),
        tags: user_tags,
        users: &c.ami_users,
        groups: &c.ami_groups,
        org_arns: &c.ami_org_arns,
        ou_arns: &c.ami_ou_arns,
        imds_v2: c.imds_support.as_deref() == Some("v2.0"),
        ssm_parameter: c.ssm_parameter.as_deref(),
        ..Publication::default()
    };
    bake_aws::ami::publish(aws, id, &snapshots, &publication).await
}

#[async_trait]
impl Step<State> for Register {
    fn name(&self) -> String {
        format!("Registering the AMI \"{}\"", self.p.ami_name)
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.register")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let all = regions(&self.p, &s.aws()?.region);
        let state: &State = s;
        bake_aws::in_every_region(&all, |r| register_region(&self.p, state, b, r)).await
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        remove_partial(s, b).await
    }
}

/// The AMIs are the result now: they and their snapshots lose the run's
/// temporary tags (the family tag stays, for the next delta), and the
/// journal lets go of them.
pub struct Finish;

#[async_trait]
impl Step<State> for Finish {
    fn name(&self) -> String {
        "Keeping the AMIs".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.finish")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?.clone();
        for (region, m) in s.made() {
            let ec2 = aws.in_region(&region).ec2();
            let mut ids: Vec<String> = m.uploaded.iter().map(|u| u.snapshot_id.clone()).chain(m.copied_snapshots.iter().cloned()).collect();
            ids.extend(m.image.iter().map(|(_, id)| id.clone()));
            tags::untag_temporary(&ec2, ids).await?;
        }
        s.done = true;
        for m in s.made().values() {
            for (entry, _) in m.image.iter().chain(&m.snapshot) {
                resources::release(b, *entry);
            }
        }
        Ok(())
    }
}
