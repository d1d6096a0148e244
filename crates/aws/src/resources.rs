//! What bake creates in AWS, how each is journaled, and how each is
//! removed: one way, used by the builder's step cleanups, by the
//! post-processor, by `bake cleanup` for a dead run's journal
//! ([`AwsResources`]) and by the tag sweep of `bake cleanup -aws`.
//!
//! A journal entry is written before the resource exists, when its AWS id
//! is not known yet, so its id may be a lookup that finds it later:
//! `run:RUN` (the instances tagged with that run), `name:NAME` (the
//! security group or AMI of that name), and is replaced by the real id
//! (`i-…`, `sg-…`, `ami-…`) as soon as the call returns.

use crate::sdk_error;
use aws_sdk_ec2::types::{Filter, InstanceStateName};
use aws_sdk_ec2::Client;
use bake_sdk::journal::{EntryId, Resource, ResourceOwner};
use bake_sdk::BuildInfo;
use std::time::Duration;

pub const INSTANCE: &str = "aws:instance";
pub const KEY_PAIR: &str = "aws:key_pair";
pub const SECURITY_GROUP: &str = "aws:security_group";
/// An AMI with its snapshots.
pub const IMAGE: &str = "aws:image";
pub const SNAPSHOT: &str = "aws:snapshot";

/// Writes a resource to the journal before it is created.
pub fn record(build: &BuildInfo, kind: &str, region: &str, id: &str) -> anyhow::Result<EntryId> {
    let resource = Resource::Cloud { provider_kind: kind.into(), region: region.into(), id: id.into() };
    build.journal.record(&build.name, resource).map_err(|e| anyhow::anyhow!("cannot write the journal {}: {e}", build.journal.path().display()))
}

/// Replaces a journal entry's lookup with the real id.
pub fn identify(build: &BuildInfo, entry: EntryId, kind: &str, region: &str, id: &str) {
    let resource = Resource::Cloud { provider_kind: kind.into(), region: region.into(), id: id.into() };
    if let Err(e) = build.journal.update(entry, &build.name, resource) {
        build.ui.error(format!("cannot update the journal: {e}"));
    }
}

/// Marks a journal entry as gone (removed, or kept as the build's result).
pub fn release(build: &BuildInfo, entry: EntryId) {
    if let Err(e) = build.journal.release(entry) {
        build.ui.error(format!("cannot update the journal: {e}"));
    }
}

fn not_found(e: &str) -> bool {
    ["NotFound", "InvalidKeyPair.NotFound", "InvalidGroup.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.NotFound", "InvalidInstanceID"]
        .iter()
        .any(|code| e.contains(code))
}

/// Terminates instances and waits until they are gone (a security group
/// cannot be deleted while an instance still uses it).
pub async fn terminate_instances(ec2: &Client, ids: &[String]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if let Err(e) = ec2.terminate_instances().set_instance_ids(Some(ids.to_vec())).send().await {
        let e = sdk_error(&e);
        if !not_found(&e) {
            anyhow::bail!("could not terminate {}: {e}", ids.join(", "));
        }
        return Ok(());
    }
    for _ in 0..120 {
        let states = instance_states(ec2, ids).await?;
        if states.iter().all(|s| *s == InstanceStateName::Terminated) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    anyhow::bail!("{} did not terminate within 4 minutes", ids.join(", "))
}

async fn instance_states(ec2: &Client, ids: &[String]) -> anyhow::Result<Vec<InstanceStateName>> {
    let out = ec2.describe_instances().set_instance_ids(Some(ids.to_vec())).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e) if not_found(&sdk_error(&e)) => return Ok(Vec::new()),
        Err(e) => anyhow::bail!("could not describe {}: {}", ids.join(", "), sdk_error(&e)),
    };
    Ok(out.reservations().iter().flat_map(|r| r.instances()).filter_map(|i| i.state().and_then(|s| s.name().cloned())).collect())
}

/// The instances tagged with run `run_uuid` that still exist.
pub async fn instances_of_run(ec2: &Client, run_uuid: &str) -> anyhow::Result<Vec<String>> {
    let out = ec2
        .describe_instances()
        .filters(Filter::builder().name(format!("tag:{}", crate::tags::RUN)).values(run_uuid).build())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not list the instances of run {run_uuid}: {}", sdk_error(&e)))?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated))
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect())
}

pub async fn delete_key_pair(ec2: &Client, name: &str) -> anyhow::Result<()> {
    match ec2.delete_key_pair().key_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&sdk_error(&e)) => Ok(()),
        Err(e) => anyhow::bail!("could not delete the key pair {name}: {}", sdk_error(&e)),
    }
}

/// Deletes a security group; retried for a while on DependencyViolation,
/// which AWS returns for some time after the last instance using it ended.
pub async fn delete_security_group(ec2: &Client, id: &str) -> anyhow::Result<()> {
    let mut last = String::new();
    for _ in 0..30 {
        match ec2.delete_security_group().group_id(id).send().await {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = sdk_error(&e);
                if not_found(&last) {
                    return Ok(());
                }
                if !last.contains("DependencyViolation") {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    anyhow::bail!("could not delete the security group {id}: {last}")
}

pub async fn security_group_by_name(ec2: &Client, name: &str) -> anyhow::Result<Option<String>> {
    let out = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not look up the security group {name}: {}", sdk_error(&e)))?;
    Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_string))
}

/// The AMI of this name owned by this account, in the client's region.
pub async fn image_by_name(ec2: &Client, name: &str) -> anyhow::Result<Option<aws_sdk_ec2::types::Image>> {
    Ok(own_images(ec2, Filter::builder().name("name").values(name).build()).await?.into_iter().next())
}

/// Packer's `force_deregister`: when it is set, deregisters the AMI named
/// `name` in `aws`'s region, if there is one (its snapshots too with
/// `force_delete_snapshot`), and says so.
pub async fn replace_existing(ui: &bake_sdk::Ui, aws: &crate::Aws, name: &str, force_deregister: bool, force_delete_snapshot: bool) -> anyhow::Result<()> {
    if !force_deregister {
        return Ok(());
    }
    let ec2 = aws.ec2();
    if let Some(id) = image_by_name(&ec2, name).await?.and_then(|i| i.image_id) {
        deregister_image(&ec2, &id, force_delete_snapshot).await?;
        let snapshots = if force_delete_snapshot { " and its snapshots" } else { "" };
        ui.message(format!("{}: deregistered {id}{snapshots} (force_deregister)", aws.region));
    }
    Ok(())
}

/// The AMIs still tagged as temporary by run `run_uuid` (never a finished
/// one, which has lost the tag, nor an older AMI of the same name).
pub async fn images_of_run(ec2: &Client, run_uuid: &str) -> anyhow::Result<Vec<String>> {
    let images = own_images(ec2, Filter::builder().name(format!("tag:{}", crate::tags::RUN)).values(run_uuid).build()).await?;
    Ok(images.iter().filter_map(|i| i.image_id().map(str::to_string)).collect())
}

async fn own_images(ec2: &Client, filter: Filter) -> anyhow::Result<Vec<aws_sdk_ec2::types::Image>> {
    let out = ec2
        .describe_images()
        .owners("self")
        .filters(filter.clone())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not list the AMIs with {:?}={:?}: {}", filter.name(), filter.values(), sdk_error(&e)))?;
    Ok(out.images().to_vec())
}

/// The snapshots behind an AMI's block devices.
pub fn snapshots_of(image: &aws_sdk_ec2::types::Image) -> Vec<String> {
    image.block_device_mappings().iter().filter_map(|m| m.ebs().and_then(|e| e.snapshot_id())).map(str::to_string).collect()
}

/// Deregisters an AMI and deletes its snapshots (AWS keeps them
/// otherwise, and bills them).
pub async fn delete_image(ec2: &Client, id: &str) -> anyhow::Result<()> {
    deregister_image(ec2, id, true).await
}

/// Deregisters an AMI, and deletes its snapshots when `with_snapshots`
/// (Packer's `force_delete_snapshot` for an AMI a build replaces).
pub async fn deregister_image(ec2: &Client, id: &str, with_snapshots: bool) -> anyhow::Result<()> {
    let described = ec2.describe_images().image_ids(id).send().await;
    let snapshots = match described {
        Ok(out) => out.images().first().map(snapshots_of).unwrap_or_default(),
        Err(e) if not_found(&sdk_error(&e)) => Vec::new(),
        Err(e) => anyhow::bail!("could not describe the AMI {id}: {}", sdk_error(&e)),
    };
    if let Err(e) = ec2.deregister_image().image_id(id).send().await {
        let e = sdk_error(&e);
        if !not_found(&e) {
            anyhow::bail!("could not deregister the AMI {id}: {e}");
        }
    }
    if with_snapshots {
        for snapshot in snapshots {
            delete_snapshot(ec2, &snapshot).await?;
        }
    }
    Ok(())
}

/// The snapshots still tagged as temporary by run `run_uuid`.
pub async fn snapshots_of_run(ec2: &Client, run_uuid: &str) -> anyhow::Result<Vec<String>> {
    let out = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(Filter::builder().name(format!("tag:{}", crate::tags::RUN)).values(run_uuid).build())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not list the snapshots of run {run_uuid}: {}", sdk_error(&e)))?;
    Ok(out.snapshots().iter().filter_map(|s| s.snapshot_id().map(str::to_string)).collect())
}

pub async fn delete_snapshot(ec2: &Client, id: &str) -> anyhow::Result<()> {
    match ec2.delete_snapshot().snapshot_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&sdk_error(&e)) => Ok(()),
        Err(e) => anyhow::bail!("could not delete the snapshot {id}: {}", sdk_error(&e)),
    }
}

/// The `bake cleanup` owner of everything above: a dead run's journal
/// entries of the `aws:*` kinds. It reaches AWS through the AWS_*
/// environment and the shared config files (the template's access options
/// are not in the journal; nothing secret is).
pub struct AwsResources;

#[bake_sdk::async_trait]
impl ResourceOwner for AwsResources {
    fn kinds(&self) -> &[&str] {
        &[INSTANCE, KEY_PAIR, SECURITY_GROUP, IMAGE, SNAPSHOT]
    }

    async fn undo(&self, resource: &Resource) -> anyhow::Result<()> {
        let Resource::Cloud { provider_kind, region, id } = resource else { anyhow::bail!("not an AWS resource") };
        let ec2 = crate::access::from_environment(region).await.ec2();
        let (lookup, value) = id.split_once(':').unwrap_or(("", id));
        match (provider_kind.as_str(), lookup) {
            (INSTANCE, "run") => terminate_instances(&ec2, &instances_of_run(&ec2, value).await?).await,
            (INSTANCE, _) => terminate_instances(&ec2, &[value.to_string()]).await,
            (KEY_PAIR, _) => delete_key_pair(&ec2, value).await,
            (SECURITY_GROUP, "name") => match security_group_by_name(&ec2, value).await? {
                Some(id) => delete_security_group(&ec2, &id).await,
                None => Ok(()),
            },
            (SECURITY_GROUP, _) => delete_security_group(&ec2, value).await,
            (IMAGE, "run") => {
                for image in images_of_run(&ec2, value).await? {
                    delete_image(&ec2, &image).await?;
                }
                Ok(())
            }
            (IMAGE, _) => delete_image(&ec2, value).await,
            (SNAPSHOT, "run") => {
                for snapshot in snapshots_of_run(&ec2, value).await? {
                    delete_snapshot(&ec2, &snapshot).await?;
                }
                Ok(())
            }
            (SNAPSHOT, _) => delete_snapshot(&ec2, value).await,
            (other, _) => anyhow::bail!("bake-aws does not own {other}"),
        }
    }
}
