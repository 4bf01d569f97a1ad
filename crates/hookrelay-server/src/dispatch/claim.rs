//! Claiming work from a store that several processes share (PostgreSQL).
//!
//! There is no job feed across processes: every worker claims due rows itself, in
//! batches, each row leased for the attempt timeout plus [`LEASE_MARGIN`]. A worker
//! claims when the store signals new work (`LISTEN/NOTIFY`), when one of its own retries
//! falls due, when it has room again after being full, and every poll interval as a
//! fallback. It never claims more than it has global slots for, nor more of one
//! endpoint than that endpoint may have in flight, so a slow endpoint's backlog cannot
//! fill the worker and claimed rows do not wait long enough for their leases to run
//! out; one that still waits too long (behind a throttled endpoint) is given back
//! rather than sent late. When a claim was cut short by the room (due rows were left
//! behind), attempts that end ask for the next claim once half the room is free, so a
//! busy worker claims in batches; when it was not, only new work wakes the worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::{DeliveryId, EndpointId};
use hookrelay_store::model::ClaimRequest;
use tokio::sync::Notify;

use super::Dispatcher;
use super::schedule::Item;
use super::share::Share;

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
    /// The same, per endpoint (endpoints with none are absent).
    per_endpoint: Mutex<HashMap<EndpointId, usize>>,
    /// The most claimed deliveries of one endpoint at once, in the whole cluster.
    endpoint_cap: usize,
    /// This worker's part of it.
    share: Arc<Share>,
    /// The last claim left due rows behind for want of room.
    starved: AtomicBool,
    /// How long a claim holds a row.
    pub lease_ms: i64,
    /// How often to claim without a signal.
    poll: Duration,
}

impl Claimer {
    pub(crate) fn new(
        signal: Arc<Notify>,
        attempt_timeout: Duration,
        poll: Duration,
        endpoint_cap: usize,
        share: Arc<Share>,
    ) -> Self {
        Self {
            signal,
            outstanding: AtomicUsize::new(0),
            per_endpoint: Mutex::new(HashMap::new()),
            endpoint_cap: endpoint_cap.max(1),
            share,
            starved: AtomicBool::new(false),
            lease_ms: (attempt_timeout + LEASE_MARGIN).as_millis() as i64,
            poll,
        }
    }

    /// Asks for a claim soon (a retry of this process fell due).
    pub(crate) fn wake(&self) {
        self.signal.notify_one();
    }

    /// The most deliveries of one endpoint this worker may hold: its share of the cap.
    fn endpoint_cap(&self) -> usize {
        self.share.of_cap(self.endpoint_cap)
    }

    fn lock_counts(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, usize>> {
        self.per_endpoint.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A claim for the room left: globally, and for each endpoint held.
    fn request(&self, limit: usize, now: i64) -> ClaimRequest {
        let cap = self.endpoint_cap();
        let room = self
            .lock_counts()
            .iter()
            .map(|(id, held)| (id.clone(), cap.saturating_sub(*held)))
            .collect();
        ClaimRequest {
            limit,
            lease_ms: self.lease_ms,
            now,
            per_endpoint: cap,
            room,
        }
    }

    /// Counts a claimed delivery of `endpoint` until its [`ClaimSlot`] drops.
    pub(crate) fn hold(&self, endpoint: Option<&EndpointId>) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
        if let Some(id) = endpoint {
            *self.lock_counts().entry(id.clone()).or_default() += 1;
        }
    }
}

/// Held by the task of one claimed delivery; frees its room when the task ends.
pub(crate) struct ClaimSlot<'a> {
    claimer: &'a Claimer,
    max: usize,
    endpoint: Option<EndpointId>,
}

impl<'a> ClaimSlot<'a> {
    pub(crate) fn new(claimer: &'a Claimer, max: usize, endpoint: Option<EndpointId>) -> Self {
        Self {
            claimer,
            max,
            endpoint,
        }
    }
}

impl Drop for ClaimSlot<'_> {
    fn drop(&mut self) {
        let claimer = self.claimer;
        let after = claimer.outstanding.fetch_sub(1, Ordering::AcqRel) - 1;
        let mut half_free = after <= self.max / 2;
        if let Some(id) = &self.endpoint {
            let mut counts = claimer.lock_counts();
            if let Some(held) = counts.get_mut(id) {
                *held -= 1;
                half_free |= *held <= claimer.endpoint_cap() / 2;
                if *held == 0 {
                    counts.remove(id);
                }
            }
        }
        // Wake-ups do not pile up (one stored permit), so asking on every attempt
        // that ends past half costs at most one claim per claim in progress.
        if half_free && claimer.starved.load(Ordering::Acquire) {
            claimer.signal.notify_one();
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
                let request = claimer.request(limit, now_ms());
                match self.inner.store.claim_due(&request).await {
                    Ok(jobs) if self.inner.cancel.is_cancelled() => {
                        // Shutting down: what this claim took goes straight back.
                        let lease_until = request.now + request.lease_ms;
                        let claims: Vec<_> = jobs
                            .into_iter()
                            .map(|j| (j.delivery_id, lease_until))
                            .collect();
                        if let Err(e) = self.inner.store.release_claims(&claims).await {
                            tracing::warn!(error = %e, "could not release claims at shutdown; they are taken again when their lease ends");
                        }
                        break;
                    }
                    Ok(jobs) => {
                        more = jobs.len() == limit;
                        claimer
                            .starved
                            .store(more || held_back(&request, &jobs), Ordering::Release);
                        // Exactly what the claim wrote, so a renewal can compare it.
                        let lease_until = request.now + request.lease_ms;
                        for job in jobs {
                            claimer.hold(job.endpoint.as_ref().map(|e| &e.id));
                            self.launch_claimed(Item::Claimed(Box::new(job), lease_until));
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

    /// Whether a claimed delivery may still be sent: its lease (ending at `lease_until`)
    /// must outlast the attempt (at most `attempt` long) with half the margin to spare.
    /// Renews the lease when it does not (a wait at the gate, an endpoint timeout longer
    /// than the default, a failover across several targets). Returns the lease's end as
    /// now held, which the result is recorded under; `None` means the claim is lost and
    /// the delivery must not be sent here.
    pub(crate) async fn keep_claim(
        &self,
        id: &DeliveryId,
        lease_until: i64,
        attempt: Duration,
    ) -> Option<i64> {
        let margin = LEASE_MARGIN.as_millis() as i64;
        let attempt = i64::try_from(attempt.as_millis()).unwrap_or(i64::MAX / 2);
        let needed = now_ms().saturating_add(attempt) + margin / 2;
        if lease_until >= needed {
            return Some(lease_until);
        }
        let until = now_ms().saturating_add(attempt) + margin;
        match self.inner.store.renew_claim(id, lease_until, until).await {
            Ok(true) => Some(until),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(delivery = %id, error = %e, "could not renew a claim; leaving the delivery to the next claim");
                None
            }
        }
    }

    /// Gives a claimed delivery that was not attempted back to the table.
    pub(crate) async fn release(&self, id: DeliveryId, lease_until: i64) {
        if let Err(e) = self.inner.store.release_claims(&[(id, lease_until)]).await {
            tracing::warn!(error = %e, "could not release a claim; it is taken again when its lease ends");
        }
    }
}

/// Whether a claim may have left due rows behind because an endpoint had no more room:
/// one was skipped as full, or it got exactly the room it had.
fn held_back(request: &ClaimRequest, jobs: &[hookrelay_store::model::DeliveryJob]) -> bool {
    if request.room.values().any(|room| *room == 0) {
        return true;
    }
    let mut taken: HashMap<&EndpointId, usize> = HashMap::new();
    for job in jobs {
        if let Some(e) = &job.endpoint {
            *taken.entry(&e.id).or_default() += 1;
        }
    }
    taken.iter().any(|(id, n)| *n >= request.room_for(id))
}
