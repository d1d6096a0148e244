//! `bake cleanup -aws -regions R1,R2 -older-than 2h`: the resources bake
//! left in AWS from any machine's runs, found by their tags rather than by
//! a journal (the CI runner that wrote the journal may be gone). Everything
//! still tagged [`RUN`](crate::tags::RUN) is temporary; what is older than
//! the limit by its [`CREATED`](crate::tags::CREATED) tag is removed, each
//! printed as it goes: instances first (their security groups are in use
//! until they end), then AMIs with their snapshots, lone snapshots, key
//! pairs and security groups.

use crate::resources::{self, IMAGE, INSTANCE, KEY_PAIR, SECURITY_GROUP, SNAPSHOT};
use crate::tags::{self, CREATED, RUN};
use crate::{sdk_error, Aws};
use aws_sdk_ec2::types::{Filter, InstanceStateName, Tag};
use aws_sdk_ec2::Client;
use std::time::{Duration, SystemTime};

/// One leftover.
#[derive(Clone, Debug, PartialEq)]
pub struct Leftover {
    pub region: String,
    pub kind: &'static str,
    pub id: String,
    pub run: String,
    pub created: String,
}

impl Leftover {
    pub fn describe(&self) -> String {
        format!("{} {} in {} (run {}, made {})", self.kind, self.id, self.region, self.run, self.created)
    }
}

fn tagged() -> Filter {
    Filter::builder().name("tag-key").values(RUN).build()
}

/// Every bake-tagged resource in `aws`'s region made before `cutoff`
/// (an RFC 3339 time, as the tag writes it).
pub async fn find(aws: &Aws, cutoff: &str) -> anyhow::Result<Vec<Leftover>> {
    let ec2 = aws.ec2();
    let region = aws.region.clone();
    let fail = |what: &str, e: &(dyn std::error::Error + 'static)| anyhow::anyhow!("could not list the {what} in {region}: {}", sdk_error(e));
    let mut found = Vec::new();
    let mut add = |kind: &'static str, id: Option<&str>, tags: &[Tag]| {
        let (Some(id), Some(run), Some(created)) = (id, tags::value(tags, RUN), tags::value(tags, CREATED)) else { return };
        if created < cutoff {
            found.push(Leftover { region: region.clone(), kind, id: id.to_string(), run: run.to_string(), created: created.to_string() });
        }
    };
    let instances = ec2.describe_instances().filters(tagged()).send().await.map_err(|e| fail("instances", &e))?;
    for i in instances.reservations().iter().flat_map(|r| r.instances()) {
        if i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated) {
            add(INSTANCE, i.instance_id(), i.tags());
        }
    }
    let images = ec2.describe_images().owners("self").filters(tagged()).send().await.map_err(|e| fail("AMIs", &e))?;
    for i in images.images() {
        add(IMAGE, i.image_id(), i.tags());
    }
    let snapshots = ec2.describe_snapshots().owner_ids("self").filters(tagged()).send().await.map_err(|e| fail("snapshots", &e))?;
    for s in snapshots.snapshots() {
        add(SNAPSHOT, s.snapshot_id(), s.tags());
    }
    let keys = ec2.describe_key_pairs().filters(tagged()).send().await.map_err(|e| fail("key pairs", &e))?;
    for k in keys.key_pairs() {
        add(KEY_PAIR, k.key_name(), k.tags());
    }
    let groups = ec2.describe_security_groups().filters(tagged()).send().await.map_err(|e| fail("security groups", &e))?;
    for g in groups.security_groups() {
        add(SECURITY_GROUP, g.group_id(), g.tags());
    }
    Ok(found)
}

/// Removes one leftover (an AMI with its snapshots).
pub async fn remove(ec2: &Client, leftover: &Leftover) -> anyhow::Result<()> {
    match leftover.kind {
        INSTANCE => resources::terminate_instances(ec2, std::slice::from_ref(&leftover.id)).await,
        IMAGE => resources::delete_image(ec2, &leftover.id).await,
        SNAPSHOT => resources::delete_snapshot(ec2, &leftover.id).await,
        KEY_PAIR => resources::delete_key_pair(ec2, &leftover.id).await,
        SECURITY_GROUP => resources::delete_security_group(ec2, &leftover.id).await,
        other => anyhow::bail!("no sweep for {other}"),
    }
}

/// The sweep over `regions`, through the AWS_* environment: reports each
/// leftover through `say` (`true` for an error) and returns how many were
/// removed and how many are left.
pub async fn sweep(regions: &[String], older_than: Duration, dry_run: bool, say: &mut dyn FnMut(String, bool)) -> (usize, usize) {
    let cutoff = tags::rfc3339(SystemTime::now() - older_than);
    let (mut removed, mut left) = (0, 0);
    for region in regions {
        let aws = crate::access::from_environment(region).await;
        let found = match find(&aws, &cutoff).await {
            Ok(found) => found,
            Err(e) => {
                say(format!("{e:#}"), true);
                left += 1;
                continue;
            }
        };
        if found.is_empty() {
            say(format!("{region}: nothing bake made before {cutoff} is left"), false);
        }
        let ec2 = aws.ec2();
        for leftover in found {
            if dry_run {
                say(format!("would remove {}", leftover.describe()), false);
                continue;
            }
            // An AMI's snapshots go with it; listed again, they are gone.
            match remove(&ec2, &leftover).await {
                Ok(()) => {
                    removed += 1;
                    say(format!("removed {}", leftover.describe()), false);
                }
                Err(e) => {
                    left += 1;
                    say(format!("cannot remove {}: {e:#}", leftover.describe()), true);
                }
            }
        }
    }
    (removed, left)
}
