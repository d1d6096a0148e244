//! Reading from the person at the terminal: the `-debug` pauses, the
//! `-on-error=ask` question and the breakpoint provisioner all wait for a
//! line this way, and all give way to Ctrl-C.

use crate::cancel::Cancelled;
use tokio_util::sync::CancellationToken;

/// One line from stdin, with its newline; empty at end of input (no
/// terminal, as in CI), so a pause without a terminal goes on at once.
/// Returns [`Cancelled`] as soon as `cancel` fires, without waiting for
/// Enter.
pub async fn read_line(cancel: &CancellationToken) -> Result<String, Cancelled> {
    // Blocking: stdin has no portable non-blocking read. A read left
    // waiting after a cancellation is abandoned with the runtime.
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        line
    });
    tokio::select! {
        line = read => Ok(line.unwrap_or_default()),
        () = cancel.cancelled() => Err(Cancelled::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancelled_read_returns_at_once() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert_eq!(read_line(&cancel).await, Err(Cancelled::new()));
    }
}
