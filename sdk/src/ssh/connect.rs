//! Getting an authenticated session: one attempt at a time, each recorded in
//! a [`Tally`] so that giving up can say how far the attempts got.

use super::error::{ConnectFailure, GiveUpReason, Tally};
use super::{agent, keys, SshCommunicator, SshConfig, SshError};
use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{Algorithm, Certificate, HashAlg, PrivateKey, PrivateKeyWithHashAlg};
use russh::{cipher, kex};
use std::io;
use std::path::PathBuf;
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
    /// The bastion connection this one runs through.
    jump: Option<Box<Session>>,
}

impl Session {
    /// Says goodbye to the server, and then to the bastion.
    pub(crate) async fn disconnect(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "").await;
        if let Some(jump) = &self.jump {
            let _ = jump.handle.disconnect(russh::Disconnect::ByApplication, "", "").await;
        }
    }

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
pub async fn connect(cfg: SshConfig, cancel: &CancellationToken, hint: impl Fn() -> Vec<String> + Send + Sync + 'static) -> Result<SshCommunicator, SshError> {
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

/// What to authenticate with, read once at connect time: for the machine,
/// and for the bastion when there is one.
pub(crate) struct Credentials {
    username: String,
    key: Option<Arc<PrivateKey>>,
    /// An OpenSSH certificate of `key`, offered instead of the bare key.
    certificate: Option<Certificate>,
    password: Option<String>,
    agent: Option<PathBuf>,
    bastion: Option<Box<Jump>>,
}

/// A bastion: where it is, and how to log in to it.
struct Jump {
    host: String,
    port: u16,
    address: String,
    creds: Credentials,
}

impl Credentials {
    fn load(cfg: &SshConfig) -> Result<Credentials, SshError> {
        if cfg.host.is_empty() {
            return Err(SshError::Config("no SSH host to connect to (ssh_host is empty)".into()));
        }
        if cfg.username.is_empty() {
            return Err(SshError::Config("no SSH user name (ssh_username is empty)".into()));
        }
        let mut creds = Credentials::of(&cfg.username, &cfg.auth, "ssh_password or ssh_private_key_file")?;
        if let Some(b) = &cfg.bastion {
            let what = "ssh_bastion_password or ssh_bastion_private_key_file";
            let jump = Jump { host: b.host.clone(), port: b.port, address: b.address(), creds: Credentials::of(&b.username, &b.auth, what)? };
            creds.bastion = Some(Box::new(jump));
        }
        Ok(creds)
    }

    fn of(username: &str, auth: &super::SshAuth, options: &str) -> Result<Credentials, SshError> {
        let key = auth.private_key.as_ref().map(keys::load).transpose()?;
        let certificate = match (&auth.certificate, &key) {
            (Some(path), Some(key)) => Some(keys::load_certificate(path, key)?),
            (Some(path), None) => return Err(SshError::Config(format!("the certificate {} needs its private key", path.display()))),
            (None, _) => None,
        };
        if key.is_none() && auth.password.is_none() && auth.agent.is_none() {
            return Err(SshError::Config(format!("no SSH credentials: set {options}")));
        }
        if let Some(socket) = &auth.agent {
            agent::check(socket)?;
        }
        Ok(Credentials {
            username: username.to_string(),
            key: key.map(Arc::new),
            certificate,
            password: auth.password.clone(),
            agent: auth.agent.clone(),
            bastion: None,
        })
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
    let russh_config = Arc::new(client_config(cfg.keepalive_interval, &cfg.ciphers, &cfg.key_exchange_algorithms));
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
        // Zero attempts is no limit (ssh_timeout alone was set, as in Packer).
        let reached = tally.handshake_failures + tally.auth_refusals + tally.bastion_refusals;
        if cfg.handshake_attempts > 0 && reached >= cfg.handshake_attempts {
            return Err(give_up(GiveUpReason::HandshakeAttempts(cfg.handshake_attempts)));
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

/// The russh settings: keepalives, and the algorithms when chosen (empty:
/// russh's defaults).
fn client_config(interval: Duration, ciphers: &[String], key_exchanges: &[String]) -> client::Config {
    let keepalive_max = if interval.is_zero() { 0 } else { (SILENCE_LIMIT.as_secs_f64() / interval.as_secs_f64()).ceil().max(3.0) as usize };
    let mut preferred = russh::Preferred::default();
    if !ciphers.is_empty() {
        let names: Vec<cipher::Name> = ciphers.iter().filter_map(|n| cipher::Name::try_from(n.as_str()).ok()).collect();
        preferred.cipher = names.into();
    }
    if !key_exchanges.is_empty() {
        // The extension markers (ext-info-c, strict kex) are not algorithms
        // a user picks; they stay.
        let chosen = key_exchanges.iter().filter_map(|n| kex::Name::try_from(n.as_str()).ok());
        let markers = russh::Preferred::DEFAULT.kex.iter().copied().filter(|n| is_kex_extension(n.as_ref()));
        preferred.kex = chosen.chain(markers).collect::<Vec<_>>().into();
    }
    client::Config { keepalive_interval: (!interval.is_zero()).then_some(interval), keepalive_max, nodelay: true, preferred, ..client::Config::default() }
}

/// The key exchange "names" that are protocol extension markers.
pub(crate) fn is_kex_extension(name: &str) -> bool {
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}

/// How one attempt failed, by the stage it reached.
enum Failed {
    Tcp {
        kind: TcpFailure,
        message: String,
    },
    NoBanner(String),
    Handshake {
        server_id: String,
        message: String,
    },
    AuthRefused {
        server_id: String,
        tried: Vec<String>,
        accepts: Vec<String>,
    },
    /// Logging in to the bastion failed; `reached` when its SSH server
    /// answered (and so counts against `ssh_handshake_attempts`).
    Bastion {
        message: String,
        reached: bool,
    },
}

enum TcpFailure {
    Refused,
    TimedOut,
    Unreachable,
    Other,
}

impl Failed {
    /// The same failure, had on the way to the bastion at `address`.
    fn at_bastion(self, address: &str) -> Failed {
        let (reached, what) = match self {
            Failed::Tcp { message, .. } => (false, format!("TCP: {message}")),
            Failed::NoBanner(message) => (false, format!("no SSH server greeted: {message}")),
            Failed::Handshake { message, .. } => (true, format!("the SSH handshake failed: {message}")),
            Failed::AuthRefused { tried, accepts, .. } => {
                let list = |v: Vec<String>| if v.is_empty() { "nothing".to_string() } else { v.join(", ") };
                (true, format!("authentication was refused (tried: {}; server accepts: {})", list(tried), list(accepts)))
            }
            Failed::Bastion { message, reached } => (reached, message),
        };
        Failed::Bastion { message: format!("bastion {address}: {what}"), reached }
    }

    fn record(self, t: &mut Tally) {
        if let Failed::Bastion { message, reached } = self {
            t.bastion_failures += 1;
            t.bastion_refusals += u32::from(reached);
            t.last_bastion_error = Some(message);
            return;
        }
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
            Failed::Bastion { .. } => unreachable!("recorded above"),
        }
    }
}

async fn attempt(cfg: &SshConfig, creds: &Credentials, russh_config: Arc<client::Config>, deadline: Instant) -> Result<Session, Failed> {
    if let Some((proxy_host, proxy_port)) = &cfg.proxy {
        let proxy = super::host_port(proxy_host, *proxy_port);
        let mut stream = tcp(proxy_host, *proxy_port, deadline).await.map_err(|f| match f {
            Failed::Tcp { kind, message } => Failed::Tcp { kind, message: format!("the SOCKS proxy {proxy}: {message}") },
            other => other,
        })?;
        let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
        let asked = tokio::time::timeout(TCP_CONNECT_TIMEOUT, super::socks::connect(&mut stream, host, cfg.port)).await;
        match asked {
            Ok(Ok(())) => {}
            // A refusal behind the proxy is a machine not up yet; anything
            // else is the proxy's fault, and no better on the next attempt
            // either, but the deadline decides.
            Ok(Err((message, refused))) => {
                let kind = if refused { TcpFailure::Refused } else { TcpFailure::Other };
                return Err(Failed::Tcp { kind, message: format!("the SOCKS proxy {proxy}: {message}") });
            }
            Err(_) => return Err(Failed::Tcp { kind: TcpFailure::TimedOut, message: format!("the SOCKS proxy {proxy} did not answer") }),
        }
        return handshake(stream, creds, russh_config, deadline, None, cfg.forward_agent.clone()).await;
    }
    let Some(jump) = &creds.bastion else {
        let stream = tcp(&cfg.host, cfg.port, deadline).await?;
        return handshake(stream, creds, russh_config, deadline, None, cfg.forward_agent.clone()).await;
    };
    // Through the bastion: log in there (with plain defaults: the machine's
    // ciphers need not be the bastion's), then reach the machine over a
    // direct-tcpip channel of that connection.
    let at_bastion = |f: Failed| f.at_bastion(&jump.address);
    let stream = tcp(&jump.host, jump.port, deadline).await.map_err(at_bastion)?;
    let bastion_config = Arc::new(client_config(cfg.keepalive_interval, &[], &[]));
    let bastion = handshake(stream, &jump.creds, bastion_config, deadline, None, None).await.map_err(at_bastion)?;
    let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
    let channel = match bastion.handle.channel_open_direct_tcpip(host, u32::from(cfg.port), "127.0.0.1", 0).await {
        Ok(channel) => channel,
        // The bastion could not connect: as a refused TCP connect (a
        // machine still booting behind it), so retried until ssh_timeout.
        Err(e) => {
            let _ = bastion.handle.disconnect(russh::Disconnect::ByApplication, "", "").await;
            let message = format!("the bastion {} could not connect to {}: {e}", jump.address, cfg.address());
            return Err(Failed::Tcp { kind: TcpFailure::Refused, message });
        }
    };
    handshake(channel.into_stream(), creds, russh_config, deadline, Some(bastion), cfg.forward_agent.clone()).await
}

/// A TCP connection, bounded by the deadline and [`TCP_CONNECT_TIMEOUT`].
async fn tcp(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, Failed> {
    // Each stage gets its own bound, but even a last attempt at the deadline
    // gets a second to succeed.
    let remaining = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    // An IPv6 literal may come bracketed, as in a URL.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tokio::time::timeout(remaining.min(TCP_CONNECT_TIMEOUT), TcpStream::connect((host, port))).await;
    let stream = match tcp {
        Err(_) => return Err(Failed::Tcp { kind: TcpFailure::TimedOut, message: "connection timed out".into() }),
        Ok(Err(e)) => return Err(tcp_failure(&e)),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// The SSH handshake and authentication over `stream`. `jump` is the
/// bastion connection the stream runs through, kept as long as the session.
async fn handshake<S>(
    stream: S,
    creds: &Credentials,
    russh_config: Arc<client::Config>,
    deadline: Instant,
    jump: Option<Session>,
    forward_agent: Option<PathBuf>,
) -> Result<Session, Failed>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorder { inner: stream, seen: seen.clone() };
    let disconnect_reason = Arc::new(Mutex::new(None));
    let handler = ClientHandler { disconnect_reason: disconnect_reason.clone(), forward_agent };

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
    let waited = crate::duration::human(started.elapsed());
    match outcome {
        Ok(Ok(handle)) => Ok(Session { handle, disconnect_reason, jump: jump.map(Box::new) }),
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

pub(crate) enum Stage {
    Handshake(russh::Error),
    AuthRefused {
        tried: Vec<String>,
        accepts: Vec<String>,
    },
    /// The connection dropped during authentication.
    AuthLost(String),
}

/// Tries, in Packer's order, the agent's keys, the private key (as its
/// certificate when there is one), the password, then keyboard-interactive
/// answered with the password (servers with `PasswordAuthentication no` and
/// PAM often take passwords only that way).
async fn authenticate(mut session: SshHandle, creds: &Credentials) -> Result<SshHandle, Stage> {
    let user = creds.username.as_str();
    let mut log = AuthLog::default();
    let lost = |e: russh::Error| Stage::AuthLost(format!("the connection dropped during authentication ({e})"));

    if let Some(socket) = &creds.agent {
        if agent::authenticate(&mut session, user, socket, &mut log).await? {
            return Ok(session);
        }
    }
    if let Some(key) = &creds.key {
        let result = match &creds.certificate {
            Some(cert) => session.authenticate_openssh_cert(user, key.clone(), cert.clone()).await.map_err(lost)?,
            None => {
                // For RSA keys, ask which signature hash the server takes
                // (OpenSSH >= 8.8 refuses SHA-1 `ssh-rsa`).
                let hash = rsa_hash(&mut session, key.algorithm()).await?;
                session.authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), hash)).await.map_err(lost)?
            }
        };
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

/// The signature hash to use with an RSA key; `None` for other keys.
pub(crate) async fn rsa_hash(session: &mut SshHandle, algorithm: Algorithm) -> Result<Option<HashAlg>, Stage> {
    if !algorithm.is_rsa() {
        return Ok(None);
    }
    let best = session.best_supported_rsa_hash().await;
    best.map(Option::flatten).map_err(|e| Stage::AuthLost(format!("the connection dropped during authentication ({e})")))
}

/// The methods tried, and those the server said it accepts.
#[derive(Default)]
pub(crate) struct AuthLog {
    pub(crate) tried: Vec<String>,
    accepts: Vec<String>,
}

impl AuthLog {
    /// Records an outcome; true on success.
    pub(crate) fn note(&mut self, method: &str, result: AuthResult) -> bool {
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
    pub(crate) fn offers(&self, method: &str) -> bool {
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
    /// The local agent that remote commands may use (agent forwarding).
    forward_agent: Option<PathBuf>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    /// Any host key is accepted: build machines are temporary and make
    /// their host keys on first boot, so there is nothing to compare with
    /// (Packer does the same).
    async fn check_server_key(&mut self, _key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }

    /// A remote program (`ssh`, `git`) asks for the forwarded agent: each
    /// such channel is joined to a fresh connection to the local agent.
    async fn server_channel_open_agent_forward(
        &mut self,
        channel: russh::Channel<client::Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let Some(socket) = self.forward_agent.clone() else {
            // Dropping the reply refuses the channel.
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut agent) = tokio::net::UnixStream::connect(&socket).await {
                let mut remote = channel.into_stream();
                let _ = tokio::io::copy_bidirectional(&mut agent, &mut remote).await;
            }
        });
        Ok(())
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
struct Recorder<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
}

const RECORD_BYTES: usize = 512;

impl<S: AsyncRead + Unpin> AsyncRead for Recorder<S> {
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

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorder<S> {
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
