//! One disk into one EBS snapshot through the EBS direct APIs:
//! StartSnapshot, PutSnapshotBlock for each 512 KiB block that holds data
//! (many in flight, each with its SHA-256, each retried with back-off when
//! throttled or stalled, within the run's budget), CompleteSnapshot, then a
//! wait until EC2 calls the snapshot completed.
//!
//! With a parent snapshot (StartSnapshot's ParentSnapshotId) only the
//! blocks that differ from it are sent: the new snapshot inherits the rest.
//! What differs is known from the parent's block hashes, which bake keeps
//! for every snapshot it uploads (in its cache directory); without them,
//! every block with data is sent, and blocks the parent has but the disk
//! does not are written as zeros.

use crate::budget::{self, with_retries, Failure, Rate, ATTEMPT_TIMEOUT};
use crate::disk::{is_zero, Disk, BLOCK};
use aws_sdk_ebs::types::{ChecksumAggregationMethod, ChecksumAlgorithm, Tag};
use bake_aws::sdk_error;
use bake_sdk::ui::ByteProgress;
use bake_sdk::Ui;
use base64::Engine;
use futures::StreamExt;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub struct Options {
    pub description: String,
    pub tags: Vec<(String, String)>,
    pub encrypted: bool,
    pub kms_key_arn: Option<String>,
    pub parent: Option<Parent>,
    /// Blocks in flight at once.
    pub concurrency: usize,
}

/// The snapshot a delta is taken against.
#[derive(Clone, Debug, Default)]
pub struct Parent {
    pub snapshot_id: String,
    /// Its blocks' SHA-256 (hex), when bake uploaded it and kept them.
    pub hashes: Option<BTreeMap<u64, String>>,
    /// The blocks it has (from ListSnapshotBlocks, or the hashes' keys).
    pub blocks: BTreeSet<u64>,
}

/// What one upload did, for the progress and the benchmark.
#[derive(Clone, Debug, Default)]
pub struct Uploaded {
    pub snapshot_id: String,
    /// Blocks sent, and of them the zero blocks that overwrite a parent's.
    pub sent: u64,
    pub skipped_zero: u64,
    pub unchanged: u64,
    /// PutSnapshotBlock requests, retries included.
    pub requests: u64,
    pub retries: u64,
    pub bytes_sent: u64,
    /// Every block's SHA-256 (hex) as the new snapshot holds it.
    pub hashes: BTreeMap<u64, String>,
}

impl Uploaded {
    pub fn summary(&self) -> String {
        format!(
            "{} blocks sent ({}), {} zero blocks skipped, {} unchanged, {} requests ({} retries)",
            self.sent,
            bake_sdk::ui::human_size(self.bytes_sent),
            self.skipped_zero,
            self.unchanged,
            self.requests,
            self.retries
        )
    }
}

/// An EBS client that leaves retrying to bake (so that every attempt is
/// counted against the budget and backs off as bake decides).
pub fn client(aws: &bake_aws::Aws) -> aws_sdk_ebs::Client {
    let config = aws_sdk_ebs::config::Builder::from(&aws.sdk).retry_config(aws_sdk_ebs::config::retry::RetryConfig::disabled()).build();
    aws_sdk_ebs::Client::from_conf(config)
}

/// One block ready to send.
struct Block {
    index: u64,
    data: Vec<u8>,
    digest: [u8; 32],
}

/// Uploads `disk` into a new snapshot in `aws`'s region; `started` learns
/// the snapshot's id as soon as StartSnapshot returns (for the journal).
pub async fn upload(ui: &Ui, aws: &bake_aws::Aws, disk: Arc<Disk>, opts: &Options, started: &(dyn Fn(&str) + Sync)) -> anyhow::Result<Uploaded> {
    let ebs = client(aws);
    let account = budget::account(&aws.region);
    let tags: Vec<Tag> = opts.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let (out, _) = with_retries("StartSnapshot", &[&account.control], ATTEMPT_TIMEOUT, || {
        let request = ebs
            .start_snapshot()
            .volume_size(disk.volume_gib())
            .description(&opts.description)
            .set_tags(Some(tags.clone()))
            .encrypted(opts.encrypted)
            .set_kms_key_arn(opts.kms_key_arn.clone())
            .set_parent_snapshot_id(opts.parent.as_ref().map(|p| p.snapshot_id.clone()))
            .timeout(60);
        async move { request.send().await.map_err(|e| Failure::of(&e)) }
    })
    .await?;
    let snapshot = out.snapshot_id().unwrap_or_default().to_string();
    started(&snapshot);

    let per_snapshot = Rate::new(budget::PUT_PER_SNAPSHOT);
    let mut candidates: BTreeSet<u64> = disk.candidate_blocks().into_iter().collect();
    if let Some(parent) = &opts.parent {
        candidates.extend(parent.blocks.iter().copied());
    }
    let parent = opts.parent.clone().unwrap_or_default();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Block>(opts.concurrency * 2);
    // Reading and hashing on a thread of its own; it stops when the
    // upload is dropped (a failure, Ctrl-C) and the channel closes.
    let reader_disk = disk.clone();
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, u64, BTreeMap<u64, String>)> {
        let (mut zero, mut unchanged, mut kept) = (0, 0, BTreeMap::new());
        for index in candidates {
            let mut data = vec![0u8; BLOCK as usize];
            reader_disk.read_block(index, &mut data)?;
            let parent_has = parent.blocks.contains(&index);
            if is_zero(&data) && !parent_has {
                zero += 1;
                continue;
            }
            let digest: [u8; 32] = sha2::Sha256::digest(&data).into();
            let hex = bake_sdk::artifact::hex(&digest);
            if parent.hashes.as_ref().and_then(|h| h.get(&index)) == Some(&hex) {
                unchanged += 1;
                kept.insert(index, hex);
                continue;
            }
            if !is_zero(&data) {
                kept.insert(index, hex);
            }
            if sender.blocking_send(Block { index, data, digest }).is_err() {
                break;
            }
        }
        Ok((zero, unchanged, kept))
    });

    let total = disk.candidate_blocks().len() as u64 * BLOCK;
    let mut progress = ByteProgress::new(ui, format!("{}: uploaded", aws.region), Some(total));
    let blocks = futures::stream::unfold(receiver, |mut r| async move { r.recv().await.map(|b| (b, r)) });
    let puts = blocks
        .map(|block| {
            let (ebs, snapshot, per_snapshot, account) = (&ebs, &snapshot, &per_snapshot, &account);
            async move {
                let checksum = base64::engine::general_purpose::STANDARD.encode(block.digest);
                let what = format!("PutSnapshotBlock {} of {snapshot}", block.index);
                let index = i32::try_from(block.index).map_err(|_| anyhow::anyhow!("block {} is beyond EBS's 16 TiB", block.index))?;
                let ((), attempts) = with_retries(&what, &[per_snapshot, &account.puts], ATTEMPT_TIMEOUT, || {
                    let request = ebs
                        .put_snapshot_block()
                        .snapshot_id(snapshot)
                        .block_index(index)
                        .block_data(aws_sdk_ebs::primitives::ByteStream::from(block.data.clone()))
                        .data_length(BLOCK as i32)
                        .checksum(&checksum)
                        .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256);
                    async move { request.send().await.map(drop).map_err(|e| Failure::of(&e)) }
                })
                .await?;
                Ok::<_, anyhow::Error>((block.index, block.digest, attempts))
            }
        })
        .buffer_unordered(opts.concurrency.max(1));
    let mut puts = std::pin::pin!(puts);
    let mut result = Uploaded { snapshot_id: snapshot.clone(), ..Uploaded::default() };
    let mut digests = BTreeMap::new();
    while let Some(done) = puts.next().await {
        let (index, digest, attempts) = done?;
        result.sent += 1;
        result.requests += u64::from(attempts);
        result.retries += u64::from(attempts - 1);
        result.bytes_sent += BLOCK * u64::from(attempts);
        digests.insert(index, digest);
        progress.advance(BLOCK);
    }
    let (zero, unchanged, kept) =
        reader.await.map_err(|e| anyhow::anyhow!("the disk reader failed: {e}"))?.map_err(|e| anyhow::anyhow!("cannot read the disk: {e}"))?;
    (result.skipped_zero, result.unchanged, result.hashes) = (zero, unchanged, kept);
    let mut complete = ebs.complete_snapshot().snapshot_id(&snapshot).changed_blocks_count(i32::try_from(result.sent).unwrap_or(i32::MAX));
    if opts.parent.is_none() {
        // LINEAR: the SHA-256 of the blocks' SHA-256s in block order, so
        // that EBS checks the snapshot as a whole.
        let mut whole = sha2::Sha256::new();
        for digest in digests.values() {
            whole.update(digest);
        }
        complete = complete
            .checksum(base64::engine::general_purpose::STANDARD.encode(whole.finalize()))
            .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256)
            .checksum_aggregation_method(ChecksumAggregationMethod::ChecksumAggregationLinear);
    }
    with_retries("CompleteSnapshot", &[&account.control], ATTEMPT_TIMEOUT, || {
        let request = complete.clone();
        async move { request.send().await.map(drop).map_err(|e| Failure::of(&e)) }
    })
    .await?;
    ui.message(format!("{}: {snapshot}: {}", aws.region, result.summary()));
    Ok(result)
}

/// Waits until EC2 calls the snapshot completed (its progress shown).
pub async fn wait_completed(ui: &Ui, aws: &bake_aws::Aws, snapshot: &str, polling: &bake_aws::wait::Polling, gib: u64) -> anyhow::Result<()> {
    use aws_sdk_ec2::types::SnapshotState;
    use bake_aws::wait::Seen;
    let ec2 = aws.ec2();
    let what = format!("snapshot {snapshot} to complete in {}", aws.region);
    bake_aws::wait::until(ui, &what, polling, bake_aws::wait::image_deadline(gib), || async {
        let out = ec2.describe_snapshots().snapshot_ids(snapshot).send().await.map_err(|e| anyhow::anyhow!(sdk_error(&e)))?;
        let Some(s) = out.snapshots().first() else { return Ok(Seen::Pending { state: "not visible yet".into(), progress: None }) };
        let progress = s.progress().and_then(|p| p.trim_end_matches('%').parse().ok());
        Ok(match s.state() {
            Some(SnapshotState::Completed) => Seen::Ready(()),
            Some(SnapshotState::Error) => Seen::Failed(s.state_message().unwrap_or("EC2 gave no reason").to_string()),
            other => Seen::Pending { state: other.map_or("unknown".into(), |s| s.as_str().to_string()), progress },
        })
    })
    .await
}
