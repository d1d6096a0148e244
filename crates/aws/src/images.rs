//! Finding an AMI by filter, as Packer's `source_ami_filter` and
//! `data "amazon-ami"` do: DescribeImages with the filters and owners, then
//! the newest match when `most_recent`, else the only one; waiting for an
//! AMI; copying one to another region (or to a new name), the one way the
//! builder's copies and the post-processor's renames are made.

use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::Span;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The filter options, as both the builder's block and the data source's
/// body spell them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFilter {
    /// DescribeImages filters: name → value (a value may use `*` wildcards).
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    /// Account ids or aliases (`self`, `amazon`, `aws-marketplace`).
    #[serde(default)]
    pub owners: Vec<String>,
    #[serde(default)]
    pub most_recent: bool,
    #[serde(default)]
    pub include_deprecated: bool,
}

impl ImageFilter {
    /// Packer refuses a filter without owners: anyone can publish an AMI
    /// whose name matches, so the owner is what makes the match trustworthy.
    pub fn check(&self, at: Span, what: &str) -> Result<(), Diagnostics> {
        if self.owners.is_empty() {
            return Err(Diagnostic::error(
                "Missing owners",
                format!("The AMI filter of {what} has no \"owners\": anyone can publish an AMI whose name matches the filters."),
            )
            .at(at)
            .with_help("Name the accounts to trust, for example owners = [\"amazon\"], [\"self\"] or an account id such as [\"136693071363\"] (Debian).")
            .into());
        }
        Ok(())
    }

    /// A one-line description for messages: `name=debian-12-* owned by amazon`.
    pub fn describe(&self) -> String {
        let filters: Vec<String> = self.filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} owned by {}", if filters.is_empty() { "any image".to_string() } else { filters.join(", ") }, self.owners.join(", "))
    }

    /// The one image the filter selects.
    pub async fn find(&self, ec2: &aws_sdk_ec2::Client) -> anyhow::Result<aws_sdk_ec2::types::Image> {
        let filters = self.filters.iter().map(|(name, value)| aws_sdk_ec2::types::Filter::builder().name(name).values(value).build());
        let mut request = ec2.describe_images().set_owners(Some(self.owners.clone())).set_filters(Some(filters.collect()));
        if self.include_deprecated {
            request = request.include_deprecated(true);
        }
        let images = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not list the AMIs matching {}: {}", self.describe(), crate::sdk_error(&e)))?
            .images
            .unwrap_or_default();
        select(images, self.most_recent).map_err(|problem| anyhow::anyhow!("{problem} {}", self.describe()))
    }
}

/// The image among `images` (those DescribeImages returned), or what is
/// wrong, to be followed by the filter's description.
fn select(mut images: Vec<aws_sdk_ec2::types::Image>, most_recent: bool) -> Result<aws_sdk_ec2::types::Image, String> {
    match images.len() {
        0 => Err("no AMI matches".into()),
        1 => Ok(images.remove(0)),
        n if most_recent => {
            // ISO 8601 timestamps in one format compare as strings.
            images.sort_by(|a, b| a.creation_date.cmp(&b.creation_date));
            Ok(images.pop().unwrap_or_else(|| unreachable!("{n} images")))
        }
        n => Err(format!("{n} AMIs match (set most_recent = true to take the newest, or narrow the filters):")),
    }
}

/// Waits for an AMI to become available, showing its snapshots' progress
/// as it goes; the deadline follows the size of its volumes
/// ([`crate::wait::image_deadline`]). A failed AMI ends the wait with
/// EC2's reason.
pub async fn wait_available(
    ui: &bake_sdk::Ui,
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    region: &str,
    polling: &crate::wait::Polling,
    volume_gib: u64,
) -> anyhow::Result<aws_sdk_ec2::types::Image> {
    use crate::wait::Seen;
    use aws_sdk_ec2::types::ImageState;
    let what = format!("AMI {id} to become available in {region}");
    crate::wait::until(ui, &what, polling, crate::wait::image_deadline(volume_gib), || async {
        let out = ec2.describe_images().image_ids(id).send().await.map_err(|e| anyhow::anyhow!(crate::sdk_error(&e)))?;
        let Some(image) = out.images().first().cloned() else { return Ok(Seen::Pending { state: "not visible yet".into(), progress: None }) };
        Ok(match image.state() {
            Some(ImageState::Available) => Seen::Ready(image),
            Some(ImageState::Failed | ImageState::Error | ImageState::Invalid | ImageState::Deregistered) => {
                let reason = image.state_reason().and_then(|r| r.message()).unwrap_or("EC2 gave no reason");
                Seen::Failed(format!("it is {} ({reason})", image.state().map_or("", |s| s.as_str())))
            }
            other => Seen::Pending { state: other.map_or("unknown".into(), |s| s.as_str().to_string()), progress: snapshot_progress(ec2, &image).await },
        })
    })
    .await
}

/// What a copy is made as.
pub struct CopyAs<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
}

/// Copies the AMI `source` from `from`'s region to `to`'s and waits for the
/// copy. It is journaled before it exists and tagged with the run's id (its
/// snapshots too, once they exist), so a cleanup or a sweep finds a copy
/// still pending; `made` learns its journal entry, then its id as soon as
/// CopyImage answers.
#[allow(clippy::too_many_arguments)] // each is one thing the copy needs
pub async fn copy(
    b: &bake_sdk::BuildInfo,
    from: &crate::Aws,
    to: &crate::Aws,
    source: &str,
    copy: &CopyAs<'_>,
    polling: &crate::wait::Polling,
    volume_gib: u64,
    made: &(dyn Fn(bake_sdk::journal::EntryId, &str) + Sync),
) -> anyhow::Result<aws_sdk_ec2::types::Image> {
    use crate::resources::{self, IMAGE};
    let ec2 = to.ec2();
    let entry = resources::record(b, IMAGE, &to.region, &format!("run:{}", b.run_uuid))?;
    made(entry, "");
    let run_tags = crate::tags::temporary(&b.run_uuid);
    let out = ec2
        .copy_image()
        .source_image_id(source)
        .source_region(&from.region)
        .name(copy.name)
        .description(copy.description)
        .set_encrypted(copy.encrypted.then_some(true))
        .set_kms_key_id(copy.kms_key_id.clone().filter(|_| copy.encrypted))
        .tag_specifications(crate::tags::specification(aws_sdk_ec2::types::ResourceType::Image, &run_tags))
        .tag_specifications(crate::tags::specification(aws_sdk_ec2::types::ResourceType::Snapshot, &run_tags))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not copy {source} to {} as \"{}\": {}", to.region, copy.name, crate::sdk_error(&e)))?;
    let id = out.image_id().unwrap_or_default().to_string();
    resources::identify(b, entry, IMAGE, &to.region, &id);
    made(entry, &id);
    // Not every endpoint tags on CopyImage (the emulator does not).
    ec2.create_tags()
        .resources(&id)
        .set_tags(Some(run_tags.clone()))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not tag {id}: {}", crate::sdk_error(&e)))?;
    b.ui.message(format!("{}: copying {source} as {id} (\"{}\")", to.region, copy.name));
    let image = wait_available(&b.ui, &ec2, &id, &to.region, polling, volume_gib).await?;
    crate::tags::tag_snapshots(&ec2, &image, run_tags).await?;
    Ok(image)
}

/// The least advanced of an AMI's snapshots, in percent (what the AMI's
/// own progress is), when EC2 says.
async fn snapshot_progress(ec2: &aws_sdk_ec2::Client, image: &aws_sdk_ec2::types::Image) -> Option<u8> {
    let ids = crate::resources::snapshots_of(image);
    if ids.is_empty() {
        return None;
    }
    let out = ec2.describe_snapshots().set_snapshot_ids(Some(ids)).send().await.ok()?;
    out.snapshots().iter().filter_map(|s| s.progress()).filter_map(|p| p.trim_end_matches('%').parse::<u8>().ok()).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::Image;

    fn image(id: &str, created: &str) -> Image {
        Image::builder().image_id(id).creation_date(created).build()
    }

    #[test]
    fn the_newest_wins_only_when_most_recent() {
        let images =
            vec![image("ami-old", "2026-01-02T00:00:00.000Z"), image("ami-new", "2026-11-30T10:00:00.000Z"), image("ami-mid", "2026-06-01T00:00:00.000Z")];
        assert_eq!(select(images.clone(), true).unwrap().image_id.as_deref(), Some("ami-new"));
        let e = select(images, false).unwrap_err();
        assert!(e.starts_with("3 AMIs match") && e.contains("most_recent = true"), "{e}");
        assert_eq!(select(vec![image("ami-one", "x")], false).unwrap().image_id.as_deref(), Some("ami-one"));
        assert_eq!(select(vec![], true).unwrap_err(), "no AMI matches");
    }

    #[test]
    fn owners_are_required() {
        let e = ImageFilter::default().check(Span::default(), "data \"amazon-ami.base\"").unwrap_err();
        assert!(format!("{e:?}").contains("Missing owners"), "{e:?}");
        assert!(ImageFilter { owners: vec!["self".into()], ..ImageFilter::default() }.check(Span::default(), "x").is_ok());
    }
}
