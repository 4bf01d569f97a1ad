//! Claiming work from a store that several processes share (PostgreSQL).
//!
//! There is no job feed across processes: every worker claims due rows itself, in
//! batches, each row leased for the attempt timeout plus [`LEASE_MARGIN`]. A worker
//! claims when the store signals new work (`LISTEN/NOTIFY`), when one of its own retries
//! falls due, when it has room again after being full, and every poll interval as a
//! fallback. It never claims more than it has global slots for, so claimed rows do not
//! wait long enough for their leases to run out; one that still waits too long (behind a
//! throttled endpoint) is given back rather than sent late.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::DeliveryId;
use tokio::sync::Notify;

use super::Dispatcher;
use super::schedule::Item;

/// What a lease adds to the attempt timeout: time to record the result.
pub(crate) const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// The most rows one claim takes.
const CLAIM_BATCH: usize = 256;
/// Pause after a failed claim (the database is down or restarting).
const CLAIM_FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The claiming side of a dispatcher.
pub(crate) struct Claimer {
    /// Raised by the store on new work, and by this process when it wants a claim.
    pub signal: Arc<Notify>,
    /// Claimed deliveries whose task has not finished.
    outstanding: AtomicUsize,
    /// How long a claim holds a row.
    pub lease_ms: i64,
    /// How often to claim without a signal.
    poll: Duration,
}

impl Claimer {
    pub(crate) fn new(signal: Arc<Notify>, attempt_timeout: Duration, poll: Duration) -> Self {
        Self {
            signal,
            outstanding: AtomicUsize::new(0),
            lease_ms: (attempt_timeout + LEASE_MARGIN).as_millis() as i64,
            poll,
        }
    }

    /// Asks for a claim soon (a retry of this process fell due).
    pub(crate) fn wake(&self) {
        self.signal.notify_one();
    }
}

/// Held by the task of one claimed delivery; frees its room when the task ends.
pub(crate) struct ClaimSlot<'a> {
    claimer: &'a Claimer,
    max: usize,
}

impl<'a> ClaimSlot<'a> {
    pub(crate) fn new(claimer: &'a Claimer, max: usize) -> Self {
        Self { claimer, max }
    }
}

impl Drop for ClaimSlot<'_> {
    fn drop(&mut self) {
        let before = self.claimer.outstanding.fetch_sub(1, Ordering::AcqRel);
        if before >= self.max {
            // The claim loop stopped claiming for want of room: there is room now.
            self.claimer.signal.notify_one();
        }
    }
}

impl Dispatcher {
    /// Claims due deliveries until cancelled.
    pub(crate) async fn run_claims(&self, claimer: Arc<Claimer>) {
        let max = self.inner.cfg.max_in_flight.max(1);
        loop {
            let notified = claimer.signal.notified();
            tokio::pin!(notified);
            // Armed before claiming, so work committed during the claim is not missed.
            notified.as_mut().enable();
            let room = max.saturating_sub(claimer.outstanding.load(Ordering::Acquire));
            let mut more = false;
            if room > 0 {
                let limit = room.min(CLAIM_BATCH);
                match self
                    .inner
                    .store
                    .claim_due(limit, claimer.lease_ms, now_ms())
                    .await
                {
                    Ok(jobs) => {
                        more = jobs.len() == limit;
                        let claimed_at = now_ms();
                        for job in jobs {
                            claimer.outstanding.fetch_add(1, Ordering::AcqRel);
                            self.launch_claimed(Item::Claimed(Box::new(job), claimed_at));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim deliveries; trying again shortly");
                        tokio::select! {
                            _ = self.inner.cancel.cancelled() => break,
                            _ = tokio::time::sleep(CLAIM_FAILURE_BACKOFF) => {}
                        }
                        continue;
                    }
                }
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                _ = &mut notified => {}
                _ = tokio::time::sleep(claimer.poll) => {}
            }
        }
    }

    /// Whether a claimed delivery may still be sent: its lease must outlast the attempt.
    /// Renews the lease when the attempt's own timeout is longer than what is left;
    /// `false` means the claim is lost or stale and the delivery must not be sent here.
    pub(crate) async fn keep_claim(
        &self,
        claimer: &Claimer,
        id: &DeliveryId,
        claimed_at: i64,
        timeout: Duration,
    ) -> bool {
        let needed = now_ms() + timeout.as_millis() as i64 + LEASE_MARGIN.as_millis() as i64 / 2;
        if claimed_at + claimer.lease_ms >= needed {
            return true;
        }
        let until = now_ms() + timeout.as_millis() as i64 + LEASE_MARGIN.as_millis() as i64;
        match self.inner.store.renew_claim(id, until).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(delivery = %id, error = %e, "could not renew a claim; leaving the delivery to the next claim");
                false
            }
        }
    }

    /// Gives a claimed delivery that was not attempted back to the table.
    pub(crate) async fn release(&self, id: DeliveryId) {
        if let Err(e) = self.inner.store.release_claims(&[id]).await {
            tracing::warn!(error = %e, "could not release a claim; it is taken again when its lease ends");
        }
    }
}
