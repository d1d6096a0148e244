//! The SSH communicator: how builders reach the machine they build.
//!
//! Built on `russh` (the protocol) and `russh-sftp` (file transfer). The
//! pieces:
//!
//! - [`connect`] retries until `ssh_timeout`, keeps a tally of what each
//!   attempt got to (TCP, handshake, authentication) and, when it gives up,
//!   says why ([`ConnectFailure`]).
//! - [`SshCommunicator`] runs commands (`exec.rs`) and moves files over SFTP
//!   (`sftp.rs`); it is `Send + Sync` and used through `&self`, so
//!   provisioners may share it.
//! - `keys.rs` reads private keys and makes throwaway ed25519 key pairs.
//!
//! Host keys are not checked: the machines are temporary build VMs whose
//! host keys are generated on first boot and cannot be known in advance
//! (Packer does the same).

mod client;
mod connect;
mod error;
mod exec;
mod keys;
mod sftp;

use std::path::PathBuf;
use std::time::Duration;

pub use client::SshCommunicator;
pub use connect::connect;
pub use error::{ConnectFailure, GiveUpReason, SshError};
pub use keys::generate_ed25519;

/// Where and how to connect. Field names follow Packer's `ssh_*` options.
#[derive(Clone, Debug)]
pub struct SshConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub auth: SshAuth,
    /// `ssh_timeout`: how long to keep trying before giving up (default 5m).
    pub timeout: Duration,
    /// `ssh_handshake_attempts`: how many SSH handshakes that reached the
    /// server (its banner arrived) may fail, authentication included, before
    /// giving up (default 10). Attempts that never reach an SSH server (port
    /// closed, connection dropped before the banner) do not count: those are
    /// a machine still booting, and only `timeout` limits them.
    pub handshake_attempts: u32,
    /// `pause_before_connecting`: wait this long before the first attempt;
    /// `timeout` starts after it.
    pub pause_before_connecting: Duration,
    /// `ssh_keep_alive_interval` (default 5s; zero disables keepalives).
    pub keepalive_interval: Duration,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            host: String::new(),
            port: 22,
            username: String::new(),
            auth: SshAuth::default(),
            timeout: Duration::from_secs(5 * 60),
            handshake_attempts: 10,
            pause_before_connecting: Duration::ZERO,
            keepalive_interval: Duration::from_secs(5),
        }
    }
}

impl SshConfig {
    /// `host:port`, with IPv6 literals bracketed.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Credentials. With both a key and a password, the key is tried first.
#[derive(Clone, Default)]
pub struct SshAuth {
    pub password: Option<String>,
    pub private_key: Option<PrivateKeySource>,
}

// Hand-written so that a password never ends up in a log line.
impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshAuth")
            .field("password", &self.password.as_ref().map(|_| "<sensitive>"))
            .field("private_key", &self.private_key)
            .finish()
    }
}

/// A private key, from a file (`ssh_private_key_file`) or held in memory (a
/// key pair the builder generated).
#[derive(Clone)]
pub enum PrivateKeySource {
    File(PathBuf),
    Text(String),
}

impl std::fmt::Debug for PrivateKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrivateKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            PrivateKeySource::Text(_) => f.write_str("Text(<sensitive>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_brackets_ipv6() {
        let mut c = SshConfig { host: "10.0.2.15".into(), port: 2222, ..SshConfig::default() };
        assert_eq!(c.address(), "10.0.2.15:2222");
        c.host = "::1".into();
        assert_eq!(c.address(), "[::1]:2222");
    }

    #[test]
    fn debug_hides_secrets() {
        let auth = SshAuth { password: Some("hunter2".into()), private_key: Some(PrivateKeySource::Text("KEY".into())) };
        let s = format!("{auth:?}");
        assert!(!s.contains("hunter2") && !s.contains("KEY\""), "{s}");
    }
}
