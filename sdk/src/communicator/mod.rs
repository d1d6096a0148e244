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

/// The error any communicator returns when the connection to the machine
/// drops in the middle of an operation, so that a provisioner that expects
/// it (a script that reboots the machine) can tell it from a failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {via} connection to {address} was lost{}", detail_suffix(.detail))]
pub struct Disconnected {
    /// The communicator: "SSH", "WinRM".
    pub via: &'static str,
    /// Where it was connected: `127.0.0.1:2222`.
    pub address: String,
    /// What the connection said as it ended, if anything.
    pub detail: String,
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl Disconnected {
    /// Whether `err`, or any error it wraps, is a lost connection: a
    /// [`Disconnected`], or the SSH communicator's
    /// [`SshError::Disconnected`](crate::ssh::SshError::Disconnected) that
    /// carries one.
    pub fn is(err: &anyhow::Error) -> bool {
        err.chain().any(|e| e.is::<Disconnected>() || matches!(e.downcast_ref::<crate::ssh::SshError>(), Some(crate::ssh::SshError::Disconnected(_))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_known_by_its_type_whichever_communicator_lost_it() {
        let lost = Disconnected { via: "SSH", address: "127.0.0.1:2222".into(), detail: "reset by peer".into() };
        assert_eq!(lost.to_string(), "the SSH connection to 127.0.0.1:2222 was lost: reset by peer");
        assert!(Disconnected::is(&anyhow::Error::new(lost.clone()).context("running setup.sh")));
        let ssh = crate::ssh::SshError::Disconnected(Disconnected { detail: String::new(), ..lost });
        assert_eq!(ssh.to_string(), "the SSH connection to 127.0.0.1:2222 was lost");
        assert!(Disconnected::is(&anyhow::Error::new(ssh)));
        assert!(!Disconnected::is(&anyhow::anyhow!("the SSH connection to 127.0.0.1:2222 was lost")), "the words do not count");
    }
}
