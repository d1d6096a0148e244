//! The request budget of EBS direct uploads. AWS allows PutSnapshotBlock
//! 1,000 requests/s per snapshot and a few thousand per account and region,
//! StartSnapshot and CompleteSnapshot 10/s per account: beyond that it
//! throttles, and a throttled upload that just retries makes it worse. So
//! every request of one run takes a slot from the same limiters (one per
//! snapshot, one per account and region, shared by all uploads of the
//! process), and a throttled one backs off on top.
//!
//! [`with_retries`] is how every upload request is sent, to EBS and to S3
//! alike: each attempt within its limiters and a timeout, a retryable
//! failure backed off and tried again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Requests at most `per_second`, spaced evenly.
pub struct Rate {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Rate {
    pub fn new(per_second: u32) -> Rate {
        Rate { interval: Duration::from_secs(1) / per_second.max(1), next: Mutex::new(Instant::now()) }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// PutSnapshotBlock per snapshot: AWS's limit, not adjustable.
pub const PUT_PER_SNAPSHOT: u32 = 1_000;
/// PutSnapshotBlock per account and region (AWS's default quota).
pub const PUT_PER_ACCOUNT: u32 = 5_000;
/// StartSnapshot / CompleteSnapshot per account.
pub const CONTROL_PER_ACCOUNT: u32 = 10;

/// The limiters of one account and region, shared by every upload there.
pub struct Account {
    pub puts: Rate,
    pub control: Rate,
}

/// The account limiters of `region`, made on first use.
pub fn account(region: &str) -> Arc<Account> {
    static ACCOUNTS: OnceLock<Mutex<BTreeMap<String, Arc<Account>>>> = OnceLock::new();
    let mut map = ACCOUNTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    map.entry(region.to_string()).or_insert_with(|| Arc::new(Account { puts: Rate::new(PUT_PER_ACCOUNT), control: Rate::new(CONTROL_PER_ACCOUNT) })).clone()
}

/// The delay before retry `attempt` (1, 2, …) of a throttled or failed
/// request: exponential from 100 ms to 10 s, with jitter so that many
/// requests throttled together do not come back together.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100) * 2u32.saturating_pow(attempt.saturating_sub(1).min(7));
    let base = base.min(Duration::from_secs(10));
    let jitter = Instant::now().elapsed().subsec_nanos() ^ std::process::id().wrapping_mul(2_654_435_761);
    base / 2 + base / 2 * (jitter % 1000) / 1000
}

/// How long one EBS direct request may take before it is given up and
/// retried: a stalled connection is never waited on forever.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_ATTEMPTS: u32 = 10;

/// A failed request: what to say, and whether trying again may help.
pub struct Failure {
    pub message: String,
    pub retryable: bool,
}

/// The error codes with which AWS says "not now" rather than "no".
const TRY_AGAIN: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalServerException",
    "ServiceUnavailable",
    "ConcurrentLimitExceededException",
];

impl Failure {
    /// Classifies an SDK error by what it is, not by its text: no answer
    /// (a connection lost, refused or stalled, an unreadable response), a
    /// 5xx or 429, or one of AWS's try-again codes may be retried;
    /// anything else the service said is final.
    pub fn of<E>(e: &aws_sdk_ebs::error::SdkError<E, aws_sdk_ebs::config::http::HttpResponse>) -> Failure
    where
        E: aws_sdk_ebs::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_ebs::error::SdkError;
        let retryable = match e {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                status >= 500 || status == 429 || s.err().code().is_some_and(|code| TRY_AGAIN.contains(&code))
            }
            _ => false,
        };
        Failure { message: bake_aws::sdk_error(e), retryable }
    }
}

/// Runs `call` until it succeeds, retrying what AWS says may be retried
/// (throttling, 5xx, a lost or stalled connection) with back-off; returns
/// its value and the attempts it took.
pub async fn with_retries<T, F, Fut>(what: &str, limits: &[&Rate], timeout: Duration, mut call: F) -> anyhow::Result<(T, u32)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut last = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        for limit in limits {
            limit.acquire().await;
        }
        match tokio::time::timeout(timeout, call()).await {
            Ok(Ok(value)) => return Ok((value, attempt)),
            Ok(Err(e)) if !e.retryable => anyhow::bail!("{what}: {}", e.message),
            Ok(Err(e)) => last = e.message,
            Err(_) => last = format!("no answer within {}", bake_sdk::duration::human(timeout)),
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
    anyhow::bail!("{what}: gave up after {MAX_ATTEMPTS} attempts; the last: {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_rate_spaces_its_requests() {
        let rate = Rate::new(100);
        let start = tokio::time::Instant::now();
        for _ in 0..51 {
            rate.acquire().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(500) && took < Duration::from_millis(520), "51 requests at 100/s take 0.5 s: {took:?}");
    }

    #[test]
    fn backoff_grows_to_a_ceiling() {
        assert!(backoff(1) <= Duration::from_millis(100) && backoff(1) >= Duration::from_millis(50));
        assert!(backoff(4) >= Duration::from_millis(400));
        assert!(backoff(30) <= Duration::from_secs(10));
        assert!(Arc::ptr_eq(&account("us-east-1"), &account("us-east-1")), "one budget per account and region");
    }
}
