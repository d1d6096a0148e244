//! VM Import, the second half of Packer's S3 route: ImportImage turns the
//! uploaded object into an AMI (named after its task, `import-ami-…`) and
//! its snapshot, which takes AWS minutes to an hour; bake waits with the
//! task's progress shown, and a deadline that follows the disk's size.
//!
//! The emulator the tests run against (moto) has no ImportImage. The tests
//! answer this one service, ImportImage, DescribeImportImageTasks and
//! CancelImportTask, in `tests/util/moto_server.py`, as VM Import would
//! (the object becomes a snapshot with the disk's blocks and an AMI, a disk
//! without a partition table fails "Unknown OS"); everything around it (S3,
//! CopyImage, tags, the EBS reads that check the result) is moto's own, with
//! two of its gaps filled there (CopyImage copies the snapshot's data, S3's
//! XML results have AWS's names).

use crate::s3::Object;
use aws_sdk_ec2::types::{BootModeValues, ImageDiskContainer, ImportImageTask, ResourceType, UserBucket};
use bake_aws::sdk_error;
use bake_aws::wait::{Polling, Seen};
use std::time::Duration;

/// What ImportImage is asked for.
pub struct Request<'a> {
    pub object: &'a Object,
    pub description: &'a str,
    pub architecture: &'a str,
    pub boot_mode: &'a str,
    pub platform: Option<&'a str>,
    pub role_name: Option<&'a str>,
    pub license_type: Option<&'a str>,
    pub encrypted: bool,
    pub kms_key_id: Option<&'a str>,
    pub run_uuid: &'a str,
}

/// A finished import: the AMI and its snapshots.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    pub image_id: String,
    pub snapshots: Vec<String>,
}

/// Starts the import; the task carries the run's tags, so that
/// `bake cleanup` finds it by run.
pub async fn start(ec2: &aws_sdk_ec2::Client, r: &Request<'_>) -> anyhow::Result<String> {
    let container = ImageDiskContainer::builder()
        .format("raw")
        .description(r.description)
        .user_bucket(UserBucket::builder().s3_bucket(&r.object.bucket).s3_key(&r.object.key).build())
        .build();
    let out = ec2
        .import_image()
        .disk_containers(container)
        .description(r.description)
        .architecture(r.architecture)
        .boot_mode(BootModeValues::from(r.boot_mode))
        .set_platform(r.platform.map(str::to_string))
        .set_role_name(r.role_name.map(str::to_string))
        .set_license_type(r.license_type.map(str::to_string))
        .encrypted(r.encrypted)
        .set_kms_key_id(r.kms_key_id.map(str::to_string).filter(|_| r.encrypted))
        .tag_specifications(bake_aws::tags::specification(ResourceType::ImportImageTask, &bake_aws::tags::temporary(r.run_uuid)))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not start importing {} (ImportImage): {}; VM Import needs the \"{}\" service role with read access to the bucket",
                r.object,
                sdk_error(&e),
                r.role_name.unwrap_or("vmimport")
            )
        })?;
    out.import_task_id().map(str::to_string).ok_or_else(|| anyhow::anyhow!("ImportImage gave no task id"))
}

/// How long an import may take: half an hour, plus three minutes per GiB
/// (VM Import converts at a few MiB/s).
pub fn deadline(gib: u64) -> Duration {
    Duration::from_secs(1800 + 180 * gib)
}

async fn describe(ec2: &aws_sdk_ec2::Client, task: &str) -> anyhow::Result<Option<ImportImageTask>> {
    let out = ec2.describe_import_image_tasks().import_task_ids(task).send().await.map_err(|e| anyhow::anyhow!(sdk_error(&e)))?;
    Ok(out.import_image_tasks().first().cloned())
}

/// Waits for the task to complete; a task that ends otherwise fails the
/// wait with VM Import's message ("ClientError: Unknown OS / Missing OS
/// files.").
pub async fn wait(ui: &bake_sdk::Ui, ec2: &aws_sdk_ec2::Client, task: &str, region: &str, polling: &Polling, gib: u64) -> anyhow::Result<Imported> {
    let what = format!("import task {task} to complete in {region}");
    bake_aws::wait::until(ui, &what, polling, deadline(gib), || async {
        let Some(t) = describe(ec2, task).await? else { return Ok(Seen::Pending { state: "not visible yet".into(), progress: None }) };
        let message = t.status_message().unwrap_or_default();
        Ok(match t.status().unwrap_or_default() {
            "completed" => Seen::Ready(imported(&t)),
            "deleting" | "deleted" => Seen::Failed(if message.is_empty() { "the task was deleted".into() } else { message.to_string() }),
            status => Seen::Pending {
                state: if message.is_empty() { status.to_string() } else { format!("{status} ({message})") },
                progress: t.progress().and_then(|p| p.parse().ok()),
            },
        })
    })
    .await
}

fn imported(t: &ImportImageTask) -> Imported {
    Imported {
        image_id: t.image_id().unwrap_or_default().to_string(),
        snapshots: t.snapshot_details().iter().filter_map(|d| d.snapshot_id().map(str::to_string)).collect(),
    }
}

/// Undoes an import: an active task is cancelled (VM Import then removes
/// what it made), a completed one's AMI is deregistered with its snapshots.
pub async fn undo(ec2: &aws_sdk_ec2::Client, task: &str) -> anyhow::Result<()> {
    // Twice at most: a task may finish between the look and the cancel.
    for _ in 0..2 {
        let Some(t) = describe(ec2, task).await.or_else(|e| if e.to_string().contains("NotFound") { Ok(None) } else { Err(e) })? else { return Ok(()) };
        match t.status().unwrap_or_default() {
            "completed" => {
                let done = imported(&t);
                bake_aws::resources::delete_image(ec2, &done.image_id).await?;
                for snapshot in &done.snapshots {
                    bake_aws::resources::delete_snapshot(ec2, snapshot).await?;
                }
                return Ok(());
            }
            "deleting" | "deleted" => return Ok(()),
            _ => match ec2.cancel_import_task().import_task_id(task).send().await {
                Ok(_) => return Ok(()),
                Err(e) if sdk_error(&e).contains("IncorrectState") => continue,
                Err(e) => anyhow::bail!("could not cancel the import task {task}: {}", sdk_error(&e)),
            },
        }
    }
    anyhow::bail!("the import task {task} could neither be cancelled nor its AMI removed; cancel it with `aws ec2 cancel-import-task --import-task-id {task}`")
}

/// The import tasks of run `run_uuid` (for a journal entry written before
/// ImportImage answered).
pub async fn tasks_of_run(ec2: &aws_sdk_ec2::Client, run_uuid: &str) -> anyhow::Result<Vec<String>> {
    let out = ec2.describe_import_image_tasks().send().await.map_err(|e| anyhow::anyhow!("could not list the import tasks: {}", sdk_error(&e)))?;
    Ok(out
        .import_image_tasks()
        .iter()
        .filter(|t| bake_aws::tags::value(t.tags(), bake_aws::tags::RUN) == Some(run_uuid))
        .filter_map(|t| t.import_task_id().map(str::to_string))
        .collect())
}
