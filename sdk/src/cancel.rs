//! Cancellation as a typed error. Ctrl-C (or the build being stopped)
//! fires the run's [`CancellationToken`]; whoever notices returns
//! [`Cancelled`], and code that must decide "was this a cancellation?"
//! asks [`Cancelled::is`] instead of matching the text "cancelled".

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The work stopped because the run was cancelled. `during` says what was
/// under way ("downloading debian.iso"), for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cancelled{}", during_suffix(.during))]
pub struct Cancelled {
    pub during: Option<String>,
}

fn during_suffix(during: &Option<String>) -> String {
    during.as_ref().map(|d| format!(" while {d}")).unwrap_or_default()
}

impl Cancelled {
    /// Cancelled, with nothing more to say.
    pub fn new() -> Self {
        Self { during: None }
    }

    /// Cancelled while doing `what` ("typing the boot command").
    pub fn during(what: impl Into<String>) -> Self {
        Self { during: Some(what.into()) }
    }

    /// Whether `error`, or anything in its chain of causes, is a
    /// cancellation (an `std::io::Error` wrapping one counts too: the
    /// archive writers report through `io::Error`).
    pub fn is(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| {
            cause.is::<Cancelled>() || cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).is_some_and(|inner| inner.is::<Cancelled>())
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_what_was_under_way() {
        assert_eq!(Cancelled::new().to_string(), "cancelled");
        assert_eq!(Cancelled::during("typing the boot command").to_string(), "cancelled while typing the boot command");
    }

    #[test]
    fn is_finds_a_cancellation_under_context_and_inside_io_errors() {
        let wrapped = anyhow::Error::new(Cancelled::new()).context("step \"download\" failed");
        assert!(Cancelled::is(&wrapped));
        let io = anyhow::Error::new(Cancelled::during("compressing").into_io()).context("writing out.tar.gz");
        assert!(Cancelled::is(&io));
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
