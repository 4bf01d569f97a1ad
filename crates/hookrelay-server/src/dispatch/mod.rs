//! The dispatcher: turns due deliveries into signed HTTP attempts.
//!
//! # Layout
//! - this file: the [`Dispatcher`] handle, start-up (recovery, the job feed), the
//!   schedule loop, the task spawned per due delivery, and shutdown.
//! - [`attempt`]: one delivery's task up to its [`attempt::Outcome`]: load or take the
//!   job, mark it in flight, pass the endpoint's gate and a global slot, keep a claim's
//!   lease, sign, send (failing over across targets).
//! - [`settle`]: what an outcome does: the decision, the circuit and auto-disable, the
//!   record in the store, metrics, the retry put in the schedule, operational events;
//!   and giving a delivery up unsent.
//! - [`schedule`]: the in-memory timer queue of waiting deliveries.
//! - [`sign`]: where a delivery is signed (body and headers of one attempt).
//! - [`forward`]: the same for a forward of an inbound request (sent as received).
//! - [`send`]: one HTTP request to one URL and what it recorded.
//! - [`classify`]: how an attempt ended, what that says about the endpoint's health
//!   (the one value the circuit and the stored failure streak take), and the decision:
//!   success, retry at a time, or give up.
//! - [`gate`]: per-endpoint concurrency, rate limit, 429/503 pauses and the circuit;
//!   the dispatcher's gate per endpoint.
//! - [`circuit`]: the circuit breaker and auto-disable of one endpoint.
//! - [`operational`]: the events Hookrelay publishes about endpoints and deliveries.
//! - [`client`]: the pooled HTTP client (bundled web PKI roots, guarded DNS).
//! - [`claim`]: claiming leased rows from a store several processes share (PostgreSQL).
//! - [`share`]: this worker's share of every endpoint's rate and concurrency, from the
//!   live workers it counts in the store (heartbeats).
//!
//! The table is the queue on both backends: the dispatcher claims due rows in bounded
//! batches (see [`claim`]) when the store signals a commit with new work, when one of
//! its retries falls due, when it has room again, and every poll interval; its schedule
//! only says when to claim. On SQLite the store also hands new deliveries straight over
//! on its job feed, already claimed, while fewer than a bounded number are claimed (no
//! read on the hot path); the rest wait in the table. Memory holds what is in flight,
//! never the backlog. A store with a feed and no work signal (none today) would have its
//! pending rows loaded at start-up and its retries kept in the schedule.
//! Each endpoint has a [`gate`] (concurrency cap, rate limit, pause after 429/503)
//! passed before a global semaphore is taken, so a slow or throttling endpoint holds at
//! most its own share of the global slots.

mod attempt;
mod circuit;
mod claim;
mod classify;
pub mod client;
mod forward;
mod gate;
mod operational;
mod schedule;
mod send;
mod settle;
mod share;
mod sign;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::{DeliveryId, EndpointId};
use hookrelay_core::retry::RetrySchedule;
use hookrelay_store::Store;
use hookrelay_store::model::DeliveryJob;
use rustls::pki_types::CertificateDer;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use schedule::{Item, Schedule};

use crate::metrics::Metrics;
use crate::ssrf::Guard;
pub use circuit::CircuitPolicy;

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
    /// This worker's share of every endpoint's limits.
    share: Arc<share::Share>,
    metrics: Metrics,
}

/// The most claim wake-ups the schedule holds (see [`Dispatcher::schedule`]).
pub const MAX_CLAIM_WAKES: usize = 4096;

/// A delay before trying a delivery again when the store could not load it or record
/// its attempt.
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
        let share = Arc::new(share::Share::new());
        let claimer = store.work_signal().map(|signal| {
            Arc::new(claim::Claimer::new(
                signal,
                cfg.default_timeout,
                cfg.poll_interval,
                cfg.max_in_flight_per_endpoint,
                Arc::clone(&share),
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
                share,
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
            // A count, not the rows: the backlog stays in the table.
            let pending = self.inner.store.pending_stats().await?.count as usize;
            if let Some(feed) = feed {
                let (this, claimer) = (self.clone(), Arc::clone(claimer));
                tokio::spawn(async move { this.run_feed(claimer, feed).await });
            }
            self.join_workers().await;
            let this = self.clone();
            // Tracked, so shutdown waits for the worker to leave the workers table.
            self.inner
                .tracker
                .spawn(async move { this.run_heartbeat().await });
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
    /// When rows are claimed from the table, an entry only says when to claim next, so
    /// the schedule keeps at most [`MAX_CLAIM_WAKES`] of them: a retry past that is
    /// found by the claim that follows an earlier wake or by the poll, and memory does
    /// not grow with the number of deliveries waiting for a retry.
    pub fn schedule(&self, ids: impl IntoIterator<Item = DeliveryId>, due: i64) {
        {
            let mut schedule = self.lock_schedule();
            for id in ids {
                if self.inner.claimer.is_some() && schedule.len() >= MAX_CLAIM_WAKES {
                    break;
                }
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

    /// Takes the new deliveries the store claimed for this dispatcher at commit time (a
    /// bounded number: the rest wait in the table for a claim) and starts them as
    /// claimed ones, so they count against the same room.
    async fn run_feed(
        &self,
        claimer: Arc<claim::Claimer>,
        mut feed: mpsc::UnboundedReceiver<DeliveryJob>,
    ) {
        loop {
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                job = feed.recv() => match job {
                    Some(job) => {
                        claimer.hold(job.endpoint.as_ref().map(|e| &e.id));
                        let lease_until = now_ms() + claimer.lease_ms;
                        self.launch_claimed(Item::Claimed(Box::new(job), lease_until));
                    }
                    None => break,
                },
            }
        }
    }

    /// Starts a claimed delivery's task; the claim loop counted it already.
    fn launch_claimed(&self, item: Item) {
        let this = self.clone();
        self.inner
            .tracker
            .spawn(async move { this.run(item).await });
    }
}
