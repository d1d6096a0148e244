//! Cancellation as a typed error. Ctrl-C (or the build being stopped)
//! fires the run's [`CancellationToken`]; whoever notices returns
//! [`Cancelled`], and code that must decide "was this a cancellation?"
//! asks [`Cancelled::is`] instead of matching the text "cancelled".

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The work stopped because the run was cancelled. `during` says what was
/// under way ("downloading debian.iso"), for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cancelled{}", self.suffix())]
pub struct Cancelled {
    pub during: Option<String>,
    /// How `during` follows "cancelled": " while " ([`Cancelled::during`]),
    /// " during: " ([`Cancelled::in_step`]) or " at " ([`Cancelled::at`]).
    joiner: &'static str,
}

impl Cancelled {
    /// Cancelled, with nothing more to say.
    pub fn new() -> Self {
        Self { during: None, joiner: " while " }
    }

    /// Cancelled while doing `what` ("typing the boot command").
    pub fn during(what: impl Into<String>) -> Self {
        Self { during: Some(what.into()), joiner: " while " }
    }

    /// Cancelled while the step runner ran the step `name`: "cancelled
    /// during: Waiting for SSH".
    pub fn in_step(name: impl Into<String>) -> Self {
        Self { during: Some(name.into()), joiner: " during: " }
    }

    /// Cancelled while waiting at `place` ("breakpoint").
    pub fn at(place: impl Into<String>) -> Self {
        Self { during: Some(place.into()), joiner: " at " }
    }

    fn suffix(&self) -> String {
        self.during.as_ref().map(|d| format!("{}{d}", self.joiner)).unwrap_or_default()
    }

    /// Whether `error`, or anything in its chain of causes, is a
    /// cancellation: a [`Cancelled`], an `std::io::Error` wrapping one (the
    /// archive writers report through `io::Error`), or the cancelled
    /// variant of the sdk's own process and SSH errors.
    pub fn is(error: &anyhow::Error) -> bool {
        error.chain().any(Self::is_cause)
    }

    fn is_cause(cause: &(dyn std::error::Error + 'static)) -> bool {
        cause.is::<Cancelled>()
            || cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).is_some_and(|inner| inner.is::<Cancelled>())
            || matches!(cause.downcast_ref::<crate::process::StreamError>(), Some(crate::process::StreamError::Cancelled))
            || matches!(cause.downcast_ref::<crate::ssh::SshError>(), Some(crate::ssh::SshError::Cancelled(_)))
    }

    /// The same cancellation as an `io::Error`, for code whose error type
    /// is `io::Error` (readers and writers); [`Cancelled::is`] still sees it.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

impl Default for Cancelled {
    fn default() -> Self {
        Self::new()
    }
}

/// Sleeps for `duration`, or returns [`Cancelled`] as soon as `cancel`
/// fires — for retry loops and polling that must not hold up Ctrl-C.
pub async fn sleep(duration: Duration, cancel: &CancellationToken) -> Result<(), Cancelled> {
    tokio::select! {
        () = tokio::time::sleep(duration) => Ok(()),
        () = cancel.cancelled() => Err(Cancelled::new()),
    }
}

/// Runs `work` until it ends, or returns [`Cancelled::during`] `what` as
/// soon as `cancel` fires, dropping the work — for a call (an API request)
/// that has no cancellation of its own and is safe to abandon.
pub async fn abandon_on<F: std::future::Future>(cancel: &CancellationToken, what: &str, work: F) -> Result<F::Output, Cancelled> {
    tokio::select! {
        out = work => Ok(out),
        () = cancel.cancelled() => Err(Cancelled::during(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abandoned_work_is_a_cancellation_and_finished_work_its_output() {
        let cancel = CancellationToken::new();
        assert_eq!(abandon_on(&cancel, "asking", async { 7 }).await, Ok(7));
        cancel.cancel();
        let never = std::future::pending::<()>();
        assert_eq!(abandon_on(&cancel, "asking AWS", never).await.unwrap_err().to_string(), "cancelled while asking AWS");
    }

    #[test]
    fn the_message_says_what_was_under_way() {
        assert_eq!(Cancelled::new().to_string(), "cancelled");
        assert_eq!(Cancelled::during("typing the boot command").to_string(), "cancelled while typing the boot command");
        assert_eq!(Cancelled::in_step("Waiting for SSH").to_string(), "cancelled during: Waiting for SSH");
        assert_eq!(Cancelled::at("breakpoint").to_string(), "cancelled at breakpoint");
    }

    #[test]
    fn is_finds_a_cancellation_under_context_and_inside_io_errors() {
        let wrapped = anyhow::Error::new(Cancelled::new()).context("step \"download\" failed");
        assert!(Cancelled::is(&wrapped));
        let io = anyhow::Error::new(Cancelled::during("compressing").into_io()).context("writing out.tar.gz");
        assert!(Cancelled::is(&io));
        // The sdk's process and SSH errors say so by their variant.
        assert!(Cancelled::is(&anyhow::Error::new(crate::process::StreamError::Cancelled).context("running make")));
        assert!(Cancelled::is(&anyhow::Error::new(crate::ssh::SshError::Cancelled("connecting over SSH"))));
        assert!(!Cancelled::is(&anyhow::Error::new(crate::ssh::SshError::Closed("127.0.0.1:22".into()))));
        // Only the type counts, not the words.
        assert!(!Cancelled::is(&anyhow::anyhow!("cancelled")));
    }

    #[tokio::test]
    async fn sleep_returns_early_when_cancelled() {
        let cancel = CancellationToken::new();
        assert_eq!(sleep(Duration::from_millis(1), &cancel).await, Ok(()));
        let started = std::time::Instant::now();
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            stopper.cancel();
        });
        assert_eq!(sleep(Duration::from_secs(60), &cancel).await, Err(Cancelled::new()));
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
