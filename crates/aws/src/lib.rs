//! What the AWS plugins share, so that the amazon-ebs builder, the amazon
//! data sources and the amazon-import post-processor read their options and
//! talk to AWS one way: the access options every one of them embeds
//! ([`access`]), the AMI lookup by filter that the builder's
//! `source_ami_filter` and `data "amazon-ami"` both do ([`images`]), the
//! waiters ([`wait`]), an AMI as a build's result ([`ami`]), the tags bake puts on what it creates ([`tags`]),
//! how each resource is journaled and removed ([`resources`]) and the sweep
//! of `bake cleanup -aws` ([`sweep`]).
//!
//! The AWS SDK is heavy to compile (aws-sdk-ec2 alone takes minutes), so it
//! lives here and in the AWS plugin crates only: nothing else in the
//! workspace depends on it.

pub mod access;
pub mod ami;
pub mod images;
pub mod resources;
pub mod sweep;
pub mod tags;
pub mod wait;

pub use access::{decode_with_access, AccessConfig, Aws};

/// An SDK error with its causes, the service's code and message included
/// (the SDK's own `Display` says only "service error").
pub fn sdk_error(err: &(dyn std::error::Error + 'static)) -> String {
    aws_sdk_ec2::error::DisplayErrorContext(err).to_string()
}

/// Runs `work` for every region at once and waits for all of them (a
/// failed region does not stop the others, which may be half-way through
/// something their cleanup needs to know); the error names each region
/// that failed, with its cause.
pub async fn in_every_region<'a, F, Fut>(regions: impl IntoIterator<Item = &'a String>, work: F) -> anyhow::Result<()>
where
    F: Fn(&'a String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let results = futures::future::join_all(regions.into_iter().map(|region| {
        let run = work(region);
        async move { run.await.map_err(|e| format!("{region}: {e:#}")) }
    }))
    .await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", failures.join("; "))
    }
}
