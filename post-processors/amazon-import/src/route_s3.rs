//! Packer's route, step by step, each with its cleanup: upload the disk to
//! S3 → import it (ImportImage, then wait) → copy the imported AMI to its
//! name and to every region (a rename is a copy: ImportImage names the AMI
//! after its task) → (then `Finish`, shared with the EBS direct route). The
//! cleanups remove the imported AMI and the S3 object at the end, whatever
//! happened (`skip_clean` keeps the object after a success).

use crate::config::{Prepared, S3Route};
use crate::resources::{object_id, IMPORT_TASK, S3_OBJECT};
use crate::s3::{self, Object, Progress};
use crate::steps::{publish, regions, State};
use crate::vm_import::{self, Imported};
use bake_aws::images::CopyAs;
use bake_aws::{resources, tags};
use bake_sdk::journal::EntryId;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The S3 object while the run has it.
#[derive(Clone, Debug)]
pub struct Staged {
    pub entry: EntryId,
    pub object: Object,
    pub progress: Progress,
}

/// The import task while the run has it: its id is empty until ImportImage
/// answers (the journal finds it by the run's tag then).
#[derive(Clone, Debug)]
pub struct Task {
    pub entry: EntryId,
    pub id: String,
    pub imported: Option<Imported>,
}

fn route(p: &Prepared) -> anyhow::Result<&S3Route> {
    p.s3.as_ref().ok_or_else(|| anyhow::anyhow!("not the S3 route"))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct UploadObject {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for UploadObject {
    fn name(&self) -> String {
        "Uploading the disk to S3".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.upload_object")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let r = route(&self.p)?;
        let aws = s.aws()?.clone();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let values = BTreeMap::from([("timestamp", now.to_string()), ("BuildName", b.name.clone())]);
        let key = bake_sdk::placeholders::render(&r.key, &values).map_err(|e| anyhow::anyhow!("s3_key_name: {e}"))?;
        let object = Object { bucket: r.bucket.clone(), key };
        if r.encryption.algorithm.as_deref() != Some("aws:kms") && r.encryption.kms_key.is_some() {
            b.ui.message("s3_encryption_key is ignored: it is for s3_encryption = \"aws:kms\"");
        }
        let entry = resources::record(b, S3_OBJECT, &aws.region, &object_id(&object, &Progress::Uploading(None)))?;
        let staged = Arc::new(Mutex::new(Staged { entry, object: object.clone(), progress: Progress::Uploading(None) }));
        s.object = Some(staged.clone());
        let progressed = |progress: Progress| {
            resources::identify(b, entry, S3_OBJECT, &aws.region, &object_id(&object, &progress));
            lock(&staged).progress = progress;
        };
        let disk = s.disk.clone().ok_or_else(|| anyhow::anyhow!("no disk"))?;
        s3::upload(&b.ui, &s3::client(&aws), disk, &object, &r.encryption, &|id| progressed(Progress::Uploading(Some(id.to_string())))).await?;
        progressed(Progress::Complete);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let Some(staged) = s.object.as_ref().map(|o| lock(o).clone()) else { return Ok(()) };
        if s.done && route(&self.p)?.skip_clean {
            b.ui.message(format!("keeping {} (skip_clean)", staged.object));
        } else {
            s3::remove(&s3::client(s.aws()?), &staged.object, &staged.progress).await?;
            match staged.progress {
                Progress::Complete => b.ui.message(format!("removed {}", staged.object)),
                Progress::Uploading(_) => b.ui.message(format!("aborted the upload to {}", staged.object)),
            }
        }
        resources::release(b, staged.entry);
        s.object = None;
        Ok(())
    }
}

pub struct ImportObject {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for ImportObject {
    fn name(&self) -> String {
        "Importing the disk (ImportImage)".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.import_image")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let aws = s.aws()?.clone();
        let ec2 = aws.ec2();
        let object = s.object.as_ref().map(|o| lock(o).object.clone()).ok_or_else(|| anyhow::anyhow!("nothing uploaded"))?;
        // ImportImage takes uefi or legacy-bios: a disk that boots either
        // way (GPT with both an ESP and a BIOS boot partition) goes as uefi.
        let boot_mode = if s.boot_mode == "uefi-preferred" { "uefi" } else { s.boot_mode.as_str() };
        let description = format!("{} (bake amazon-import of {})", self.p.ami_name, b.name);
        let request = vm_import::Request {
            object: &object,
            description: &description,
            architecture: c.architecture.as_deref().unwrap_or("x86_64"),
            boot_mode,
            platform: c.platform.as_deref(),
            role_name: c.role_name.as_deref(),
            license_type: c.license_type.as_deref(),
            encrypted: c.encrypt_boot == Some(true),
            kms_key_id: c.kms_key_id.as_deref(),
            run_uuid: &b.run_uuid,
        };
        let entry = resources::record(b, IMPORT_TASK, &aws.region, &format!("run:{}", b.run_uuid))?;
        let task = Arc::new(Mutex::new(Task { entry, id: String::new(), imported: None }));
        s.import = Some(task.clone());
        let id = vm_import::start(&ec2, &request).await?;
        resources::identify(b, entry, IMPORT_TASK, &aws.region, &id);
        lock(&task).id = id.clone();
        b.ui.message(format!("{}: importing {object} as task {id}", aws.region));
        let gib = s.disk.as_ref().map_or(1, |d| d.volume_gib() as u64);
        let imported = vm_import::wait(&b.ui, &ec2, &id, &aws.region, &self.p.polling, gib).await?;
        lock(&task).imported = Some(imported.clone());
        // Until the copies replace it, the imported AMI is temporary: a
        // sweep must find it too.
        let mut ids = vec![imported.image_id.clone()];
        ids.extend(imported.snapshots.iter().cloned());
        ec2.create_tags()
            .set_resources(Some(ids))
            .set_tags(Some(tags::temporary(&b.run_uuid)))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not tag {}: {}", imported.image_id, bake_aws::sdk_error(&e)))?;
        b.ui.message(format!("{}: task {id} imported the disk as {}", aws.region, imported.image_id));
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        remove_import(s, b).await
    }
}

/// Cancels the import, or removes the AMI it made (which the copies
/// replace on success): the run's import leaves nothing. The task stays in
/// the state until it is undone, so an interrupted removal is tried again.
async fn remove_import(s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
    let Some(task) = s.import.as_ref().map(|t| lock(t).clone()) else { return Ok(()) };
    let ec2 = s.aws()?.ec2();
    let ids = if task.id.is_empty() { vm_import::tasks_of_run(&ec2, &b.run_uuid).await? } else { vec![task.id.clone()] };
    for id in ids {
        vm_import::undo(&ec2, &id).await?;
        match &task.imported {
            Some(done) => b.ui.message(format!("removed the imported {} (task {id})", done.image_id)),
            None => b.ui.message(format!("cancelled the import task {id}")),
        }
    }
    resources::release(b, task.entry);
    s.import = None;
    Ok(())
}

pub struct CopyToName {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CopyToName {
    fn name(&self) -> String {
        format!("Copying the imported AMI to \"{}\"", self.p.ami_name)
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-import.copy_to_name")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let build = s.aws()?.clone();
        let imported = s.import.as_ref().and_then(|t| lock(t).imported.clone()).ok_or_else(|| anyhow::anyhow!("nothing imported"))?;
        let gib = s.disk.as_ref().map_or(1, |d| d.volume_gib() as u64);
        let all = regions(&self.p, &build.region);
        let (state, build, imported, this) = (&*s, &build, &imported, self);
        bake_aws::in_every_region(&all, move |region| async move {
            let p = &this.p;
            let aws = build.in_region(region);
            resources::replace_existing(&b.ui, &aws, &p.ami_name, c.force_deregister, c.force_delete_snapshot).await?;
            let kms_key_id = p.kms_key_for(region, &build.region);
            let copy = CopyAs { name: &p.ami_name, description: &c.ami_description, encrypted: c.encrypt_boot == Some(true), kms_key_id };
            let made = |entry, id: &str| state.update(region, |m| m.image = Some((entry, id.to_string())));
            let image = bake_aws::images::copy(b, build, &aws, &imported.image_id, &copy, &p.polling, gib, &made).await?;
            let id = image.image_id().unwrap_or_default().to_string();
            let snapshots = resources::snapshots_of(&image);
            state.update(region, |m| m.copied_snapshots = snapshots.clone());
            publish(p, &aws, &build.region, &id, snapshots).await?;
            b.ui.message(format!("{region}: AMI {id} ({}, {})", p.ami_name, state.boot_mode));
            Ok(())
        })
        .await
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        crate::steps::remove_partial(s, b).await
    }
}
