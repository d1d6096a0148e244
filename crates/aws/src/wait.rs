//! Waiting for AWS: an instance to run or stop, an AMI to become
//! available, a copy to arrive.
//!
//! Packer's waiters poll a fixed number of times (AWS_MAX_ATTEMPTS), so a
//! large AMI outlives them (packer-plugin-amazon #642) and users raise the
//! count by hand. Here a wait has a deadline sized to the work (the caller
//! gives it: an AMI's follows its volume size), the delay between checks
//! grows to a ceiling instead of spinning, every change of state or of
//! progress is shown as it happens, and a wait that gives up says what it
//! waited for, for how long, and the last state it saw.
//!
//! `aws_polling { delay_seconds, max_attempts }` (and Packer's
//! AWS_POLL_DELAY_SECONDS / AWS_MAX_ATTEMPTS) still work as in Packer: a
//! fixed delay, and that many checks instead of the deadline.

use bake_sdk::Ui;
use serde::Deserialize;
use std::future::Future;
use std::time::{Duration, Instant};

/// Packer's `aws_polling` block.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsPolling {
    pub delay_seconds: Option<u64>,
    pub max_attempts: Option<u32>,
}

/// How a wait polls: the first delay, the ceiling it grows to, and either
/// a deadline or a number of checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Polling {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// `Some` when the template (or AWS_MAX_ATTEMPTS) fixes the count.
    pub max_attempts: Option<u32>,
}

impl Polling {
    /// The template's `aws_polling` over the environment's
    /// AWS_POLL_DELAY_SECONDS / AWS_MAX_ATTEMPTS, over bake's default
    /// (2 s growing to 15 s, the deadline the caller gives).
    pub fn new(template: Option<&AwsPolling>) -> Polling {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
        let delay = template.and_then(|p| p.delay_seconds).or_else(|| env("AWS_POLL_DELAY_SECONDS"));
        let max_attempts = template.and_then(|p| p.max_attempts).or_else(|| env("AWS_MAX_ATTEMPTS").and_then(|n| u32::try_from(n).ok()));
        match delay {
            Some(seconds) => Polling { first_delay: Duration::from_secs(seconds), max_delay: Duration::from_secs(seconds), max_attempts },
            None => Polling { first_delay: Duration::from_secs(2), max_delay: Duration::from_secs(15), max_attempts },
        }
    }
}

/// What one check saw.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen<T> {
    /// Done: the value the wait returns.
    Ready(T),
    /// Not yet: the state, and a percentage when the service gives one.
    Pending { state: String, progress: Option<u8> },
    /// It will never get there: why (a state reason, a failure message).
    Failed(String),
}

/// Checks `check` until it is ready, fails, or the wait runs out.
/// `what` reads after "waiting for": "AMI ami-1 to become available in
/// us-east-1". A failed check call (a network error) is retried like a
/// pending state, and shown once.
pub async fn until<T, F, Fut>(ui: &Ui, what: &str, polling: &Polling, deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Seen<T>>>,
{
    let started = Instant::now();
    let mut delay = polling.first_delay;
    let mut last;
    let mut shown = String::new();
    for attempt in 1u32.. {
        match check().await {
            Ok(Seen::Ready(value)) => return Ok(value),
            Ok(Seen::Failed(why)) => anyhow::bail!("{what}: it failed after {}: {why}", elapsed(started)),
            Ok(Seen::Pending { state, progress }) => last = progress.map_or(state.clone(), |p| format!("{state}, {p}%")),
            Err(e) => last = format!("the check failed: {e:#}"),
        }
        if last != shown {
            ui.message(format!("Waiting for {what}: {last}"));
            shown = last.clone();
        }
        let out_of_attempts = polling.max_attempts.is_some_and(|n| attempt >= n);
        let out_of_time = polling.max_attempts.is_none() && started.elapsed() + delay > deadline;
        if out_of_attempts || out_of_time {
            let limit = match polling.max_attempts {
                Some(n) => format!("{n} checks (aws_polling.max_attempts)"),
                None => format!("the {} deadline", bake_sdk::duration::human(deadline)),
            };
            anyhow::bail!(
                "gave up waiting for {what} after {} and {attempt} checks ({limit}); the last state seen: {last}. \
                 Raise aws_polling {{ max_attempts }} (and delay_seconds) if it is still going",
                elapsed(started)
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(polling.max_delay);
    }
    unreachable!("the loop returns")
}

fn elapsed(started: Instant) -> String {
    bake_sdk::duration::human(Duration::from_secs(started.elapsed().as_secs()))
}

/// How long an AMI (or a copy of it) may take: ten minutes, plus two per
/// GiB of its volumes (a first snapshot of fresh data runs at tens of MiB/s).
pub fn image_deadline(volume_gib: u64) -> Duration {
    Duration::from_secs(600 + 120 * volume_gib)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn ui() -> (Ui, Arc<bake_sdk::ui::RecordingSink>) {
        let sink = Arc::new(bake_sdk::ui::RecordingSink::default());
        (Ui::new("b", sink.clone()), sink)
    }

    fn fast(max_attempts: Option<u32>) -> Polling {
        Polling { first_delay: Duration::from_millis(1), max_delay: Duration::from_millis(4), max_attempts }
    }

    #[tokio::test]
    async fn shows_each_change_and_returns_the_ready_value() {
        let (ui, sink) = ui();
        let answers = Arc::new(Mutex::new(vec![
            Seen::Pending { state: "pending".into(), progress: Some(10) },
            Seen::Pending { state: "pending".into(), progress: Some(10) },
            Seen::Pending { state: "pending".into(), progress: Some(60) },
            Seen::Ready("ami-1"),
        ]));
        let a = answers.clone();
        let got = until(&ui, "AMI ami-1", &fast(None), Duration::from_secs(60), || {
            let next = a.lock().unwrap().remove(0);
            async move { Ok(next) }
        })
        .await
        .unwrap();
        assert_eq!(got, "ami-1");
        let shown: Vec<String> = sink.events.lock().unwrap().iter().map(|e| format!("{:?}", e.1)).collect();
        assert_eq!(shown.len(), 2, "one line per change: {shown:?}");
        assert!(shown[0].contains("pending, 10%") && shown[1].contains("pending, 60%"), "{shown:?}");
    }

    #[tokio::test]
    async fn giving_up_says_what_for_how_long_and_the_last_state() {
        let (ui, _) = ui();
        let e = until::<(), _, _>(&ui, "AMI ami-2 to become available in us-east-1", &fast(Some(3)), Duration::from_secs(60), || async {
            Ok(Seen::Pending { state: "pending".into(), progress: Some(42) })
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("gave up waiting for AMI ami-2 to become available in us-east-1 after"), "{e}");
        assert!(e.contains("3 checks (3 checks (aws_polling.max_attempts))") || e.contains("and 3 checks"), "{e}");
        assert!(e.contains("the last state seen: pending, 42%"), "{e}");

        let e = until::<(), _, _>(&ui, "instance i-1 to run", &fast(None), Duration::from_millis(20), || async {
            Ok(Seen::Pending { state: "pending".into(), progress: None })
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("deadline") && e.contains("last state seen: pending"), "{e}");

        let e = until::<(), _, _>(&ui, "instance i-1 to run", &fast(None), Duration::from_secs(60), || async {
            Ok(Seen::Failed("Server.InternalError: Internal error on launch".into()))
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("instance i-1 to run: it failed after") && e.ends_with("Internal error on launch"), "{e}");
    }

    #[test]
    fn the_delay_grows_to_a_ceiling_and_the_template_fixes_it() {
        let default = Polling::new(None);
        assert_eq!((default.first_delay, default.max_delay), (Duration::from_secs(2), Duration::from_secs(15)));
        let fixed = Polling::new(Some(&AwsPolling { delay_seconds: Some(5), max_attempts: Some(300) }));
        assert_eq!(fixed, Polling { first_delay: Duration::from_secs(5), max_delay: Duration::from_secs(5), max_attempts: Some(300) });
        assert!(image_deadline(100) > image_deadline(8), "the deadline follows the size");
    }
}
