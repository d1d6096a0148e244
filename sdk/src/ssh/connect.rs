//! Getting an authenticated session: one attempt at a time, each recorded in
//! a [`Tally`] so that giving up can say how far the attempts got.

use super::error::{ConnectFailure, GiveUpReason, Tally};
use super::{keys, SshCommunicator, SshConfig, SshError};
use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// A TCP connect gets at most this long, so that a dropped SYN does not eat
/// the whole `ssh_timeout` in one attempt.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The banner, key exchange and authentication of one attempt. Generous:
/// a guest under software emulation is slow at key exchange.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an attempt waits for the server's first bytes. Short, because
/// under QEMU user networking the host port accepts at once and then stays
/// silent until the guest's sshd listens: a new attempt soon after it does
/// beats one attempt waiting out the whole handshake timeout.
const BANNER_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between attempts: short at first (a local sshd restarting), growing
/// to this cap (a VM still booting; an attempt there costs next to nothing,
/// and each second of pause is, on average, half a second of waiting after
/// sshd is up).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

pub(crate) type SshHandle = Handle<ClientHandler>;

/// An authenticated connection, and why it ended once it has.
pub(crate) struct Session {
    pub(crate) handle: SshHandle,
    disconnect_reason: Arc<Mutex<Option<String>>>,
}

impl Session {
    pub(crate) fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// What ended the connection, when known (the server's disconnect
    /// message, a keepalive timeout, a read error).
    pub(crate) fn disconnect_reason(&self) -> Option<String> {
        self.disconnect_reason.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Connects, retrying until `cfg.timeout`. `hint` is called only when giving
/// up; its lines (the tail of a VM's serial console, say) end the error.
pub async fn connect(
    cfg: SshConfig,
    cancel: &CancellationToken,
    hint: impl Fn() -> Vec<String> + Send + Sync + 'static,
) -> Result<SshCommunicator, SshError> {
    let creds = Arc::new(Credentials::load(&cfg)?);
    if !cfg.pause_before_connecting.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(cfg.pause_before_connecting) => {}
            _ = cancel.cancelled() => return Err(SshError::Cancelled("pausing before connecting over SSH")),
        }
    }
    let hint: Arc<dyn Fn() -> Vec<String> + Send + Sync> = Arc::new(hint);
    let session = establish(&cfg, &creds, cfg.timeout, cancel, &*hint).await?;
    Ok(SshCommunicator::new(cfg, creds, cancel.clone(), hint, session))
}

/// What to authenticate with, read once at connect time.
pub(crate) struct Credentials {
    username: String,
    key: Option<Arc<PrivateKey>>,
    password: Option<String>,
}

impl Credentials {
    fn load(cfg: &SshConfig) -> Result<Credentials, SshError> {
        if cfg.host.is_empty() {
            return Err(SshError::Config("no SSH host to connect to (ssh_host is empty)".into()));
        }
        if cfg.username.is_empty() {
            return Err(SshError::Config("no SSH user name (ssh_username is empty)".into()));
        }
        let key = cfg.auth.private_key.as_ref().map(keys::load).transpose()?.map(Arc::new);
        if key.is_none() && cfg.auth.password.is_none() {
            return Err(SshError::Config("no SSH credentials: set ssh_password or ssh_private_key_file".into()));
        }
        Ok(Credentials { username: cfg.username.clone(), key, password: cfg.auth.password.clone() })
    }
}

/// The attempts loop, shared by [`connect`] and reconnecting.
pub(crate) async fn establish(
    cfg: &SshConfig,
    creds: &Credentials,
    timeout: Duration,
    cancel: &CancellationToken,
    hint: &(dyn Fn() -> Vec<String> + Send + Sync),
) -> Result<Session, SshError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let russh_config = Arc::new(client_config(cfg));
    let mut tally = Tally::default();
    let mut attempts = 0u32;
    let mut delay = Duration::from_millis(100);
    loop {
        attempts += 1;
        let outcome = tokio::select! {
            o = attempt(cfg, creds, russh_config.clone(), deadline) => o,
            _ = cancel.cancelled() => return Err(SshError::Cancelled("connecting over SSH")),
        };
        let failed = match outcome {
            Ok(session) => return Ok(session),
            Err(failed) => failed,
        };
        let auth_refused = matches!(failed, Failed::AuthRefused { .. });
        failed.record(&mut tally);

        let give_up = |reason| {
            SshError::ConnectFailed(Box::new(ConnectFailure {
                address: cfg.address(),
                username: cfg.username.clone(),
                reason,
                attempts,
                elapsed: started.elapsed(),
                tally: tally.clone(),
                hints: hint(),
            }))
        };
        let reached = tally.handshake_failures + tally.auth_refusals;
        if reached >= cfg.handshake_attempts.max(1) {
            return Err(give_up(GiveUpReason::HandshakeAttempts(cfg.handshake_attempts.max(1))));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(give_up(GiveUpReason::Timeout(timeout)));
        }
        // A refusal may be cloud-init not having installed the key yet:
        // give it time rather than hammering sshd (Packer waits too). The
        // last pause is cut short so that one attempt falls on the deadline.
        let pause = if auth_refused { MAX_RETRY_DELAY } else { delay };
        tokio::select! {
            _ = tokio::time::sleep(pause.min(deadline - now)) => {}
            _ = cancel.cancelled() => return Err(SshError::Cancelled("connecting over SSH")),
        }
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

/// How long a connection may stay silent, keepalives unanswered, before it
/// counts as lost. Long enough for a guest under software emulation that is
/// busy installing packages; short enough to notice a VM that was powered
/// off without closing its connections.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

fn client_config(cfg: &SshConfig) -> client::Config {
    let interval = cfg.keepalive_interval;
    let keepalive_max = if interval.is_zero() { 0 } else { (SILENCE_LIMIT.as_secs_f64() / interval.as_secs_f64()).ceil().max(3.0) as usize };
    client::Config {
        keepalive_interval: (!interval.is_zero()).then_some(interval),
        keepalive_max,
        nodelay: true,
        ..client::Config::default()
    }
}

/// How one attempt failed, by the stage it reached.
enum Failed {
    Tcp { kind: TcpFailure, message: String },
    NoBanner(String),
    Handshake { server_id: String, message: String },
    AuthRefused { server_id: String, tried: Vec<String>, accepts: Vec<String> },
}

enum TcpFailure {
    Refused,
    TimedOut,
    Unreachable,
    Other,
}

impl Failed {
    fn record(self, t: &mut Tally) {
        if !matches!(self, Failed::Tcp { .. }) {
            t.tcp_answered += 1;
        }
        match self {
            Failed::Tcp { kind, message } => {
                match kind {
                    TcpFailure::Refused => t.refused += 1,
                    TcpFailure::TimedOut => t.tcp_timeouts += 1,
                    TcpFailure::Unreachable => t.unreachable += 1,
                    TcpFailure::Other => t.other_tcp += 1,
                }
                t.last_tcp_error = Some(message);
            }
            Failed::NoBanner(message) => {
                t.no_banner += 1;
                t.last_no_banner = Some(message);
            }
            Failed::Handshake { server_id, message } => {
                t.server_id = Some(server_id);
                t.handshake_failures += 1;
                t.last_handshake_error = Some(message);
            }
            Failed::AuthRefused { server_id, tried, accepts } => {
                t.server_id = Some(server_id);
                t.auth_refusals += 1;
                t.tried_methods = tried;
                t.server_accepts = accepts;
            }
        }
    }
}

async fn attempt(cfg: &SshConfig, creds: &Credentials, russh_config: Arc<client::Config>, deadline: Instant) -> Result<Session, Failed> {
    // Each stage gets its own bound, but even a last attempt at the deadline
    // gets a second to succeed.
    let remaining = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    // An IPv6 literal may come bracketed, as in a URL.
    let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tokio::time::timeout(remaining.min(TCP_CONNECT_TIMEOUT), TcpStream::connect((host, cfg.port))).await;
    let stream = match tcp {
        Err(_) => return Err(Failed::Tcp { kind: TcpFailure::TimedOut, message: "connection timed out".into() }),
        Ok(Err(e)) => return Err(tcp_failure(&e)),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorder { inner: stream, seen: seen.clone() };
    let disconnect_reason = Arc::new(Mutex::new(None));
    let handler = ClientHandler { disconnect_reason: disconnect_reason.clone() };

    let remaining = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    let limit = remaining.min(HANDSHAKE_TIMEOUT);
    let handshake = async {
        let session = client::connect_stream(russh_config, stream, handler).await.map_err(Stage::Handshake)?;
        authenticate(session, creds).await
    };
    let banner = || banner_of(&seen.lock().unwrap_or_else(|e| e.into_inner()));
    let started = Instant::now();
    let outcome = {
        tokio::pin!(handshake);
        let overall = tokio::time::sleep(limit);
        let banner_due = tokio::time::sleep(BANNER_TIMEOUT.min(limit));
        tokio::pin!(overall, banner_due);
        let mut banner_checked = false;
        loop {
            tokio::select! {
                result = &mut handshake => break Ok(result),
                _ = &mut overall => break Err(()),
                _ = &mut banner_due, if !banner_checked => {
                    banner_checked = true;
                    if matches!(banner(), Banner::None) {
                        break Err(());
                    }
                }
            }
        }
    };
    let waited = super::error::human(started.elapsed());
    match outcome {
        Ok(Ok(handle)) => Ok(Session { handle, disconnect_reason }),
        Ok(Err(Stage::Handshake(e))) => Err(match banner() {
            Banner::Ssh(server_id) => Failed::Handshake { server_id, message: e.to_string() },
            Banner::None => Failed::NoBanner(match e {
                russh::Error::Disconnect | russh::Error::HUP => "the connection was closed".to_string(),
                russh::Error::IO(io) => format!("the connection failed: {io}"),
                other => format!("the connection failed: {other}"),
            }),
            Banner::NotSsh(line) => Failed::NoBanner(format!("the server sent {line:?}, which is not an SSH banner")),
        }),
        Ok(Err(Stage::AuthRefused { tried, accepts })) => Err(Failed::AuthRefused { server_id: banner().id(), tried, accepts }),
        Ok(Err(Stage::AuthLost(message))) => Err(Failed::Handshake { server_id: banner().id(), message }),
        Err(_) => Err(match banner() {
            Banner::Ssh(server_id) => Failed::Handshake { server_id, message: format!("no progress within {waited}") },
            Banner::None => Failed::NoBanner(format!("no SSH banner within {waited}")),
            Banner::NotSsh(line) => Failed::NoBanner(format!("the server sent {line:?}, which is not an SSH banner")),
        }),
    }
}

fn tcp_failure(e: &io::Error) -> Failed {
    let kind = match e.kind() {
        io::ErrorKind::ConnectionRefused => TcpFailure::Refused,
        io::ErrorKind::TimedOut => TcpFailure::TimedOut,
        _ => match e.raw_os_error() {
            Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH) => TcpFailure::Unreachable,
            _ => TcpFailure::Other,
        },
    };
    let message = match kind {
        TcpFailure::Refused => "connection refused".to_string(),
        TcpFailure::TimedOut => "connection timed out".to_string(),
        TcpFailure::Unreachable => format!("no route to host ({e})"),
        TcpFailure::Other if e.to_string().contains("lookup") => format!("the host name did not resolve ({e})"),
        TcpFailure::Other => e.to_string(),
    };
    Failed::Tcp { kind, message }
}

enum Stage {
    Handshake(russh::Error),
    AuthRefused { tried: Vec<String>, accepts: Vec<String> },
    /// The connection dropped during authentication.
    AuthLost(String),
}

/// Tries the key, then the password, then keyboard-interactive answered with
/// the password (servers with `PasswordAuthentication no` and PAM often
/// take passwords only that way).
async fn authenticate(mut session: SshHandle, creds: &Credentials) -> Result<SshHandle, Stage> {
    let user = creds.username.as_str();
    let mut log = AuthLog::default();
    let lost = |e: russh::Error| Stage::AuthLost(format!("the connection dropped during authentication ({e})"));

    if let Some(key) = &creds.key {
        // For RSA keys, ask which signature hash the server takes (OpenSSH
        // >= 8.8 refuses SHA-1 `ssh-rsa`).
        let hash = if key.algorithm().is_rsa() { session.best_supported_rsa_hash().await.map_err(lost)?.flatten() } else { None };
        let result = session.authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), hash)).await.map_err(lost)?;
        if log.note("publickey", result) {
            return Ok(session);
        }
    }
    if let Some(password) = &creds.password {
        if log.offers("password") {
            let result = session.authenticate_password(user, password.as_str()).await.map_err(lost)?;
            if log.note("password", result) {
                return Ok(session);
            }
        }
        if log.offers("keyboard-interactive") {
            log.tried.push("keyboard-interactive".to_string());
            if keyboard_interactive(&mut session, user, password, &mut log.accepts).await.map_err(lost)? {
                return Ok(session);
            }
        }
    }
    // russh reports a dropped connection as a refusal with no methods left.
    if session.is_closed() && log.accepts.is_empty() {
        return Err(Stage::AuthLost("the server closed the connection during authentication".into()));
    }
    Err(Stage::AuthRefused { tried: log.tried, accepts: log.accepts })
}

/// The methods tried, and those the server said it accepts.
#[derive(Default)]
struct AuthLog {
    tried: Vec<String>,
    accepts: Vec<String>,
}

impl AuthLog {
    /// Records an outcome; true on success.
    fn note(&mut self, method: &str, result: AuthResult) -> bool {
        self.tried.push(method.to_string());
        match result {
            AuthResult::Success => true,
            AuthResult::Failure { remaining_methods, .. } => {
                self.accepts = method_names(&remaining_methods);
                false
            }
        }
    }

    /// Whether `method` is worth trying: before the first refusal nothing is
    /// known, so everything is.
    fn offers(&self, method: &str) -> bool {
        self.tried.is_empty() || self.accepts.iter().any(|a| a == method)
    }
}

fn method_names(methods: &russh::MethodSet) -> Vec<String> {
    methods.iter().map(|m| <&str>::from(m).to_string()).collect()
}

/// Answers every prompt with the password, for a bounded number of rounds.
async fn keyboard_interactive(session: &mut SshHandle, user: &str, password: &str, accepts: &mut Vec<String>) -> Result<bool, russh::Error> {
    let mut response = session.authenticate_keyboard_interactive_start(user, None).await?;
    for _ in 0..5 {
        match response {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { remaining_methods, .. } => {
                *accepts = method_names(&remaining_methods);
                return Ok(false);
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| password.to_string()).collect();
                response = session.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
    Ok(false)
}

/// The session's event handler.
pub(crate) struct ClientHandler {
    /// Why the connection ended; quoted in errors.
    disconnect_reason: Arc<Mutex<Option<String>>>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    /// Any host key is accepted: build machines are temporary and make
    /// their host keys on first boot, so there is nothing to compare with
    /// (Packer does the same).
    async fn check_server_key(&mut self, _key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }

    async fn disconnected(&mut self, reason: client::DisconnectReason<Self::Error>) -> Result<(), Self::Error> {
        let text = match &reason {
            client::DisconnectReason::ReceivedDisconnect(info) => format!("the server disconnected: {:?} {}", info.reason_code, info.message),
            client::DisconnectReason::Error(e) => e.to_string(),
        };
        *self.disconnect_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
        match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            client::DisconnectReason::Error(e) => Err(e),
        }
    }
}

/// Wraps the TCP stream to keep the first bytes the server sent: they tell
/// "no SSH server answered" from "the SSH handshake failed", and name the
/// server in messages.
struct Recorder {
    inner: TcpStream,
    seen: Arc<Mutex<Vec<u8>>>,
}

const RECORD_BYTES: usize = 512;

impl AsyncRead for Recorder {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() < RECORD_BYTES {
                let new = &buf.filled()[before..];
                let take = new.len().min(RECORD_BYTES - seen.len());
                seen.extend_from_slice(&new[..take]);
            }
        }
        poll
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

enum Banner {
    None,
    Ssh(String),
    NotSsh(String),
}

impl Banner {
    fn id(self) -> String {
        match self {
            Banner::Ssh(id) => id,
            _ => "unknown server".to_string(),
        }
    }
}

/// The `SSH-…` line among the first bytes (a server may send other lines
/// before it), or the first line if there is none.
fn banner_of(seen: &[u8]) -> Banner {
    if seen.is_empty() {
        return Banner::None;
    }
    let text = String::from_utf8_lossy(seen);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    // The last piece may be cut off mid-line or be binary key exchange data;
    // an SSH line is only trusted when complete.
    let complete: Vec<&str> = {
        let all: Vec<&str> = lines.by_ref().collect();
        let n = if text.ends_with('\n') { all.len() } else { all.len().saturating_sub(1) };
        all[..n].to_vec()
    };
    if let Some(id) = complete.iter().find(|l| l.starts_with("SSH-")) {
        return Banner::Ssh(id.to_string());
    }
    let first: String = text.split('\n').next().unwrap_or("").chars().take(80).collect();
    Banner::NotSsh(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        assert!(matches!(banner_of(b""), Banner::None));
        assert!(matches!(banner_of(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n\0\0\x01"), Banner::Ssh(id) if id == "SSH-2.0-OpenSSH_9.2p1 Debian"));
        assert!(matches!(banner_of(b"hello\r\nSSH-2.0-x\r\n"), Banner::Ssh(id) if id == "SSH-2.0-x"));
        assert!(matches!(banner_of(b"HTTP/1.1 400 Bad Request\r\n"), Banner::NotSsh(l) if l.starts_with("HTTP/1.1")));
    }
}
