//! This worker's share of every endpoint's limits, so that `rate_limit` and
//! `max_in_flight_per_endpoint` hold for the cluster rather than per process.
//!
//! Each delivering process marks itself alive in the store every [`HEARTBEAT`] and
//! counts the workers seen within [`ALIVE_WINDOW`]; with N of them, it claims at most
//! `cap / N` (at least one) deliveries of an endpoint and sends to it at most `rate / N`
//! per second. No statement runs per delivery and claims stay independent; the cost is
//! that a worker starting or dying shifts the shares only at the next heartbeat (a
//! second; a dead worker's after the window), and that a worker without work for an
//! endpoint leaves its share of that endpoint's rate unused. A stopping worker leaves
//! at once. On a store one process owns, N is always 1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::WorkerId;

use super::Dispatcher;

/// How often a worker marks itself alive and recounts the others.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);
/// A worker not seen for this long is no longer counted (it died).
const ALIVE_WINDOW: Duration = Duration::from_secs(5);

/// How many workers share the limits, as last counted.
pub(crate) struct Share {
    id: WorkerId,
    workers: AtomicUsize,
}

impl Share {
    pub(crate) fn new() -> Self {
        Self {
            id: WorkerId::generate(),
            workers: AtomicUsize::new(1),
        }
    }

    /// The live workers, this one included (at least 1).
    pub(crate) fn workers(&self) -> usize {
        self.workers.load(Ordering::Relaxed).max(1)
    }

    /// The part of a per-endpoint cap this worker may use: an even split, at least one.
    pub(crate) fn of_cap(&self, cap: usize) -> usize {
        (cap / self.workers()).max(1)
    }
}

impl Dispatcher {
    /// Joins the cluster's workers before the first claim: marks this worker alive and,
    /// when others are alive, waits one heartbeat more, so that each of them has
    /// counted this one and narrowed its share before this one sends anything.
    pub(crate) async fn join_workers(&self) {
        if self.beat().await > 1 {
            tokio::select! {
                _ = self.inner.cancel.cancelled() => {}
                _ = tokio::time::sleep(HEARTBEAT + HEARTBEAT / 5) => {}
            }
            self.beat().await;
        }
    }

    /// Marks this worker alive and recounts the workers; returns the count (the last
    /// one when the store cannot be reached).
    async fn beat(&self) -> usize {
        let share = &self.inner.share;
        let window = ALIVE_WINDOW.as_millis() as i64;
        match self
            .inner
            .store
            .heartbeat(share.id.as_str(), now_ms(), window)
            .await
        {
            Ok(n) => {
                let before = share.workers.swap(n.max(1), Ordering::Relaxed);
                if before != n {
                    tracing::info!(
                        workers = n,
                        "live workers changed; each takes 1/{n} of every endpoint's limits"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not mark this worker alive; keeping the last count of workers")
            }
        }
        share.workers()
    }

    /// Beats every [`HEARTBEAT`] until cancelled, then leaves.
    pub(crate) async fn run_heartbeat(&self) {
        let share = &self.inner.share;
        let store = &self.inner.store;
        loop {
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
            self.beat().await;
        }
        if let Err(e) = store.leave(share.id.as_str()).await {
            tracing::warn!(error = %e, "could not leave the workers table; the others take over this worker's share after a few seconds");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_is_split_evenly_and_never_below_one() {
        let share = Share::new();
        assert_eq!(share.of_cap(64), 64);
        share.workers.store(3, Ordering::Relaxed);
        assert_eq!(share.of_cap(64), 21);
        assert_eq!(share.of_cap(4), 1);
        assert_eq!(share.of_cap(2), 1);
        share.workers.store(0, Ordering::Relaxed);
        assert_eq!(share.workers(), 1);
    }
}
