//! Running one command on its own channel: environment, streamed output
//! lines, exit status or signal.

use super::client::Lease;
use super::connect::Session;
use super::SshError;
use crate::ui::Stream;
use russh::{ChannelMsg, Sig};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How commands run: on a pseudo-terminal or not (`ssh_pty`), and how long
/// one may stay silent (`ssh_read_write_timeout`).
#[derive(Clone, Copy)]
pub(crate) struct Mode {
    pub(crate) pty: bool,
    pub(crate) idle_limit: Option<Duration>,
    /// Ask the server to forward the agent to the command.
    pub(crate) forward_agent: bool,
}

pub(crate) async fn run(
    lease: Lease,
    address: &str,
    mode: Mode,
    command: &str,
    env: &[(String, String)],
    output: &mut (dyn FnMut(Stream, &str) + Send),
    cancel: &CancellationToken,
) -> Result<i32, SshError> {
    for (name, _) in env {
        if !valid_env_name(name) {
            return Err(SshError::Config(format!("{name:?} is not a valid environment variable name (letters, digits and _, not starting with a digit)")));
        }
    }
    let lost = |detail: String| SshError::disconnected(address.to_string(), detail);
    let Lease { mut channel, session, .. } = lease;
    let session = &*session;

    // Offer every variable as an `env` request, then read the replies, which
    // come in order: one round trip for all of them.
    for (name, value) in env {
        channel.set_env(true, name.as_str(), value.as_str()).await.map_err(|e| lost(e.to_string()))?;
    }
    let mut refused = Vec::new();
    let mut replies = 0;
    while replies < env.len() {
        match channel.wait().await {
            Some(ChannelMsg::Success) => replies += 1,
            Some(ChannelMsg::Failure) => {
                refused.push(&env[replies]);
                replies += 1;
            }
            Some(_) => {}
            None => return Err(lost("while setting environment variables".into())),
        }
    }
    let mut full = String::new();
    for (name, value) in refused {
        full.push_str(&format!("export {name}={}; ", shell_quote(value)));
    }
    full.push_str(command);

    if mode.pty {
        // No reply wanted: a server that refuses runs the command without one.
        channel.request_pty(false, "xterm", 80, 24, 0, 0, &[]).await.map_err(|e| lost(e.to_string()))?;
    }
    if mode.forward_agent {
        // No reply wanted: a server that refuses just gives no agent.
        channel.agent_forward(false).await.map_err(|e| lost(e.to_string()))?;
    }
    channel.exec(true, full).await.map_err(|e| lost(e.to_string()))?;
    let mut stdout = Lines::default();
    let mut stderr = Lines::default();
    let mut status = None;
    let mut signal = None;
    loop {
        let idle = async {
            match mode.idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        let msg = tokio::select! {
            m = channel.wait() => m,
            _ = idle => {
                let _ = channel.signal(Sig::TERM).await;
                let _ = channel.close().await;
                return Err(SshError::Idle { address: address.to_string(), after: mode.idle_limit.unwrap_or_default() });
            }
            _ = cancel.cancelled() => {
                // Ask the remote side to stop the command, then let go.
                let _ = channel.signal(Sig::TERM).await;
                let _ = channel.close().await;
                return Err(SshError::Cancelled("running a command over SSH"));
            }
        };
        match msg {
            Some(ChannelMsg::Data { data }) => stdout.push(&data, &mut |l| output(Stream::Stdout, l)),
            Some(ChannelMsg::ExtendedData { data, .. }) => stderr.push(&data, &mut |l| output(Stream::Stderr, l)),
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::ExitSignal { signal_name, core_dumped, error_message, .. }) => {
                signal = Some((signal_label(&signal_name), core_dumped, error_message))
            }
            // The reply to `exec` with want_reply: only a refusal matters.
            Some(ChannelMsg::Failure) if status.is_none() => return Err(SshError::Refused(format!("the SSH server at {address} refused to run the command"))),
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    stdout.finish(&mut |l| output(Stream::Stdout, l));
    stderr.finish(&mut |l| output(Stream::Stderr, l));

    if let Some((signal, core_dumped, message)) = signal {
        return Err(SshError::Signal { signal, core_dumped, message });
    }
    match status {
        // Exit statuses are 0..=255 in practice; clamp rather than wrap.
        Some(code) => Ok(i32::try_from(code).unwrap_or(i32::MAX)),
        // OpenSSH always reports a status or a signal before closing the
        // channel: without one, the connection went away under the command.
        None => Err(lost(disconnect_detail(session).await)),
    }
}

/// Why the connection ended, for the `Disconnected` error. The channel can
/// learn of the end a moment before the session's handler does: wait for it
/// briefly.
async fn disconnect_detail(session: &Session) -> String {
    for _ in 0..20 {
        if session.is_closed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    match session.disconnect_reason() {
        Some(reason) => format!("the command did not finish ({reason})"),
        None => "the command did not finish (no exit status came back)".to_string(),
    }
}

fn signal_label(sig: &Sig) -> String {
    match sig {
        Sig::Custom(name) => format!("SIG{name}"),
        other => format!("SIG{other:?}"),
    }
}

/// Accepted by every POSIX shell's `export`.
fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Single-quotes `s` for a POSIX shell: `'` becomes `'\''`.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Splits a byte stream into lines. Bytes are kept until a newline so that a
/// multi-byte character split across packets is decoded whole.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
}

impl Lines {
    fn push(&mut self, data: &[u8], emit: &mut dyn FnMut(&str)) {
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|&b| b == b'\n') {
            emit_line(&self.buf[start..start + pos], emit);
            start += pos + 1;
        }
        self.buf.drain(..start);
    }

    fn finish(&mut self, emit: &mut dyn FnMut(&str)) {
        if !self.buf.is_empty() {
            emit_line(&self.buf, emit);
            self.buf.clear();
        }
    }
}

fn emit_line(line: &[u8], emit: &mut dyn FnMut(&str)) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    emit(&String::from_utf8_lossy(line));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn env_names() {
        assert!(valid_env_name("FOO_1") && valid_env_name("_x"));
        assert!(!valid_env_name("1A") && !valid_env_name("A-B") && !valid_env_name("") && !valid_env_name("A B"));
    }

    #[test]
    fn lines_split_across_packets() {
        let mut got = Vec::new();
        let mut l = Lines::default();
        let mut emit = |s: &str| got.push(s.to_string());
        l.push(b"one\r\ntw", &mut emit);
        l.push("o é".as_bytes(), &mut emit);
        l.push(b"\nthree", &mut emit);
        l.finish(&mut emit);
        assert_eq!(got, ["one", "two é", "three"]);
    }
}
