//! What can go wrong, and — for connecting — a report of every attempt so
//! the message can say *why* SSH never came up.

use crate::duration::human;
use std::fmt;
use std::time::Duration;

#[derive(thiserror::Error, Debug)]
pub enum SshError {
    /// Connecting gave up; the report says what each attempt got to.
    #[error("{0}")]
    ConnectFailed(Box<ConnectFailure>),

    /// The cancellation token fired (Ctrl-C, or the build was stopped).
    #[error("cancelled while {0}")]
    Cancelled(&'static str),

    /// The configuration cannot work; no attempt was made.
    #[error("{0}")]
    Config(String),

    /// The private key could not be used.
    #[error("SSH private key {source_name}: {reason}")]
    PrivateKey { source_name: String, reason: String },

    /// The connection dropped: mid-command, or before the next one. A shell
    /// provisioner with `expect_disconnect` treats this as the reboot it
    /// asked for ([`Disconnected::is`](crate::communicator::Disconnected::is)
    /// sees it, as it sees any communicator's).
    #[error(transparent)]
    Disconnected(crate::communicator::Disconnected),

    /// The remote command was killed by a signal instead of exiting.
    #[error("the remote command was killed by signal {signal}{}{}", if *.core_dumped { " (core dumped)" } else { "" }, detail_suffix(.message))]
    Signal { signal: String, core_dumped: bool, message: String },

    /// A command's channel carried nothing for `ssh_read_write_timeout`.
    #[error("the command on {address} sent nothing for {} (ssh_read_write_timeout), so bake stopped it", human(*.after))]
    Idle { address: String, after: Duration },

    /// [`super::SshCommunicator::close`] was called.
    #[error("the SSH connection to {0} was closed by bake")]
    Closed(String),

    /// The server refused a request on a working connection (opening a
    /// channel, starting a command, the SFTP subsystem).
    #[error("{0}")]
    Refused(String),

    /// A file transfer failed.
    #[error("{0}")]
    Transfer(String),
}

impl SshError {
    /// The connection to `address` dropped; `detail` is what it said.
    pub fn disconnected(address: String, detail: String) -> SshError {
        SshError::Disconnected(crate::communicator::Disconnected { via: "SSH", address, detail })
    }
}

fn detail_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// Why [`super::connect`] stopped trying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUpReason {
    /// `ssh_timeout` ran out.
    Timeout(Duration),
    /// `ssh_handshake_attempts` handshakes reached the server and failed.
    HandshakeAttempts(u32),
}

/// Counts of what the connection attempts got to. Each attempt ends at the
/// first stage that fails: TCP, the server's banner, the key exchange, or
/// authentication.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Connections refused: the host answered, but nothing listens there.
    pub refused: u32,
    /// Connects that got no answer in time (a machine still booting, or a
    /// firewall dropping packets).
    pub tcp_timeouts: u32,
    /// "No route to host" / "network unreachable".
    pub unreachable: u32,
    /// Other TCP failures (the host name did not resolve, …).
    pub other_tcp: u32,
    pub last_tcp_error: Option<String>,
    /// Connections the TCP port accepted.
    pub tcp_answered: u32,
    /// Accepted connections that closed, or stayed silent, before the
    /// server's SSH banner. QEMU's user networking accepts every connection
    /// to a forwarded port and then drops it while nothing listens inside
    /// the guest, so under QEMU this is "sshd not up yet".
    pub no_banner: u32,
    pub last_no_banner: Option<String>,
    /// The server's identification string, once seen ("SSH-2.0-OpenSSH_9.2p1 …").
    pub server_id: Option<String>,
    /// Handshakes that reached the server and failed before authentication.
    pub handshake_failures: u32,
    pub last_handshake_error: Option<String>,
    /// Handshakes where the server refused every credential offered.
    pub auth_refusals: u32,
    /// The methods bake tried on the last refusal (`publickey`, `password`…).
    pub tried_methods: Vec<String>,
    /// The methods the server said it accepts, on the last refusal.
    pub server_accepts: Vec<String>,
    /// Attempts that failed on the way to the bastion (`ssh_bastion_host`),
    /// and of those, the ones its SSH server answered.
    pub bastion_failures: u32,
    pub bastion_refusals: u32,
    pub last_bastion_error: Option<String>,
}

impl Tally {
    fn tcp_failures(&self) -> u32 {
        self.refused + self.tcp_timeouts + self.unreachable + self.other_tcp
    }

    /// The stage the attempts got furthest to, as the headline.
    fn headline(&self) -> String {
        if self.auth_refusals > 0 {
            format!("authentication was refused ({})", self.auth_detail())
        } else if self.handshake_failures > 0 {
            format!("the SSH handshake failed: {}", self.last_handshake_error.as_deref().unwrap_or("unknown error"))
        } else if self.no_banner > 0 {
            format!("the TCP port answered but no SSH server greeted: {}", self.last_no_banner.as_deref().unwrap_or("the connection was closed"))
        } else if self.tcp_failures() > 0 {
            format!("the TCP port never answered: {}", self.last_tcp_error.as_deref().unwrap_or("unknown error"))
        } else if let Some(bastion) = &self.last_bastion_error {
            format!("the bastion failed: {bastion}")
        } else {
            "no connection attempt was made".to_string()
        }
    }

    fn auth_detail(&self) -> String {
        let tried = if self.tried_methods.is_empty() { "nothing".to_string() } else { self.tried_methods.join(", ") };
        let accepts = if self.server_accepts.is_empty() { "nothing more".to_string() } else { self.server_accepts.join(", ") };
        format!("tried: {tried}; server accepts: {accepts}")
    }

    fn tcp_line(&self, attempts: u32) -> String {
        let mut failures = Vec::new();
        for (n, what) in
            [(self.refused, "connection refused"), (self.tcp_timeouts, "timed out"), (self.unreachable, "no route to host"), (self.other_tcp, "failed")]
        {
            if n > 0 {
                failures.push(format!("{what} {}", times(n)));
            }
        }
        let failures = failures.join(", ");
        if self.tcp_answered == 0 && failures.is_empty() {
            "never reached (see the bastion)".to_string()
        } else if self.tcp_answered == 0 {
            match self.last_tcp_error.as_deref() {
                Some(last) if !failures.contains(last) => format!("the port never answered ({failures}); last error: {last}"),
                _ => format!("the port never answered ({failures})"),
            }
        } else if failures.is_empty() {
            format!("the port answered ({} of {attempts} attempts)", self.tcp_answered)
        } else {
            format!("the port answered {} of {attempts} attempts; otherwise {failures}", self.tcp_answered)
        }
    }

    fn handshake_line(&self) -> String {
        if self.tcp_answered == 0 {
            return "never started".to_string();
        }
        let mut parts = Vec::new();
        match &self.server_id {
            Some(id) => parts.push(format!("reached the server ({id})")),
            // QEMU's user networking accepts connections to a forwarded
            // port and drops them while nothing listens inside the guest.
            None => parts.push("the server never sent its SSH banner (with QEMU user networking: nothing listens on the guest's port yet)".to_string()),
        }
        if self.no_banner > 0 {
            parts.push(format!("{} ended before the banner (last: {})", connections(self.no_banner), self.last_no_banner.as_deref().unwrap_or("?")))
        }
        if self.handshake_failures > 0 {
            parts.push(format!("failed {} (last: {})", times(self.handshake_failures), self.last_handshake_error.as_deref().unwrap_or("?")));
        }
        parts.join("; ")
    }
}

fn times(n: u32) -> String {
    if n == 1 {
        "once".to_string()
    } else {
        format!("{n} times")
    }
}

fn connections(n: u32) -> String {
    if n == 1 {
        "1 connection".to_string()
    } else {
        format!("{n} connections")
    }
}

/// Why SSH never came up: the address, how long and how often bake tried,
/// what each stage saw, and the caller's hint lines (such as the tail of the
/// VM's serial console).
#[derive(Clone, Debug)]
pub struct ConnectFailure {
    pub address: String,
    pub username: String,
    pub reason: GiveUpReason,
    pub attempts: u32,
    pub elapsed: Duration,
    pub tally: Tally,
    pub hints: Vec<String>,
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.tally;
        writeln!(f, "could not connect over SSH to {}@{}: {}", self.username, self.address, t.headline())?;
        let why = match self.reason {
            GiveUpReason::Timeout(d) => format!("ssh_timeout ({}) ran out", human(d)),
            GiveUpReason::HandshakeAttempts(n) => format!("ssh_handshake_attempts ({n}) used up"),
        };
        let attempts = if self.attempts == 1 { "1 attempt".to_string() } else { format!("{} attempts", self.attempts) };
        writeln!(f, "  gave up after {attempts} in {}: {why}", human(self.elapsed))?;
        writeln!(f, "  TCP: {}", t.tcp_line(self.attempts))?;
        if t.bastion_failures > 0 {
            let last = t.last_bastion_error.as_deref().unwrap_or("?");
            writeln!(f, "  bastion: failed {} (last: {last})", times(t.bastion_failures))?;
        }
        write!(f, "  SSH handshake: {}", t.handshake_line())?;
        if t.auth_refusals > 0 {
            write!(f, "\n  authentication: refused {} as \"{}\" ({})", times(t.auth_refusals), self.username, t.auth_detail())?;
            if !t.server_accepts.is_empty() && !t.tried_methods.iter().any(|m| t.server_accepts.contains(m)) {
                write!(f, "\n  the server does not accept the method bake has credentials for: configure {}", method_hint(&t.server_accepts))?;
            }
        }
        for line in &self.hints {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

fn method_hint(accepts: &[String]) -> &'static str {
    if accepts.iter().any(|m| m == "publickey") {
        "ssh_private_key_file (the server accepts public keys)"
    } else if accepts.iter().any(|m| m == "password" || m == "keyboard-interactive") {
        "ssh_password (the server accepts passwords)"
    } else {
        "a method the server accepts"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(t: Tally, attempts: u32) -> ConnectFailure {
        ConnectFailure {
            address: "127.0.0.1:2222".into(),
            username: "root".into(),
            reason: GiveUpReason::Timeout(Duration::from_secs(30)),
            attempts,
            elapsed: Duration::from_millis(30_200),
            tally: t,
            hints: vec!["serial console:".into(), "  Probing EDD".into()],
        }
    }

    #[test]
    fn refused_everywhere() {
        let t = Tally { refused: 12, last_tcp_error: Some("connection refused".into()), ..Tally::default() };
        let msg = failure(t, 12).to_string();
        assert!(msg.starts_with("could not connect over SSH to root@127.0.0.1:2222: the TCP port never answered: connection refused"), "{msg}");
        assert!(msg.contains("gave up after 12 attempts in 30.2s: ssh_timeout (30.0s) ran out"), "{msg}");
        assert!(msg.contains("TCP: the port never answered (connection refused 12 times)"), "{msg}");
        assert!(msg.contains("SSH handshake: never started"), "{msg}");
        assert!(msg.ends_with("\n  serial console:\n    Probing EDD"), "{msg}");
    }

    #[test]
    fn auth_refused_names_methods() {
        let t = Tally {
            tcp_answered: 3,
            server_id: Some("SSH-2.0-OpenSSH_9.2p1".into()),
            auth_refusals: 3,
            tried_methods: vec!["password".into()],
            server_accepts: vec!["publickey".into()],
            ..Tally::default()
        };
        let mut f = failure(t, 3);
        f.reason = GiveUpReason::HandshakeAttempts(3);
        let msg = f.to_string();
        assert!(msg.contains("authentication was refused (tried: password; server accepts: publickey)"), "{msg}");
        assert!(msg.contains("ssh_handshake_attempts (3) used up"), "{msg}");
        assert!(msg.contains("reached the server (SSH-2.0-OpenSSH_9.2p1)"), "{msg}");
        assert!(msg.contains("configure ssh_private_key_file"), "{msg}");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(123)), "2m3s");
    }
}
