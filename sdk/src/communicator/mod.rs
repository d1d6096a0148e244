//! How provisioners reach the machine being built: the [`Communicator`]
//! trait, and the communicator options every builder takes ([`config`]).

pub mod config;

use crate::ui::Stream;
use async_trait::async_trait;
use std::path::Path;

/// Runs commands on, and moves files to and from, the machine being built.
#[async_trait]
pub trait Communicator: Send + Sync {
    /// Runs `command` through the remote shell, streaming each output line to
    /// `output`, and returns its exit status.
    ///
    /// (The `for<'a>` is spelled out because `#[async_trait]` would otherwise
    /// tie the line's lifetime to the call, and no implementation could pass
    /// a line from its own buffer.)
    async fn run(&self, command: &str, output: &mut (dyn for<'a> FnMut(Stream, &'a str) + Send)) -> anyhow::Result<i32>;

    /// Writes `data` to the remote path `dst` with the given mode.
    async fn upload(&self, data: &[u8], dst: &str, mode: u32) -> anyhow::Result<()>;

    /// Copies a local file to the remote path `dst`.
    async fn upload_file(&self, src: &Path, dst: &str) -> anyhow::Result<()>;

    /// Copies a local directory's contents into the remote directory `dst`.
    async fn upload_dir(&self, src: &Path, dst: &str) -> anyhow::Result<()>;

    /// Copies the remote file `src` to the local path `dst`.
    async fn download_file(&self, src: &str, dst: &Path) -> anyhow::Result<()>;

    /// Copies the remote directory `src` into the local directory `dst`.
    async fn download_dir(&self, src: &str, dst: &Path) -> anyhow::Result<()>;
}

/// The error a communicator returns when the connection to the machine drops
/// in the middle of an operation, so that a provisioner that expects it (a
/// script that reboots the machine) can tell it from a failure.
#[derive(Debug, thiserror::Error)]
#[error("the connection to the machine was lost: {0}")]
pub struct Disconnected(pub String);

/// Whether `err`, or any error it wraps, is a [`Disconnected`] or the SSH
/// communicator's own [`SshError::Disconnected`](crate::ssh::SshError::Disconnected).
pub fn is_disconnect(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<Disconnected>() || matches!(e.downcast_ref::<crate::ssh::SshError>(), Some(crate::ssh::SshError::Disconnected { .. })))
}
