//! What a build produces and post-processors transform.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Artifact {
    /// The plugin that made it: `qemu`, `amazon-ebs`, `compress` …
    pub builder_type: String,
    /// The artifact's id: an AMI id, an image digest, a file path.
    pub id: String,
    pub files: Vec<ArtifactFile>,
    /// Structured facts, such as `"region_images": {"us-east-1": "ami-…"}`.
    pub state: BTreeMap<String, serde_json::Value>,
    /// One line for the closing summary.
    pub description: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ArtifactFile {
    pub path: PathBuf,
    pub size: u64,
    /// Hex sha256, when known.
    pub sha256: Option<String>,
}

impl ArtifactFile {
    /// Describes a file on disk, hashing it.
    pub fn from_path(path: impl Into<PathBuf>) -> std::io::Result<ArtifactFile> {
        use sha2::Digest;
        let path = path.into();
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = sha2::Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)?;
        Ok(ArtifactFile { path, size, sha256: Some(hex(&hasher.finalize())) })
    }
}

/// The hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
