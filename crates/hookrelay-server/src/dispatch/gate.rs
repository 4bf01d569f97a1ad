//! Per-endpoint traffic control: a concurrency cap, the endpoint's rate limit, and a
//! pause when the receiver answers 429 or 503 — so a throttling receiver slows the whole
//! endpoint, not just the one delivery it answered.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The longest pause a 429/503 imposes on an endpoint.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(300);
/// The pause after a 429/503 without `Retry-After`.
pub(crate) const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// One endpoint's gate.
pub(crate) struct Gate {
    pub slots: Arc<Semaphore>,
    limiter: Mutex<Option<(u32, Arc<DefaultDirectRateLimiter>)>>,
    paused_until: Mutex<Option<Instant>>,
}

impl Gate {
    pub(crate) fn new(concurrency: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            limiter: Mutex::new(None),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until the endpoint may be sent to: past any pause, and within its rate
    /// (`per_second`, evenly spaced, no burst).
    pub(crate) async fn wait_turn(&self, per_second: Option<u32>) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if let Some(limiter) = self.limiter(per_second) {
            limiter.until_ready().await;
        }
    }

    /// Holds back every delivery to the endpoint for `d` (capped at [`MAX_PAUSE`]).
    pub(crate) fn pause(&self, d: Duration) {
        let until = Instant::now() + d.min(MAX_PAUSE);
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    fn limiter(&self, per_second: Option<u32>) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = NonZeroU32::new(per_second?)?;
        let mut current = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        match &*current {
            Some((r, l)) if *r == rate.get() => Some(Arc::clone(l)),
            _ => {
                // A changed rate starts a fresh limiter.
                let quota = Quota::per_second(rate).allow_burst(NonZeroU32::MIN);
                let limiter = Arc::new(RateLimiter::direct(quota));
                *current = Some((rate.get(), Arc::clone(&limiter)));
                Some(limiter)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_later_turns() {
        let gate = Gate::new(4);
        let start = Instant::now();
        gate.pause(Duration::from_secs(2));
        gate.wait_turn(None).await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        gate.pause(Duration::from_secs(3600));
        let before = Instant::now();
        gate.wait_turn(None).await;
        assert_eq!(before.elapsed(), MAX_PAUSE, "capped");
    }
}
