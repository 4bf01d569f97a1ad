//! One due delivery's task, up to the outcome of its attempt: take the job (fed, loaded
//! or claimed), mark it in flight, pass its endpoint's gate and a global slot, keep a
//! claim's lease, sign, and send — to the endpoint's URL or across its targets. The
//! outcome is handed to [`settle`](super::settle), which alone decides what it means;
//! nothing here looks at a response beyond whether to fail over.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::DeliveryId;
use hookrelay_store::model::{DeliveryJob, EndpointTarget, TargetFailure};

use super::classify::Ending;
use super::gate::Gate;
use super::schedule::Item;
use super::send::Sent;
use super::sign::SignedRequest;
use super::{Dispatcher, Inner, RECORD_FAILURE_BACKOFF_MS, claim, forward, send, sign};

/// How one attempt went: everything settling it needs.
pub(crate) struct Outcome {
    /// What came back, recorded against the target that answered last.
    pub sent: Sent,
    /// How long sending took. The attempt record keeps whole milliseconds; the histogram
    /// wants finer (loopback receivers answer in less).
    pub took: Duration,
    /// Whether the attempt was its circuit's probe.
    pub probe: bool,
}

impl Dispatcher {
    /// The task of one scheduled, fed or claimed item.
    pub(crate) async fn run(&self, item: Item) {
        let job = match item {
            Item::Claimed(job, lease_until) => {
                let Some(claimer) = self.inner.claimer.clone() else {
                    return;
                };
                let _slot = claim::ClaimSlot::new(
                    &claimer,
                    self.inner.cfg.max_in_flight.max(1),
                    job.endpoint.as_ref().map(|e| e.id.clone()),
                );
                let id = job.delivery_id.clone();
                if !self.run_job(*job, Some(lease_until)).await {
                    self.release(id, lease_until).await;
                }
                return;
            }
            Item::Job(job) => *job,
            Item::Load(id) => match self.inner.store.load_job(&id).await {
                Ok(Some(job)) if job.due_at <= now_ms() + 1_000 => job,
                // Delivered already, or re-scheduled for later by another entry.
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(delivery = %id, error = %e, "could not load a due delivery; trying again shortly");
                    self.schedule([id], now_ms() + RECORD_FAILURE_BACKOFF_MS);
                    return;
                }
            },
        };
        self.run_job(job, None).await;
    }

    /// Passes the job through its endpoint's gate and the global slots, attempts it and
    /// settles the outcome. The slots are held until the outcome is recorded, so an
    /// endpoint's cap covers its recording too. `lease_until` is the end of a claimed
    /// row's lease. Returns `false` when the job was neither attempted nor settled
    /// (shutdown, or a claim lost while waiting), so a claimed row can be given back.
    async fn run_job(&self, job: DeliveryJob, lease_until: Option<i64>) -> bool {
        let Some(_flight) = InFlight::enter(&self.inner, &job.delivery_id) else {
            // Already in a task here: for a fed or loaded job that task records the
            // outcome. A claimed row is newer than that task's attempt (re-queued by a
            // manual retry while the task was still reporting), so it is given back and
            // claimed again once the task is done.
            return lease_until.is_none();
        };
        let endpoint = match &job.endpoint {
            Some(e) if e.enabled => Arc::clone(e),
            Some(_) => {
                self.give_up(&job, lease_until, "endpoint is disabled")
                    .await;
                return true;
            }
            None => {
                self.give_up(&job, lease_until, "endpoint was deleted")
                    .await;
                return true;
            }
        };
        let gate = self.endpoint_gate(&endpoint);
        let cancel = &self.inner.cancel;
        // Each send holds `cap / share` of the endpoint's `cap` permits, so this
        // process sends at most its share of the cap at once (sends begun under an
        // earlier share keep what they took).
        let cap = self.inner.cfg.max_in_flight_per_endpoint.max(1);
        let weight = u32::try_from(cap / self.inner.share.of_cap(cap)).unwrap_or(1);
        let _endpoint_permit = tokio::select! {
            p = Arc::clone(&gate.slots).acquire_many_owned(weight.max(1)) => p,
            _ = cancel.cancelled() => return false,
        };
        let probe = tokio::select! {
            probe = gate.wait_turn(endpoint.rate_limit, self.inner.share.workers()) => probe,
            _ = cancel.cancelled() => return false,
        };
        if gate.is_disabled() {
            self.give_up(&job, lease_until, "endpoint is disabled")
                .await;
            return true;
        }
        let _global_permit = tokio::select! {
            p = Arc::clone(&self.inner.global).acquire_owned() => p,
            _ = cancel.cancelled() => return false,
        };
        // The lease must outlast every target the attempt may try, each with the full
        // timeout, or another worker could send the same delivery meanwhile.
        let lease_until = match lease_until {
            Some(held) => match self
                .keep_claim(&job.delivery_id, held, self.worst_case(&endpoint))
                .await
            {
                Some(kept) => Some(kept),
                None => return false,
            },
            None => None,
        };
        match self.attempt(&job, &endpoint, &gate, probe).await {
            Ok(outcome) => {
                self.settle(job, &endpoint, &gate, outcome, lease_until)
                    .await
            }
            Err(reason) => self.give_up(&job, lease_until, &reason).await,
        }
        true
    }

    /// The longest one attempt at an endpoint can take: the timeout for each target a
    /// failover endpoint may try in turn.
    fn worst_case(&self, endpoint: &EndpointTarget) -> Duration {
        let tries = endpoint
            .targets
            .as_ref()
            .map_or(1, |t| t.targets.len().max(1));
        self.timeout(endpoint) * u32::try_from(tries).unwrap_or(u32::MAX)
    }

    /// The per-attempt timeout of an endpoint.
    fn timeout(&self, endpoint: &EndpointTarget) -> Duration {
        endpoint
            .timeout_ms
            .map_or(self.inner.cfg.default_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            })
    }

    /// Signs (or rebuilds a forward) and sends one attempt. `Err` is why the delivery
    /// cannot be sent at all (an unusable signing secret).
    async fn attempt(
        &self,
        job: &DeliveryJob,
        endpoint: &EndpointTarget,
        gate: &Gate,
        probe: bool,
    ) -> Result<Outcome, String> {
        let started = now_ms();
        let request = match &job.inbound {
            Some(payload) => forward::build(payload, endpoint),
            None => sign::build(job, endpoint, started / 1000)
                .map_err(|e| format!("the endpoint's signing secret is unusable: {e}"))?,
        };
        let timeout = self.timeout(endpoint);
        let clock = std::time::Instant::now();
        let sent = self
            .send_to_targets(endpoint, gate, request, timeout, started)
            .await;
        Ok(Outcome {
            sent,
            took: clock.elapsed(),
            probe,
        })
    }

    /// Sends one attempt to the endpoint's URL, or to the targets its strategy picks:
    /// a failover endpoint moves on to the next target when one does not answer or
    /// answers 5xx, and the attempt records the target that answered last.
    async fn send_to_targets(
        &self,
        endpoint: &EndpointTarget,
        gate: &Gate,
        request: SignedRequest,
        timeout: Duration,
        started: i64,
    ) -> Sent {
        let (client, guard) = (&self.inner.client, &self.inner.cfg.guard);
        let Some(targets) = &endpoint.targets else {
            return send::send(client, guard, &endpoint.url, request, timeout, started).await;
        };
        let order = gate.pick_targets(targets);
        let Some((&last, first)) = order.split_last() else {
            return send::send(client, guard, &endpoint.url, request, timeout, started).await;
        };
        let mut failed_over = Vec::new();
        for &i in first {
            let url = &targets.targets[i].url;
            // Cheap: the body is shared, the headers are a few short strings.
            let mut sent = send::send(client, guard, url, request.clone(), timeout, now_ms()).await;
            let unanswered = match sent.ending {
                Ending::NoAnswer => true,
                Ending::Status(s) => s >= 500,
            };
            if !unanswered {
                sent.record.at = started;
                sent.record.duration_ms = (now_ms() - started).max(0) as u64;
                sent.record.failed_over = failed_over;
                return sent;
            }
            failed_over.push(TargetFailure {
                url: url.clone(),
                error: sent.record.error.unwrap_or_else(|| "no answer".to_owned()),
            });
        }
        let url = &targets.targets[last].url;
        let mut sent = send::send(client, guard, url, request, timeout, now_ms()).await;
        sent.record.at = started;
        sent.record.duration_ms = (now_ms() - started).max(0) as u64;
        sent.record.failed_over = failed_over;
        sent
    }
}

/// Marks a delivery as being attempted, so a duplicate schedule entry cannot send it
/// twice at once; leaves the mark on drop.
struct InFlight<'a> {
    inner: &'a Inner,
    id: DeliveryId,
}

impl<'a> InFlight<'a> {
    fn enter(inner: &'a Inner, id: &DeliveryId) -> Option<Self> {
        let mut set = lock(&inner.in_flight);
        set.insert(id.clone()).then(|| Self {
            inner,
            id: id.clone(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(&self.inner.in_flight).remove(&self.id);
    }
}

/// Locks the in-flight set. A poisoned lock is taken anyway: every change under it is a
/// single insert or remove, so the set is never left half-changed.
fn lock(
    set: &std::sync::Mutex<HashSet<DeliveryId>>,
) -> std::sync::MutexGuard<'_, HashSet<DeliveryId>> {
    set.lock().unwrap_or_else(|p| p.into_inner())
}
