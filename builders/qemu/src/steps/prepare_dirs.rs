//! Makes the partial output directory and the runtime directory, both
//! journalled before they exist, so that a crash leaves them to `bake
//! cleanup`.

use super::{sanitize, State};
use crate::config::Prepared;
use bake_sdk::journal::Resource;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct PrepareDirs {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for PrepareDirs {
    fn name(&self) -> String {
        "Preparing the output directory".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.prepare_dirs")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        s.vm_name = self.p.vm_name(&b.source_name);
        s.output_dir = PathBuf::from(self.p.output_directory(&b.source_name));
        if s.output_dir.exists() && !b.force {
            anyhow::bail!("the output directory {} already exists; remove it or run with -force", s.output_dir.display());
        }
        let parent = s.output_dir.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        std::fs::create_dir_all(&parent)?;
        let parent = std::fs::canonicalize(&parent)?;
        let name = s.output_dir.file_name().map_or("output".into(), |n| n.to_string_lossy().into_owned());
        s.partial_dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        s.runtime_dir = std::env::temp_dir().join(format!("bake-qemu-{}-{}", &b.run_uuid[..8.min(b.run_uuid.len())], sanitize(&b.name)));
        for dir in [s.partial_dir.clone(), s.runtime_dir.clone()] {
            // Journalled first: after a crash `bake cleanup` removes it.
            s.journal_ids.push(b.journal.record(&b.name, Resource::Path { path: dir.clone() })?);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
        }
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        // The partial directory is gone after a successful rename.
        let _ = std::fs::remove_dir_all(&s.partial_dir);
        let _ = std::fs::remove_dir_all(&s.runtime_dir);
        for id in s.journal_ids.drain(..) {
            let _ = b.journal.release(id);
        }
        Ok(())
    }
}
