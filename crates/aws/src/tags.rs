//! The tags bake puts on what it creates in AWS, and the tags a template
//! asks for.
//!
//! Every temporary resource (instance, key pair, security group, an AMI
//! until its build has finished, and its snapshots) carries
//! [`RUN`] = the run's id and [`CREATED`] = when it was made. That is what
//! lets `bake cleanup -aws` find leftovers of any machine's runs (a CI
//! runner that died), not only of the runs whose journal is here. A
//! finished AMI loses both tags, so no sweep can ever take it.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;

/// The run that made a temporary resource.
pub const RUN: &str = "bake:run";
/// When the resource was made, RFC 3339 in UTC (`2026-12-04T01:02:03Z`).
pub const CREATED: &str = "bake:created";

/// The tags of a temporary resource of run `run_uuid`, made now.
pub fn temporary(run_uuid: &str) -> Vec<Tag> {
    vec![tag(RUN, run_uuid), tag(CREATED, &now_rfc3339())]
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// `tags` with the template's `extra` added (a template's key wins over
/// none of bake's: they use the `bake:` prefix, which templates do not).
pub fn with(mut tags: Vec<Tag>, extra: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.extend(extra.iter().map(|(k, v)| tag(k, v)));
    tags
}

/// A template's tag map with Packer's placeholders filled from `values`
/// (`{{ .BuildRegion }}`, `{{ .SourceAMI }}`, …), keys and values alike.
pub fn render(template: &BTreeMap<String, String>, values: &BTreeMap<&str, String>) -> anyhow::Result<BTreeMap<String, String>> {
    let fill = |text: &str| bake_sdk::placeholders::render(text, values).map_err(|e| anyhow::anyhow!(e));
    template.iter().map(|(k, v)| Ok((fill(k)?, fill(v)?))).collect()
}

/// A TagSpecification, for the Create/Run calls that tag as they create
/// (so a resource is never untagged, not even for a moment).
pub fn specification(kind: ResourceType, tags: &[Tag]) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(tags.to_vec())).build()
}

/// Tags the snapshots of `image` (CreateImage and CopyImage tag the AMI
/// only).
pub async fn tag_snapshots(ec2: &aws_sdk_ec2::Client, image: &aws_sdk_ec2::types::Image, tags: Vec<Tag>) -> anyhow::Result<()> {
    let snapshots = crate::resources::snapshots_of(image);
    if snapshots.is_empty() || tags.is_empty() {
        return Ok(());
    }
    ec2.create_tags()
        .set_resources(Some(snapshots.clone()))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not tag the snapshots {}: {}", snapshots.join(", "), crate::sdk_error(&e)))?;
    Ok(())
}

/// Takes the temporary tags ([`RUN`], [`CREATED`]) off `ids` (finished
/// AMIs and their snapshots), so that no sweep ever removes them.
pub async fn untag_temporary(ec2: &aws_sdk_ec2::Client, ids: Vec<String>) -> anyhow::Result<()> {
    let temporary = vec![Tag::builder().key(RUN).build(), Tag::builder().key(CREATED).build()];
    let what = ids.join(", ");
    ec2.delete_tags()
        .set_resources(Some(ids))
        .set_tags(Some(temporary))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not untag {what}: {}", crate::sdk_error(&e)))?;
    Ok(())
}

/// The value of `key` among `tags`.
pub fn value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// Now, as the [`CREATED`] tag writes it.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// A time as the [`CREATED`] tag writes it: such strings compare in time
/// order.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    aws_sdk_ec2::primitives::DateTime::from(t)
        .fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
        .map(|s| s.split('.').next().unwrap_or_default().trim_end_matches('Z').to_string() + "Z")
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn created_times_compare_as_strings() {
        let early = rfc3339(UNIX_EPOCH + Duration::from_millis(1_764_810_123_456));
        let late = rfc3339(UNIX_EPOCH + Duration::from_secs(1_764_810_124));
        assert_eq!(early, "2025-12-04T01:02:03Z");
        assert!(early < late, "{early} < {late}");
        let tags = temporary("run-1");
        assert_eq!(value(&tags, RUN), Some("run-1"));
        assert!(value(&tags, CREATED).is_some_and(|t| t.ends_with('Z') && t.len() == 20));
    }
}
