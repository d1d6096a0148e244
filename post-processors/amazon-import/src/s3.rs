//! Packer's route, taken when the template names `s3_bucket_name`: the
//! disk's raw content into an S3 object by multipart upload, for VM Import
//! ([`crate::vm_import`]) to read.
//!
//! VM Import takes raw, VMDK, VHD or OVA, not qcow2, so a qcow2 disk is
//! streamed as raw (read through its allocation map, zeros where it has no
//! clusters): no raw copy is written first. S3 has no sparse objects, so
//! every byte is sent, zeros included; that is why the EBS direct route,
//! which sends only blocks with data, is bake's default.
//!
//! Parts are 16 MiB (more when the disk needs more than S3's 10,000
//! parts), read and hashed on a thread of their own while earlier ones are
//! in flight (eight, fewer when parts are large, so that memory stays
//! bounded), each sent with its SHA-256 and retried with back-off when S3
//! throttles or a connection stalls. A failed or interrupted upload is
//! aborted (S3 keeps the parts of an unfinished upload, and bills them,
//! until then); only an object this upload completed is ever deleted.

use crate::budget::{with_retries, Failure};
use crate::disk::{Disk, BLOCK};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bake_aws::sdk_error;
use bake_sdk::ui::ByteProgress;
use bake_sdk::Ui;
use base64::Engine;
use futures::StreamExt;
use sha2::Digest;
use std::sync::Arc;
use std::time::Duration;

/// S3's part count limit, and bake's usual part size.
const MAX_PARTS: u64 = 10_000;
const PART: u64 = 16 << 20;
/// Parts in memory at once (in flight, or read and waiting) at most.
const PARTS_IN_MEMORY: u64 = 256 << 20;
/// How long completing may take: S3 assembles a large object for minutes.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(900);

/// Parts in flight at once: eight, fewer when they are large.
fn in_flight(part: u64) -> usize {
    (PARTS_IN_MEMORY / part).clamp(2, 8) as usize
}

/// One part's attempt, while `in_flight` parts share the uplink: a minute,
/// plus the part at 64 KiB/s (16 MiB: 5 min; eight of them then fail only
/// below about 4 Mbit/s, and a stalled connection is retried).
fn part_timeout(part: u64) -> Duration {
    Duration::from_secs(60 + part / (64 << 10))
}

/// Where the disk goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Packer's `s3_encryption` (`AES256` or `aws:kms`) and `s3_encryption_key`.
#[derive(Clone, Debug, Default)]
pub struct Encryption {
    pub algorithm: Option<String>,
    pub kms_key: Option<String>,
}

/// Where an upload stands, which is what its removal depends on: an
/// unfinished upload is aborted, and only a completed one's object is
/// deleted (the key may hold an older object that is not this run's).
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// CreateMultipartUpload was sent; the upload's id once S3 gave it.
    Uploading(Option<String>),
    Complete,
}

/// What the upload did.
#[derive(Clone, Debug, Default)]
pub struct Uploaded {
    pub parts: u64,
    pub bytes: u64,
    pub requests: u64,
    pub retries: u64,
}

/// An S3 client that leaves retrying to bake, as the EBS one does. A custom
/// endpoint (moto, MinIO, a VPC endpoint by IP) has no bucket subdomains,
/// so buckets are addressed by path there.
pub fn client(aws: &bake_aws::Aws) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(&aws.sdk).retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled());
    if aws.sdk.endpoint_url().is_some() {
        config = config.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The part size for a disk of `size` bytes: whole EBS blocks, at most
/// [`MAX_PARTS`] parts.
pub fn part_size(size: u64) -> u64 {
    PART.max(size.div_ceil(MAX_PARTS).div_ceil(BLOCK) * BLOCK)
}

/// Fails early, before anything is uploaded, when the bucket cannot be
/// written to.
pub async fn check_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<()> {
    s3.head_bucket().bucket(bucket).send().await.map(drop).map_err(|e| {
        anyhow::anyhow!("cannot use the S3 bucket \"{bucket}\" (s3_bucket_name): {}; it must exist and be writable with these credentials", sdk_error(&e))
    })
}

/// One part ready to send.
struct Part {
    number: i32,
    data: bytes::Bytes,
    checksum: String,
}

/// Uploads the raw content of `disk` to `object`; `started` learns the
/// multipart upload's id as soon as S3 gives it (for the journal).
pub async fn upload(
    ui: &Ui,
    s3: &aws_sdk_s3::Client,
    disk: Arc<Disk>,
    object: &Object,
    encryption: &Encryption,
    started: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Uploaded> {
    let created = s3
        .create_multipart_upload()
        .bucket(&object.bucket)
        .key(&object.key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .set_server_side_encryption(encryption.algorithm.as_deref().map(ServerSideEncryption::from))
        .set_ssekms_key_id(encryption.kms_key.clone().filter(|_| encryption.algorithm.as_deref() == Some("aws:kms")))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not start the upload to {object}: {}", sdk_error(&e)))?;
    let upload_id = created.upload_id().unwrap_or_default().to_string();
    started(&upload_id);

    let size = disk.size();
    let part = part_size(size);
    let (in_flight, timeout) = (in_flight(part), part_timeout(part));
    let (sender, receiver) = tokio::sync::mpsc::channel::<Part>(1);
    // Reading and hashing on a thread of its own; it stops when the upload
    // is dropped (a failure, Ctrl-C) and the channel closes.
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut block = vec![0u8; BLOCK as usize];
        for (number, start) in (1..).zip((0..size).step_by(part as usize)) {
            let len = part.min(size - start);
            let mut data = Vec::with_capacity(len as usize);
            for index in start / BLOCK..(start + len).div_ceil(BLOCK) {
                disk.read_block(index, &mut block)?;
                let wanted = ((start + len) - index * BLOCK).min(BLOCK) as usize;
                data.extend_from_slice(&block[..wanted]);
            }
            let checksum = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&data));
            if sender.blocking_send(Part { number, data: data.into(), checksum }).is_err() {
                break;
            }
        }
        Ok(())
    });

    let mut progress = ByteProgress::new(ui, format!("{}: uploaded to {object}", s3.config().region().map_or("", |r| r.as_ref())), Some(size));
    let parts = futures::stream::unfold(receiver, |mut r| async move { r.recv().await.map(|p| (p, r)) });
    let sends = parts
        .map(|p| {
            let upload_id = &upload_id;
            async move {
                let what = format!("uploading part {} of {object}", p.number);
                let (e_tag, attempts) = with_retries(&what, &[], timeout, || {
                    let request = s3
                        .upload_part()
                        .bucket(&object.bucket)
                        .key(&object.key)
                        .upload_id(upload_id)
                        .part_number(p.number)
                        .body(ByteStream::from(p.data.clone()))
                        .checksum_sha256(&p.checksum);
                    async move { request.send().await.map(|out| out.e_tag().unwrap_or_default().to_string()).map_err(|e| Failure::of(&e)) }
                })
                .await?;
                let done = CompletedPart::builder().part_number(p.number).e_tag(e_tag).checksum_sha256(&p.checksum).build();
                Ok::<_, anyhow::Error>((done, p.data.len() as u64, attempts))
            }
        })
        .buffer_unordered(in_flight);
    let mut sends = std::pin::pin!(sends);
    let mut result = Uploaded::default();
    let mut completed = Vec::new();
    while let Some(sent) = sends.next().await {
        let (done, len, attempts) = sent?;
        result.parts += 1;
        result.requests += u64::from(attempts);
        result.retries += u64::from(attempts - 1);
        result.bytes += len * u64::from(attempts);
        progress.advance(len);
        completed.push(done);
    }
    reader.await.map_err(|e| anyhow::anyhow!("the disk reader failed: {e}"))?.map_err(|e| anyhow::anyhow!("cannot read the disk: {e}"))?;
    completed.sort_by_key(|p| p.part_number());
    let whole = CompletedMultipartUpload::builder().set_parts(Some(completed)).build();
    let completed = with_retries(&format!("completing the upload to {object}"), &[], COMPLETE_TIMEOUT, || {
        let request = s3.complete_multipart_upload().bucket(&object.bucket).key(&object.key).upload_id(&upload_id).multipart_upload(whole.clone());
        async move { request.send().await.map(drop).map_err(|e| Failure::of(&e)) }
    })
    .await;
    if let Err(e) = completed {
        // An attempt that timed out may have completed it: S3 then knows
        // the upload no more, and the object is there.
        let done = e.to_string().contains("NoSuchUpload")
            && s3.head_object().bucket(&object.bucket).key(&object.key).send().await.is_ok_and(|h| h.content_length() == Some(size as i64));
        if !done {
            return Err(e);
        }
    }
    ui.message(format!(
        "{object}: {} parts, {} sent in {} requests ({} retries)",
        result.parts,
        bake_sdk::ui::human_size(result.bytes),
        result.requests,
        result.retries
    ));
    Ok(result)
}

/// Removes what an upload left, by where it stands ([`Progress`]): an
/// unfinished upload is aborted (found by its key when S3 had not named it
/// yet), a completed one's object deleted. Either may be gone already.
pub async fn remove(s3: &aws_sdk_s3::Client, object: &Object, progress: &Progress) -> anyhow::Result<()> {
    let gone = |e: &str| ["NoSuchUpload", "NoSuchKey", "NotFound"].iter().any(|code| e.contains(code));
    let ids = match progress {
        Progress::Complete => {
            return match s3.delete_object().bucket(&object.bucket).key(&object.key).send().await {
                Ok(_) => Ok(()),
                Err(e) if gone(&sdk_error(&e)) => Ok(()),
                Err(e) => anyhow::bail!("could not delete {object}: {}", sdk_error(&e)),
            };
        }
        Progress::Uploading(Some(id)) => vec![id.clone()],
        Progress::Uploading(None) => {
            let out = s3
                .list_multipart_uploads()
                .bucket(&object.bucket)
                .prefix(&object.key)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("could not list the unfinished uploads to {object}: {}", sdk_error(&e)))?;
            out.uploads().iter().filter(|u| u.key() == Some(object.key.as_str())).filter_map(|u| u.upload_id().map(str::to_string)).collect()
        }
    };
    for id in ids {
        if let Err(e) = s3.abort_multipart_upload().bucket(&object.bucket).key(&object.key).upload_id(&id).send().await {
            let e = sdk_error(&e);
            if !gone(&e) {
                anyhow::bail!("could not abort the upload to {object}: {e}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_whole_blocks_and_at_most_ten_thousand() {
        assert_eq!(part_size(1 << 30), PART, "a 1 GiB disk: 64 parts of 16 MiB");
        let huge = 2u64 << 40;
        let p = part_size(huge);
        assert_eq!(p % BLOCK, 0);
        assert!(huge.div_ceil(p) <= MAX_PARTS, "2 TiB in {} parts of {p}", huge.div_ceil(p));
        assert_eq!(in_flight(PART), 8);
        assert_eq!(in_flight(p), 2, "parts of {p}: fewer in flight");
        assert!(part_timeout(PART) >= Duration::from_secs(300));
    }
}
