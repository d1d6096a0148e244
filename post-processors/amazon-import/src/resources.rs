//! What the S3 route leaves in AWS while it runs, journaled as the EC2
//! resources are (see `bake_aws::resources`): the S3 object (with its
//! unfinished multipart upload) and the import task. This crate owns them,
//! so that the S3 SDK stays out of the crates every AWS plugin shares.

use crate::s3::{Object, Progress};
use bake_sdk::journal::{Resource, ResourceOwner};

/// `s3://bucket/key#uploading:ID` while the multipart upload is unfinished
/// (`ID` empty until S3 names it; aborting is what removes its parts), then
/// `s3://bucket/key#complete`. (A key may hold `#`: the last one counts.)
pub const S3_OBJECT: &str = "aws:s3_object";
/// An import task: `import-ami-…`, or `run:RUN` before ImportImage answers.
pub const IMPORT_TASK: &str = "aws:import_task";

pub fn object_id(object: &Object, progress: &Progress) -> String {
    match progress {
        Progress::Uploading(id) => format!("{object}#uploading:{}", id.as_deref().unwrap_or_default()),
        Progress::Complete => format!("{object}#complete"),
    }
}

fn parse_object(id: &str) -> anyhow::Result<(Object, Progress)> {
    let bad = || anyhow::anyhow!("not an S3 object of bake's: {id}");
    let (path, progress) = id.rsplit_once('#').ok_or_else(bad)?;
    let progress = match progress.strip_prefix("uploading:") {
        Some("") => Progress::Uploading(None),
        Some(upload) => Progress::Uploading(Some(upload.to_string())),
        None if progress == "complete" => Progress::Complete,
        None => return Err(bad()),
    };
    let (bucket, key) = path.strip_prefix("s3://").and_then(|p| p.split_once('/')).ok_or_else(bad)?;
    Ok((Object { bucket: bucket.into(), key: key.into() }, progress))
}

/// The `bake cleanup` owner of a dead run's S3 objects and import tasks,
/// reached through the AWS_* environment as `bake_aws::resources::AwsResources` is.
pub struct ImportResources;

#[bake_sdk::async_trait]
impl ResourceOwner for ImportResources {
    fn kinds(&self) -> &[&str] {
        &[S3_OBJECT, IMPORT_TASK]
    }

    async fn undo(&self, resource: &Resource) -> anyhow::Result<()> {
        let Resource::Cloud { provider_kind, region, id } = resource else { anyhow::bail!("not an AWS resource") };
        let aws = bake_aws::access::from_environment(region).await;
        match provider_kind.as_str() {
            S3_OBJECT => {
                let (object, progress) = parse_object(id)?;
                crate::s3::remove(&crate::s3::client(&aws), &object, &progress).await
            }
            IMPORT_TASK => {
                let ec2 = aws.ec2();
                let tasks = match id.strip_prefix("run:") {
                    Some(run) => crate::vm_import::tasks_of_run(&ec2, run).await?,
                    None => vec![id.clone()],
                };
                for task in tasks {
                    crate::vm_import::undo(&ec2, &task).await?;
                }
                Ok(())
            }
            other => anyhow::bail!("amazon-import does not own {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_id_reads_back() {
        let object = Object { bucket: "images".into(), key: "web/disk#1.raw".into() };
        for progress in [Progress::Uploading(None), Progress::Uploading(Some("up-1".into())), Progress::Complete] {
            assert_eq!(parse_object(&object_id(&object, &progress)).unwrap(), (object.clone(), progress));
        }
        assert!(parse_object("s3://images/web").is_err());
    }
}
