//! What the S3 route leaves in AWS while it runs, journaled as the EC2
//! resources are (see `bake_aws::resources`): the S3 object (with its
//! unfinished multipart upload) and the import task. This crate owns them,
//! so that the S3 SDK stays out of the crates every AWS plugin shares.

use crate::s3::Object;
use bake_sdk::journal::{Resource, ResourceOwner};

/// `s3://bucket/key`, or `s3://bucket/key#UPLOAD_ID` while the multipart
/// upload is unfinished (aborting it is what removes its parts).
pub const S3_OBJECT: &str = "aws:s3_object";
/// An import task: `import-ami-…`, or `run:RUN` before ImportImage answers.
pub const IMPORT_TASK: &str = "aws:import_task";

pub fn object_id(object: &Object, upload_id: Option<&str>) -> String {
    match upload_id {
        Some(id) => format!("{object}#{id}"),
        None => object.to_string(),
    }
}

fn parse_object(id: &str) -> anyhow::Result<(Object, Option<String>)> {
    let (path, upload) = match id.split_once('#') {
        Some((path, upload)) => (path, Some(upload.to_string())),
        None => (id, None),
    };
    let (bucket, key) = path.strip_prefix("s3://").and_then(|p| p.split_once('/')).ok_or_else(|| anyhow::anyhow!("not an S3 object: {id}"))?;
    Ok((Object { bucket: bucket.into(), key: key.into() }, upload))
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
                let (object, upload) = parse_object(id)?;
                crate::s3::remove(&crate::s3::client(&aws), &object, upload.as_deref()).await
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
        let object = Object { bucket: "images".into(), key: "web/disk-1.raw".into() };
        assert_eq!(parse_object(&object_id(&object, Some("up-1"))).unwrap(), (object.clone(), Some("up-1".into())));
        assert_eq!(parse_object(&object_id(&object, None)).unwrap(), (object, None));
        assert!(parse_object("images/web").is_err());
    }
}
