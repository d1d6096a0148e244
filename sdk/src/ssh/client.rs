//! The communicator: one SSH connection shared by every caller, replaced
//! when it drops (a reboot) and closed when the build is done.

use super::connect::{establish, Credentials, Session};
use super::{exec, sftp, SshConfig, SshError};
use crate::communicator::Communicator;
use crate::ui::Stream;
use async_trait::async_trait;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A connected SSH session. `Send + Sync`; every method takes `&self`, and
/// commands and transfers may run concurrently (each gets its own channel).
pub struct SshCommunicator {
    cfg: SshConfig,
    creds: Arc<Credentials>,
    /// The token given to `connect`: it also stops running commands and
    /// transfers, since `Communicator::run` takes none.
    cancel: CancellationToken,
    hint: Arc<dyn Fn() -> Vec<String> + Send + Sync>,
    state: Mutex<State>,
    /// Held while reconnecting, so concurrent callers reconnect once.
    reconnecting: tokio::sync::Mutex<()>,
    /// One permit per open channel: OpenSSH allows 10 per connection
    /// (`MaxSessions`) and refuses more, so concurrent callers queue here.
    channels: Arc<tokio::sync::Semaphore>,
}

/// How many channels bake keeps open at once on one connection: below
/// OpenSSH's default `MaxSessions` of 10, with room for channels that are
/// closing but not yet gone on the server's side.
const MAX_CHANNELS: usize = 8;

/// A channel, with the session it belongs to and its place in the queue.
pub(crate) struct Lease {
    pub(crate) channel: russh::Channel<russh::client::Msg>,
    pub(crate) session: Arc<Session>,
    /// Returned to the queue when dropped.
    pub(crate) permit: tokio::sync::OwnedSemaphorePermit,
}

struct State {
    /// `None` once closed. An `Arc` so callers use it without the lock held.
    session: Option<Arc<Session>>,
    closed: bool,
}

impl SshCommunicator {
    pub(crate) fn new(
        cfg: SshConfig,
        creds: Arc<Credentials>,
        cancel: CancellationToken,
        hint: Arc<dyn Fn() -> Vec<String> + Send + Sync>,
        session: Session,
    ) -> SshCommunicator {
        SshCommunicator {
            cfg,
            creds,
            cancel,
            hint,
            state: Mutex::new(State { session: Some(Arc::new(session)), closed: false }),
            reconnecting: tokio::sync::Mutex::new(()),
            channels: Arc::new(tokio::sync::Semaphore::new(MAX_CHANNELS)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current(&self) -> Option<Arc<Session>> {
        self.state().session.clone()
    }

    /// Whether the connection is up (it may still drop at any moment).
    pub fn is_connected(&self) -> bool {
        self.current().is_some_and(|s| !s.is_closed())
    }

    /// Connects again after an expected disconnect (a reboot), trying for
    /// up to `timeout`. Replaces the current connection even if it still
    /// looks alive: the caller knows better.
    pub async fn reconnect(&self, timeout: Duration, cancel: &CancellationToken) -> Result<(), SshError> {
        let _guard = self.reconnecting.lock().await;
        self.reconnect_locked(timeout, cancel).await
    }

    async fn reconnect_locked(&self, timeout: Duration, cancel: &CancellationToken) -> Result<(), SshError> {
        if self.state().closed {
            return Err(SshError::Closed(self.cfg.address()));
        }
        let session = establish(&self.cfg, &self.creds, timeout, cancel, &*self.hint).await?;
        // Swap under the lock; say goodbye to whichever is left over after.
        let (leftover, closed) = {
            let mut state = self.state();
            if state.closed {
                // Closed while we were connecting: do not resurrect it.
                (Some(Arc::new(session)), true)
            } else {
                (state.session.replace(Arc::new(session)), false)
            }
        };
        if let Some(s) = leftover {
            s.disconnect().await;
        }
        if closed {
            return Err(SshError::Closed(self.cfg.address()));
        }
        Ok(())
    }

    /// The live session. After a drop (a reboot the caller did not wait
    /// for), reconnects within `ssh_timeout` first, as Packer does; the
    /// command that saw the drop has already failed with `Disconnected`.
    pub(crate) async fn session(&self) -> Result<Arc<Session>, SshError> {
        if let Some(s) = self.current().filter(|s| !s.is_closed()) {
            return Ok(s);
        }
        let _guard = self.reconnecting.lock().await;
        // Someone else may have reconnected while we waited for the lock.
        if let Some(s) = self.current().filter(|s| !s.is_closed()) {
            return Ok(s);
        }
        self.reconnect_locked(self.cfg.timeout, &self.cancel).await?;
        self.current().ok_or_else(|| SshError::Closed(self.cfg.address()))
    }

    /// Opens a session channel, waiting for a free slot and, briefly, for a
    /// server that refuses one because its session limit is reached.
    pub(crate) async fn open_channel(&self) -> Result<Lease, SshError> {
        let permit = tokio::select! {
            p = self.channels.clone().acquire_owned() => p.map_err(|_| SshError::Closed(self.address()))?,
            _ = self.cancel.cancelled() => return Err(SshError::Cancelled("waiting for an SSH channel")),
        };
        let session = self.session().await?;
        // Another SSH client (a provisioner's own) may hold sessions too:
        // a refusal is retried a few times, backing off.
        let mut delay = Duration::from_millis(50);
        let mut retries = 6;
        loop {
            match session.handle.channel_open_session().await {
                Ok(channel) => return Ok(Lease { channel, session, permit }),
                Err(_) if session.is_closed() => {
                    let detail = session.disconnect_reason().unwrap_or_default();
                    return Err(SshError::disconnected(self.address(), detail));
                }
                Err(russh::Error::ChannelOpenFailure(_)) if retries > 0 => {
                    retries -= 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(SshError::Refused(format!("the SSH server at {} would not open a channel: {e}", self.address()))),
            }
        }
    }

    /// Runs `command` with extra environment variables. Each variable is
    /// first offered as an SSH `env` request; sshd accepts only the names
    /// its `AcceptEnv` lists (usually just `LANG` and `LC_*`), so each one
    /// refused is instead exported by a prefix to the command,
    /// `export NAME='value'; `, quoted for a POSIX shell. Either way the
    /// command sees them.
    pub async fn run_with_env(&self, command: &str, env: &[(String, String)], output: &mut (dyn FnMut(Stream, &str) + Send)) -> anyhow::Result<i32> {
        let lease = self.open_channel().await?;
        let mode = exec::Mode { pty: self.cfg.pty, idle_limit: self.cfg.read_write_timeout, forward_agent: self.cfg.forward_agent.is_some() };
        Ok(exec::run(lease, &self.cfg.address(), mode, command, env, output, &self.cancel).await?)
    }

    /// Says goodbye to the server. Later calls fail with [`SshError::Closed`].
    pub async fn close(&self) {
        let session = {
            let mut state = self.state();
            state.closed = true;
            state.session.take()
        };
        if let Some(s) = session {
            // Best effort, and bounded: the server may be gone already.
            let _ = tokio::time::timeout(Duration::from_secs(2), s.disconnect()).await;
        }
    }

    pub(crate) fn address(&self) -> String {
        self.cfg.address()
    }

    pub(crate) fn read_write_timeout(&self) -> Option<Duration> {
        self.cfg.read_write_timeout
    }
}

impl SshCommunicator {
    /// Runs a transfer unless, or until, the build is cancelled. A transfer
    /// that failed because the connection dropped says so with
    /// [`SshError::Disconnected`], so that callers retry after a reboot.
    async fn transfer<T>(&self, f: impl std::future::Future<Output = Result<T, SshError>>) -> anyhow::Result<T> {
        let result = tokio::select! {
            r = f => r,
            _ = self.cancel.cancelled() => return Err(SshError::Cancelled("copying files over SSH").into()),
        };
        match result {
            Err(SshError::Transfer(detail) | SshError::Refused(detail)) if self.dropped().await => Err(SshError::disconnected(self.address(), detail).into()),
            r => Ok(r?),
        }
    }

    /// Whether the connection is gone, allowing the session a moment to
    /// notice what a channel noticed first.
    async fn dropped(&self) -> bool {
        for _ in 0..10 {
            if !self.is_connected() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

#[async_trait]
impl Communicator for SshCommunicator {
    async fn run(&self, command: &str, output: &mut (dyn for<'a> FnMut(Stream, &'a str) + Send)) -> anyhow::Result<i32> {
        self.run_with_env(command, &[], output).await
    }

    async fn upload(&self, data: &[u8], dst: &str, mode: u32) -> anyhow::Result<()> {
        self.transfer(async { sftp::Sftp::open(self).await?.upload(data, dst, mode).await }).await
    }

    async fn upload_file(&self, src: &Path, dst: &str) -> anyhow::Result<()> {
        self.transfer(async { sftp::Sftp::open(self).await?.upload_file(src, dst).await }).await
    }

    async fn upload_dir(&self, src: &Path, dst: &str) -> anyhow::Result<()> {
        self.transfer(async { sftp::Sftp::open(self).await?.upload_dir(src, dst).await }).await
    }

    async fn download_file(&self, src: &str, dst: &Path) -> anyhow::Result<()> {
        self.transfer(async { sftp::Sftp::open(self).await?.download_file(src, dst).await }).await
    }

    async fn download_dir(&self, src: &str, dst: &Path) -> anyhow::Result<()> {
        self.transfer(async { sftp::Sftp::open(self).await?.download_dir(src, dst).await }).await
    }
}
