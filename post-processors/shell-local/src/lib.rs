//! The `shell-local` post-processor: runs commands and scripts on the
//! machine running bake, with Packer's options and semantics (see
//! [`bake_sdk::shell_local`], shared with the provisioner of that name).
//! The scripts see the artifact in `PACKER_ARTIFACT_*`; the artifact passes
//! through unchanged.

use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::shell_local::ShellLocal;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor};
use std::collections::BTreeMap;

pub struct ShellLocalPostProcessor {
    shell: ShellLocal,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(ShellLocalPostProcessor { shell: ShellLocal::prepare(body, what)? }))
}

#[async_trait]
impl PostProcessor for ShellLocalPostProcessor {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let files: Vec<String> = input.files.iter().map(|f| f.path.display().to_string()).collect();
        let env = BTreeMap::from([
            ("PACKER_ARTIFACT_ID".to_string(), input.id.clone()),
            ("PACKER_ARTIFACT_FILES".to_string(), files.join(" ")),
            ("PACKER_ARTIFACT_BUILDER_TYPE".to_string(), input.builder_type.clone()),
        ]);
        self.shell.run(build, &env).await?;
        // Like Packer's, this post-processor passes its input through.
        Ok(PostProcessed { artifact: input, keep_input: Some(true) })
    }
}
