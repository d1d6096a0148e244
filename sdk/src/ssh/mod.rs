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
//! - `keys.rs` reads private keys and certificates, and makes throwaway
//!   ed25519 key pairs; `agent.rs` signs with the keys of a running
//!   `ssh-agent` (`ssh_agent_auth`).
//! - `socks.rs` asks a SOCKS5 proxy (`ssh_proxy_host`) for the connection.
//! - A bastion (`ssh_bastion_host`) is a jump host: bake logs in to it and
//!   reaches the machine through a `direct-tcpip` channel of that
//!   connection, as `ssh -J` does.
//!
//! Host keys are not checked: the machines are temporary build VMs whose
//! host keys are generated on first boot and cannot be known in advance
//! (Packer does the same).

mod agent;
mod client;
mod connect;
mod error;
mod exec;
mod keys;
mod sftp;
mod socks;

use std::path::PathBuf;
use std::time::Duration;

pub use client::SshCommunicator;
pub use connect::connect;
pub use error::{ConnectFailure, GiveUpReason, SshError};
pub use keys::{check_certificate, check_private_key, generate_ed25519};

/// `ssh_timeout` when only `ssh_handshake_attempts` limits the attempts
/// (Packer's "no timeout"): longer than any build.
pub const NO_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The `ssh_ciphers` bake can use, most preferred first.
pub fn supported_ciphers() -> Vec<&'static str> {
    russh::Preferred::DEFAULT.cipher.iter().map(|n| n.as_ref()).collect()
}

/// The `ssh_key_exchange_algorithms` bake can use (without the protocol
/// extension markers, which bake always adds).
pub fn supported_key_exchanges() -> Vec<&'static str> {
    russh::Preferred::DEFAULT.kex.iter().map(|n| n.as_ref()).filter(|n| !connect::is_kex_extension(n)).collect()
}

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
    /// `ssh_read_write_timeout`: a command whose channel carries nothing
    /// for this long fails (`None`: no limit).
    pub read_write_timeout: Option<Duration>,
    /// `ssh_pty`: run commands on a pseudo-terminal.
    pub pty: bool,
    /// `ssh_ciphers` (empty: bake's defaults), names checked by the decoder.
    pub ciphers: Vec<String>,
    /// `ssh_key_exchange_algorithms` (empty: bake's defaults).
    pub key_exchange_algorithms: Vec<String>,
    /// `ssh_bastion_*`: the jump host to connect through.
    pub bastion: Option<Bastion>,
    /// `ssh_proxy_host` and `ssh_proxy_port`: a SOCKS5 proxy to connect
    /// through (`host`, `port`).
    pub proxy: Option<(String, u16)>,
    /// The local agent socket forwarded to remote commands: Packer forwards
    /// `SSH_AUTH_SOCK` unless `ssh_disable_agent_forwarding` is set.
    pub forward_agent: Option<PathBuf>,
}

/// A jump host (`ssh_bastion_host`, `_port`, `_username` and credentials).
#[derive(Clone, Debug)]
pub struct Bastion {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub auth: SshAuth,
}

impl Bastion {
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
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
            read_write_timeout: None,
            pty: false,
            ciphers: Vec::new(),
            key_exchange_algorithms: Vec::new(),
            bastion: None,
            forward_agent: None,
            proxy: None,
        }
    }
}

impl SshConfig {
    /// `host:port`, with IPv6 literals bracketed.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
}

/// `host:port`, with IPv6 literals bracketed.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Credentials, tried in this order: the agent's keys, the private key
/// (with its certificate when there is one), the password.
#[derive(Clone, Default)]
pub struct SshAuth {
    pub password: Option<String>,
    pub private_key: Option<PrivateKeySource>,
    /// `ssh_certificate_file`: an OpenSSH certificate of `private_key`,
    /// offered instead of the bare key.
    pub certificate: Option<PathBuf>,
    /// `ssh_agent_auth`: sign with the keys of the agent listening on this
    /// socket (`SSH_AUTH_SOCK` when the template is decoded).
    pub agent: Option<PathBuf>,
}

impl SshAuth {
    /// No credential at all.
    pub fn is_empty(&self) -> bool {
        self.password.is_none() && self.private_key.is_none() && self.agent.is_none()
    }
}

// Hand-written so that a password never ends up in a log line.
impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshAuth")
            .field("password", &self.password.as_ref().map(|_| "<sensitive>"))
            .field("private_key", &self.private_key)
            .field("certificate", &self.certificate)
            .field("agent", &self.agent)
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
        let auth = SshAuth { password: Some("hunter2".into()), private_key: Some(PrivateKeySource::Text("KEY".into())), ..SshAuth::default() };
        let s = format!("{auth:?}");
        assert!(!s.contains("hunter2") && !s.contains("KEY\""), "{s}");
    }
}
