//! The dispatcher: turns due deliveries into signed HTTP attempts.
//!
//! # Layout
//! - [`schedule`]: the in-memory timer queue of waiting deliveries.
//! - [`sign`]: where a delivery is signed (body and headers of one attempt).
//! - [`forward`]: the same for a forward of an inbound request (sent as received).
//! - [`send`]: one HTTP attempt and what it recorded.
//! - [`classify`]: success, retry at a time (the retry is scheduled from here), or give up.
//! - [`gate`]: per-endpoint concurrency, rate limit, 429/503 pauses and the circuit.
//! - [`circuit`]: the circuit breaker and auto-disable of one endpoint.
//! - [`operational`]: the events Hookrelay publishes about endpoints and deliveries.
//! - [`client`]: the pooled HTTP client (bundled web PKI roots, guarded DNS).
//! - [`claim`]: claiming leased rows from a store several processes share (PostgreSQL).
//!
//! On SQLite, new deliveries arrive on the store's job feed the moment their publish
//! commits and start at once; retries wait in the schedule; pending rows left by a crash
//! are loaded into the schedule at start-up. On a shared store there is no feed: the
//! dispatcher claims due rows (see [`claim`]), and its schedule only says when to claim. Each endpoint has a [`gate`] (concurrency cap, rate
//! limit, pause after 429/503) passed before a global semaphore is taken, so a slow or
//! throttling endpoint holds at most its own share of the global slots.

mod circuit;
mod claim;
mod classify;
pub mod client;
mod forward;
mod gate;
mod operational;
mod schedule;
mod send;
mod sign;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::{DeliveryId, EndpointId};
use hookrelay_core::retry::RetrySchedule;
use hookrelay_store::Store;
use hookrelay_store::model::{AttemptResult, DeliveryJob, EndpointTarget, NextStep, TargetFailure};
use rustls::pki_types::CertificateDer;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use circuit::{Change, Circuit};
use schedule::{Item, Schedule};

use crate::metrics::Metrics;
use crate::ssrf::Guard;
pub use circuit::CircuitPolicy;
pub use sign::REDACTED as REDACTED_VALUE;

/// How the dispatcher behaves.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Delays between attempts.
    pub retry: RetrySchedule,
    /// Per-attempt timeout when the endpoint sets none.
    pub default_timeout: Duration,
    /// Attempts in flight across all endpoints.
    pub max_in_flight: usize,
    /// Attempts in flight to one endpoint.
    pub max_in_flight_per_endpoint: usize,
    /// Keeps deliveries out of private and reserved networks.
    pub guard: Guard,
    /// When endpoint circuits open and failing endpoints are disabled.
    pub circuit: CircuitPolicy,
    /// Roots trusted besides the bundled ones, for receivers behind a private CA.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// How often a worker claims due rows without being signalled (shared stores).
    pub poll_interval: Duration,
}

/// A cheap handle to the running dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    cfg: DispatchConfig,
    schedule: Mutex<Schedule>,
    wake: Notify,
    global: Arc<Semaphore>,
    per_endpoint: Mutex<HashMap<EndpointId, Arc<gate::Gate>>>,
    in_flight: Mutex<HashSet<DeliveryId>>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    /// Set when the store is shared and this dispatcher claims rows.
    claimer: Option<Arc<claim::Claimer>>,
    metrics: Metrics,
}

/// A delay before re-trying a delivery whose outcome could not be recorded.
const RECORD_FAILURE_BACKOFF_MS: i64 = 5_000;

impl Dispatcher {
    /// Creates a dispatcher recording into `metrics`; nothing runs until
    /// [`Dispatcher::start`].
    pub fn new(
        store: Arc<dyn Store>,
        cfg: DispatchConfig,
        metrics: Metrics,
        cancel: CancellationToken,
    ) -> anyhow::Result<Self> {
        let client = client::delivery_client(&cfg)?;
        let claimer = store.work_signal().map(|signal| {
            Arc::new(claim::Claimer::new(
                signal,
                cfg.default_timeout,
                cfg.poll_interval,
                cfg.max_in_flight_per_endpoint,
            ))
        });
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                client,
                global: Arc::new(Semaphore::new(cfg.max_in_flight.max(1))),
                cfg,
                schedule: Mutex::new(Schedule::default()),
                wake: Notify::new(),
                per_endpoint: Mutex::new(HashMap::new()),
                in_flight: Mutex::new(HashSet::new()),
                tracker: TaskTracker::new(),
                cancel,
                claimer,
                metrics,
            }),
        })
    }

    /// Loads every pending delivery into the schedule (those in flight when the process
    /// last stopped are due at once), then starts the schedule loop and the job feed.
    /// Call before the API accepts publishes. On a shared store it starts claiming
    /// instead (rows left by a crashed worker come back when their lease ends) and
    /// returns how many deliveries were pending.
    pub async fn start(
        &self,
        feed: Option<mpsc::UnboundedReceiver<DeliveryJob>>,
    ) -> anyhow::Result<usize> {
        if let Some(claimer) = &self.inner.claimer {
            let pending = self.inner.store.pending_deliveries().await?.len();
            let (this, claimer) = (self.clone(), Arc::clone(claimer));
            // Tracked, so shutdown waits for a claim in progress and what it launches.
            self.inner
                .tracker
                .spawn(async move { this.run_claims(claimer).await });
            let this = self.clone();
            tokio::spawn(async move { this.run_schedule().await });
            return Ok(pending);
        }
        let pending = self.inner.store.pending_deliveries().await?;
        let recovered = pending.len();
        {
            let mut schedule = self.lock_schedule();
            for (id, due) in pending {
                schedule.push(due, Item::Load(id));
            }
        }
        let this = self.clone();
        tokio::spawn(async move { this.run_schedule().await });
        if let Some(mut feed) = feed {
            let this = self.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = this.inner.cancel.cancelled() => break,
                        job = feed.recv() => match job {
                            Some(job) => this.launch(Item::Job(Box::new(job))),
                            None => break,
                        },
                    }
                }
            });
        }
        Ok(recovered)
    }

    /// Schedules deliveries (manual retries, recoveries) to be loaded and sent at `due`.
    pub fn schedule(&self, ids: impl IntoIterator<Item = DeliveryId>, due: i64) {
        {
            let mut schedule = self.lock_schedule();
            for id in ids {
                schedule.push(due, Item::Load(id));
            }
        }
        self.inner.wake.notify_one();
    }

    /// Deliveries waiting in the schedule (not counting those in flight).
    pub fn scheduled(&self) -> usize {
        self.lock_schedule().len()
    }

    /// Waits until attempts in flight have finished (call after cancelling), at most
    /// `deadline`. Deliveries that did not finish stay pending and are sent after restart.
    pub async fn drain(&self, deadline: Duration) -> bool {
        self.inner.tracker.close();
        tokio::time::timeout(deadline, self.inner.tracker.wait())
            .await
            .is_ok()
    }

    fn lock_schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.inner
            .schedule
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn run_schedule(&self) {
        let mut due = Vec::new();
        loop {
            let notified = self.inner.wake.notified();
            tokio::pin!(notified);
            // Armed before looking, so a push between the look and the wait is not missed.
            notified.as_mut().enable();
            let next = {
                let mut schedule = self.lock_schedule();
                schedule.pop_due(now_ms(), &mut due);
                schedule.next_due()
            };
            for item in due.drain(..) {
                self.launch(item);
            }
            let wait = next.map_or(Duration::from_secs(3600), |t| {
                Duration::from_millis((t - now_ms()).clamp(0, 3_600_000) as u64)
            });
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                _ = &mut notified => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn launch(&self, item: Item) {
        if self.inner.cancel.is_cancelled() {
            return;
        }
        if let (Some(claimer), Item::Load(_)) = (&self.inner.claimer, &item) {
            // The row is in the shared table: whichever worker claims it first sends it.
            claimer.wake();
            return;
        }
        let this = self.clone();
        self.inner
            .tracker
            .spawn(async move { this.run(item).await });
    }

    /// Starts a claimed delivery's task; the claim loop counted it already.
    fn launch_claimed(&self, item: Item) {
        let this = self.clone();
        self.inner
            .tracker
            .spawn(async move { this.run(item).await });
    }

    async fn run(&self, item: Item) {
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

    /// Passes the job through its endpoint's gate and the global slots, then attempts
    /// it. `lease_until` is the end of a claimed row's lease. Returns `false` when the
    /// job was neither attempted nor settled (shutdown, or a claim lost while waiting),
    /// so a claimed row can be given back.
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
                self.give_up(&job, "endpoint is disabled").await;
                return true;
            }
            None => {
                self.give_up(&job, "endpoint was deleted").await;
                return true;
            }
        };
        let gate = self.endpoint_gate(&endpoint);
        let cancel = &self.inner.cancel;
        let _endpoint_permit = tokio::select! {
            p = Arc::clone(&gate.slots).acquire_owned() => p,
            _ = cancel.cancelled() => return false,
        };
        let probe = tokio::select! {
            probe = gate.wait_turn(endpoint.rate_limit) => probe,
            _ = cancel.cancelled() => return false,
        };
        if gate.is_disabled() {
            self.give_up(&job, "endpoint is disabled").await;
            return true;
        }
        let _global_permit = tokio::select! {
            p = Arc::clone(&self.inner.global).acquire_owned() => p,
            _ = cancel.cancelled() => return false,
        };
        if let Some(lease_until) = lease_until
            && !self
                .keep_claim(&job.delivery_id, lease_until, self.timeout(&endpoint))
                .await
        {
            return false;
        }
        self.attempt(job, &endpoint, &gate, probe).await;
        true
    }

    /// The per-attempt timeout of an endpoint.
    fn timeout(&self, endpoint: &EndpointTarget) -> Duration {
        endpoint
            .timeout_ms
            .map_or(self.inner.cfg.default_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            })
    }

    async fn attempt(
        &self,
        job: DeliveryJob,
        endpoint: &EndpointTarget,
        gate: &gate::Gate,
        probe: bool,
    ) {
        let started = now_ms();
        let built = match &job.inbound {
            Some(payload) => Ok(forward::build(payload, endpoint)),
            None => sign::build(&job, endpoint, started / 1000),
        };
        let request = match built {
            Ok(r) => r,
            Err(e) => {
                return self
                    .give_up(
                        &job,
                        &format!("the endpoint's signing secret is unusable: {e}"),
                    )
                    .await;
            }
        };
        let timeout = self.timeout(endpoint);
        // The attempt log keeps whole milliseconds; the histogram wants finer (loopback).
        let clock = std::time::Instant::now();
        let sent = self
            .send_to_targets(endpoint, gate, request, timeout, started)
            .await;
        self.inner
            .metrics
            .attempt(sent.record.status_code, clock.elapsed());
        if let classify::Ending::Status(429 | 503) = sent.ending {
            // The receiver asked for less traffic: every delivery to it waits.
            gate.pause(sent.retry_after.unwrap_or(gate::DEFAULT_PAUSE));
        }
        let decision = classify::decide(
            sent.ending,
            job.attempts_made + 1,
            sent.retry_after,
            &self.inner.cfg.retry,
            now_ms(),
        );
        match decision.next {
            NextStep::Succeeded => {
                tracing::debug!(delivery = %job.delivery_id, endpoint = %endpoint.code, "delivery succeeded")
            }
            NextStep::RetryAt(at) => tracing::info!(
                delivery = %job.delivery_id, endpoint = %endpoint.code, error = sent.record.error.as_deref(),
                retry_in_ms = at - now_ms(), "attempt failed; retry scheduled"
            ),
            NextStep::Failed => tracing::warn!(
                delivery = %job.delivery_id, endpoint = %endpoint.code, error = sent.record.error.as_deref(),
                "delivery failed"
            ),
        }
        let health = sent.ending.health();
        let change = gate.record(health, probe, now_ms());
        let mut disable = decision.disable.clone();
        match &change {
            Change::Opened => tracing::warn!(
                endpoint = %endpoint.code, scope = %job.scope,
                "circuit opened after consecutive failures; deliveries to the endpoint wait for a probe"
            ),
            Change::Recovered { .. } => {
                tracing::info!(endpoint = %endpoint.code, scope = %job.scope, "endpoint recovered; circuit closed")
            }
            Change::Disable {
                failures,
                failing_since,
            } => {
                disable.get_or_insert_with(|| {
                    format!(
                        "failing since {} ({failures} consecutive failures)",
                        hookrelay_core::clock::to_rfc3339(*failing_since)
                    )
                });
            }
            Change::None => {}
        }
        if let Some(reason) = &disable {
            tracing::warn!(endpoint = %endpoint.code, scope = %job.scope, reason, "endpoint disabled");
            gate.disable();
        }
        let last = (sent.record.status_code, sent.record.error.clone());
        let result = AttemptResult {
            delivery_id: job.delivery_id.clone(),
            endpoint_id: endpoint.id.clone(),
            attempt: sent.record,
            next: decision.next,
            disable_endpoint: disable.clone(),
            health,
        };
        match self.inner.store.record_attempt(result).await {
            Ok(()) => {
                self.inner.metrics.delivery(decision.next);
                if let NextStep::RetryAt(at) = decision.next {
                    self.schedule([job.delivery_id.clone()], at);
                }
                self.report(&job, endpoint, last, decision.next, disable, change)
                    .await;
            }
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "could not record an attempt; the delivery stays pending");
                self.schedule([job.delivery_id], now_ms() + RECORD_FAILURE_BACKOFF_MS);
            }
        }
    }

    /// Sends one attempt to the endpoint's URL, or to the targets its strategy picks:
    /// a failover endpoint moves on to the next target when one does not answer or
    /// answers 5xx, and the attempt records the target that answered last.
    async fn send_to_targets(
        &self,
        endpoint: &EndpointTarget,
        gate: &gate::Gate,
        request: sign::SignedRequest,
        timeout: Duration,
        started: i64,
    ) -> send::Sent {
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
                classify::Ending::NoAnswer => true,
                classify::Ending::Status(s) => s >= 500,
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

    /// Publishes the operational events an attempt's recorded result calls for.
    async fn report(
        &self,
        job: &DeliveryJob,
        endpoint: &EndpointTarget,
        last: (Option<u16>, Option<String>),
        next: NextStep,
        disabled: Option<String>,
        change: Change,
    ) {
        let store = self.inner.store.as_ref();
        if next == NextStep::Failed {
            operational::delivery_failed(store, job, endpoint, last).await;
        }
        let (failures, since) = match change {
            Change::Recovered {
                failures,
                failing_since,
            } => {
                operational::endpoint_recovered(
                    store,
                    &job.scope,
                    endpoint,
                    failures,
                    failing_since,
                )
                .await;
                return;
            }
            Change::Disable {
                failures,
                failing_since,
            } => (failures, Some(failing_since)),
            Change::Opened | Change::None => (endpoint.failure_streak + 1, endpoint.failing_since),
        };
        if let Some(reason) = disabled {
            operational::endpoint_disabled(store, &job.scope, endpoint, &reason, failures, since)
                .await;
        }
    }

    async fn give_up(&self, job: &DeliveryJob, reason: &str) {
        tracing::info!(delivery = %job.delivery_id, reason, "delivery given up");
        match self
            .inner
            .store
            .give_up_delivery(&job.delivery_id, reason, now_ms())
            .await
        {
            Ok(()) => self.inner.metrics.given_up(),
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "could not mark a delivery failed")
            }
        }
    }

    /// The endpoint's gate; a new one resumes the circuit from the stored failure streak.
    fn endpoint_gate(&self, endpoint: &EndpointTarget) -> Arc<gate::Gate> {
        let mut map = self.lock_gates();
        let cap = self.inner.cfg.max_in_flight_per_endpoint;
        let policy = self.inner.cfg.circuit;
        if self.inner.claimer.is_some() && map.get(&endpoint.id).is_some_and(|g| g.is_disabled()) {
            // A claimed job's endpoint was read from the table just now and is enabled:
            // it was re-enabled since this gate disabled it, possibly by another process
            // (whose `forget_endpoint` cannot reach this one). Start from the stored state.
            map.remove(&endpoint.id);
        }
        Arc::clone(map.entry(endpoint.id.clone()).or_insert_with(|| {
            let circuit = Circuit::resume(
                policy,
                endpoint.failure_streak,
                endpoint.failing_since,
                tokio::time::Instant::now(),
            );
            Arc::new(gate::Gate::new(cap, circuit))
        }))
    }

    /// Drops what the dispatcher holds about an endpoint (its circuit, pauses, limiter)
    /// after the endpoint was changed, re-enabled or deleted; the next delivery starts
    /// from the stored state.
    pub fn forget_endpoint(&self, id: &EndpointId) {
        self.lock_gates().remove(id);
    }

    /// The endpoint's circuit (`closed`, `open`, `half_open`), if it has been used since
    /// the start.
    pub fn circuit_state(&self, id: &EndpointId) -> Option<&'static str> {
        self.lock_gates().get(id).map(|g| g.circuit_state())
    }

    /// How many endpoints this dispatcher holds a circuit for are `[closed, open,
    /// half_open]` (for `/metrics`).
    pub fn circuit_counts(&self) -> [usize; 3] {
        // Copied out first, so no circuit is locked while the map is.
        let gates: Vec<_> = self.lock_gates().values().cloned().collect();
        let mut counts = [0; 3];
        for gate in gates {
            match gate.circuit_state() {
                "open" => counts[1] += 1,
                "half_open" => counts[2] += 1,
                _ => counts[0] += 1,
            }
        }
        counts
    }

    fn lock_gates(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, Arc<gate::Gate>>> {
        self.inner
            .per_endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
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
        let mut set = inner.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id.clone()).then(|| Self {
            inner,
            id: id.clone(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.id);
    }
}
