//! `post-processor "amazon-import"`: a local raw or qcow2 disk (the qemu
//! builder's, later the unikernel builder's) becomes an AMI without an
//! instance and, by default, without S3: the disk is written straight into an EBS
//! snapshot through the EBS direct APIs (only its non-zero 512 KiB blocks,
//! many in flight, each with its SHA-256, within one request budget for
//! the whole run), then registered as an hvm AMI with ENA and the boot mode
//! the disk needs. `ami_regions` are uploaded at once rather than copied,
//! encrypted at upload when `encrypt_boot`; `parent_snapshot` sends only
//! what changed since the last import.
//!
//! With `s3_bucket_name` it takes Packer's route instead ([`route_s3`]):
//! the disk's raw content into an S3 object by multipart upload,
//! ImportImage, a copy to the AMI's name (and regions), the object removed.

mod budget;
mod config;
mod disk;
pub mod resources;
mod route_s3;
mod s3;
mod steps;
pub mod upload;
mod vm_import;

use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::steps::{run_steps, Step};
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
use config::Prepared;
use std::sync::Arc;
use steps::*;

/// The `builder_type` of its artifacts.
pub const TYPE: &str = "amazon-import";

pub struct AmazonImport {
    p: Arc<Prepared>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(AmazonImport { p: Arc::new(config::prepare(body, what)?) }))
}

#[async_trait]
impl PostProcessor for AmazonImport {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let Some(disk) = bake_sdk::artifact::disk_image(&input) else {
            anyhow::bail!("amazon-import needs a disk image (raw or qcow2), and the {} artifact \"{}\" has none", input.builder_type, input.id);
        };
        let p = &self.p;
        let mut steps: Vec<Box<dyn Step<State>>> = vec![Box::new(Connect { p: p.clone(), disk_path: disk.path.clone() })];
        if p.s3.is_some() {
            steps.push(Box::new(route_s3::UploadObject { p: p.clone() }));
            steps.push(Box::new(route_s3::ImportObject { p: p.clone() }));
            steps.push(Box::new(route_s3::CopyToName { p: p.clone() }));
        } else {
            steps.push(Box::new(Upload { p: p.clone() }));
            steps.push(Box::new(Register { p: p.clone() }));
        }
        steps.push(Box::new(Finish));
        let mut state = State::default();
        run_steps(&steps, &mut state, build).await?;
        Ok(PostProcessed { artifact: bake_aws::ami::artifact(TYPE, &state.images()), keep_input: None })
    }
}
