//! The request budget of EBS direct uploads. AWS allows PutSnapshotBlock
//! 1,000 requests/s per snapshot and a few thousand per account and region,
//! StartSnapshot and CompleteSnapshot 10/s per account: beyond that it
//! throttles, and a throttled upload that just retries makes it worse. So
//! every request of one run takes a slot from the same limiters (one per
//! snapshot, one per account and region, shared by all uploads of the
//! process), and a throttled one backs off on top.

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
