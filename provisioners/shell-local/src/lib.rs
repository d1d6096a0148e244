//! The `shell-local` provisioner: runs commands and scripts on the machine
//! running bake, with Packer's options and semantics (see
//! [`bake_sdk::shell_local`], shared with the post-processor of that name).
//! As a provisioner it adds the build's HTTP server address to the
//! environment.

use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::shell_local::ShellLocal;
use bake_sdk::{async_trait, ProvisionContext, Provisioner};
use std::collections::BTreeMap;

pub struct ShellLocalProvisioner {
    shell: ShellLocal,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Provisioner>, Diagnostics> {
    Ok(Box::new(ShellLocalProvisioner { shell: ShellLocal::prepare(body, what)? }))
}

#[async_trait]
impl Provisioner for ShellLocalProvisioner {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()> {
        let mut env = BTreeMap::new();
        for (key, var) in [("PackerHTTPAddr", "PACKER_HTTP_ADDR"), ("PackerHTTPIP", "PACKER_HTTP_IP"), ("PackerHTTPPort", "PACKER_HTTP_PORT")] {
            if let Some(v) = ctx.generated.get(key) {
                env.insert(var.to_string(), v.clone());
            }
        }
        self.shell.run(ctx.build, &env).await
    }
}
