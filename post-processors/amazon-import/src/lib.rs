//! `post-processor "amazon-import"`: a local raw or qcow2 disk (the qemu
//! builder's, later the unikernel builder's) becomes an AMI without an
//! instance and without S3: the disk is written straight into an EBS
//! snapshot through the EBS direct APIs (only its non-zero 512 KiB blocks,
//! many in flight, each with its SHA-256, within one request budget for
//! the whole run), then registered as an hvm AMI with ENA and the boot mode
//! the disk needs. `ami_regions` are uploaded at once rather than copied,
//! encrypted at upload when `encrypt_boot`; `parent_snapshot` sends only
//! what changed since the last import.
//!
//! Packer's route (multipart upload to S3, then ImportImage) is not here
//! yet: `s3_bucket_name` is refused at its line, saying so.

mod budget;
mod config;
mod disk;
mod steps;
pub mod upload;

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
        let steps: Vec<Box<dyn Step<State>>> = vec![
            Box::new(Connect { p: self.p.clone(), disk_path: disk.path.clone() }),
            Box::new(Upload { p: self.p.clone() }),
            Box::new(Register { p: self.p.clone() }),
            Box::new(Finish),
        ];
        let mut state = State::default();
        run_steps(&steps, &mut state, build).await?;
        Ok(PostProcessed { artifact: bake_aws::ami::artifact(TYPE, &state.images()), keep_input: None })
    }
}
