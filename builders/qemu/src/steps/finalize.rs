//! Renames the partial directory to `output_directory` and lists the
//! artifact's files.

use super::State;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, ArtifactFile, BuildInfo};
use std::path::PathBuf;

pub struct Finalize;

#[async_trait]
impl Step<State> for Finalize {
    fn name(&self) -> String {
        "Writing the artifact".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.finalize")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        if s.output_dir.exists() {
            // Only with -force (checked at the start).
            std::fs::remove_dir_all(&s.output_dir)?;
        }
        std::fs::rename(&s.partial_dir, &s.output_dir)?;
        let mut names: Vec<PathBuf> = std::fs::read_dir(&s.output_dir)?.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        names.sort();
        let files =
            tokio::task::spawn_blocking(move || -> std::io::Result<Vec<ArtifactFile>> { names.into_iter().map(ArtifactFile::from_path).collect() }).await??;
        for f in &files {
            b.ui.message(format!("{} ({} bytes, sha256 {})", f.path.display(), f.size, f.sha256.as_deref().unwrap_or("?")));
        }
        s.files = files;
        Ok(())
    }
}
