//! What `GET /metrics` exposes, in Prometheus' text format.
//!
//! Each [`crate::Server`] builds its own recorder ([`Metrics::new`]) instead of
//! installing a process-global one: several servers share one process in the tests (and
//! could in an embedding program), and a global recorder would add their numbers up.
//! Everything is recorded through a [`Metrics`] handle that the dispatcher, the API and
//! the inbound gateway are given a clone of.
//!
//! # Layout
//! - here: the recorder, the names and the handles of the hot paths, resolved once.
//! - [`scrape`]: the route, and the gauges computed when it is scraped.
//! - [`publishes`]: the middleware that counts `POST /api/v1/events` by its answer.

pub mod publishes;
pub mod scrape;

use std::sync::Arc;
use std::time::Duration;

use hookrelay_store::model::NextStep;
use metrics::{Counter, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use tokio_util::sync::CancellationToken;

/// `hookrelay_events_published_total{outcome}`.
pub const EVENTS_PUBLISHED: &str = "hookrelay_events_published_total";
/// `hookrelay_deliveries_total{outcome}`.
pub const DELIVERIES: &str = "hookrelay_deliveries_total";
/// `hookrelay_attempts_total{status_class}`.
pub const ATTEMPTS: &str = "hookrelay_attempts_total";
/// `hookrelay_attempt_duration_seconds` (histogram).
pub const ATTEMPT_DURATION: &str = "hookrelay_attempt_duration_seconds";
/// `hookrelay_deliveries_pending` (gauge).
pub const PENDING: &str = "hookrelay_deliveries_pending";
/// `hookrelay_oldest_pending_delivery_age_seconds` (gauge).
pub const OLDEST_PENDING_AGE: &str = "hookrelay_oldest_pending_delivery_age_seconds";
/// `hookrelay_inbound_requests_total{source,outcome}`.
pub const INBOUND_REQUESTS: &str = "hookrelay_inbound_requests_total";
/// `hookrelay_endpoint_circuits{state}` (gauge).
pub const ENDPOINT_CIRCUITS: &str = "hookrelay_endpoint_circuits";
/// `hookrelay_store_transactions_total`.
pub const STORE_TRANSACTIONS: &str = "hookrelay_store_transactions_total";
/// `hookrelay_store_writes_total`.
pub const STORE_WRITES: &str = "hookrelay_store_writes_total";

/// Upper bounds of the attempt duration buckets, in seconds: from a fast local
/// receiver up to the longest attempt timeout worth waiting for.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into their buckets between scrapes; without
/// it a server nobody scrapes would keep every sample in memory.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// How a request to publish or an inbound request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, and its deliveries queued.
    Accepted,
    /// A repeat of one recorded already (idempotency key, or the source's dedupe).
    Duplicate,
    /// Refused (invalid, unauthorized, too large, …).
    Rejected,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Rejected => "rejected",
        }
    }
}

/// A cheap handle to one server's metrics.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    /// By [`Outcome`]: accepted, duplicate, rejected.
    published: [Counter; 3],
    /// Succeeded, retry, failed, given up.
    deliveries: [Counter; 4],
    /// 2xx, 3xx, 4xx, 5xx, network.
    attempts: [Counter; 5],
    attempt_duration: Histogram,
}

impl Metrics {
    /// A recorder of its own, with every metric described and the hot-path handles
    /// registered (so the counters show, at 0, before anything happened).
    pub fn new() -> anyhow::Result<Self> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(ATTEMPT_DURATION.to_owned()),
                &DURATION_BUCKETS,
            )?
            .build_recorder();
        let (published, deliveries, attempts, attempt_duration) =
            metrics::with_local_recorder(&recorder, || {
                describe();
                let published = ["accepted", "duplicate", "rejected"]
                    .map(|outcome| metrics::counter!(EVENTS_PUBLISHED, "outcome" => outcome));
                let deliveries = ["succeeded", "retry", "failed", "given_up"]
                    .map(|outcome| metrics::counter!(DELIVERIES, "outcome" => outcome));
                let attempts = ["2xx", "3xx", "4xx", "5xx", "network"]
                    .map(|class| metrics::counter!(ATTEMPTS, "status_class" => class));
                let attempt_duration = metrics::histogram!(ATTEMPT_DURATION);
                (published, deliveries, attempts, attempt_duration)
            });
        Ok(Self {
            inner: Arc::new(Inner {
                recorder,
                published,
                deliveries,
                attempts,
                attempt_duration,
            }),
        })
    }

    /// Counts a `POST /api/v1/events`.
    pub fn published(&self, outcome: Outcome) {
        let i = match outcome {
            Outcome::Accepted => 0,
            Outcome::Duplicate => 1,
            Outcome::Rejected => 2,
        };
        self.inner.published[i].increment(1);
    }

    /// Counts one HTTP attempt: `status` is the answer's (`None`: no answer at all),
    /// `took` how long it took, failovers included.
    pub fn attempt(&self, status: Option<u16>, took: Duration) {
        let class = match status {
            None => 4,
            Some(200..=299) => 0,
            Some(300..=399) => 1,
            Some(400..=499) => 2,
            // 5xx, and whatever else a receiver may send: a failure on its side.
            Some(_) => 3,
        };
        self.inner.attempts[class].increment(1);
        self.inner.attempt_duration.record(took.as_secs_f64());
    }

    /// Counts an attempt's recorded outcome for its delivery.
    pub fn delivery(&self, next: NextStep) {
        let i = match next {
            NextStep::Succeeded => 0,
            NextStep::RetryAt(_) => 1,
            NextStep::Failed => 2,
        };
        self.inner.deliveries[i].increment(1);
    }

    /// Counts a delivery given up without an attempt (its endpoint disabled or deleted,
    /// its secret unusable).
    pub fn given_up(&self) {
        self.inner.deliveries[3].increment(1);
    }

    /// Counts a request to the inbound gateway of the configured source `source` (only
    /// configured sources: an unknown name in the path must not make a new series).
    pub fn inbound(&self, source: &str, outcome: Outcome) {
        // A label lookup per request: sources are few and set at run time.
        self.with(|| {
            metrics::counter!(INBOUND_REQUESTS, "source" => source.to_owned(), "outcome" => outcome.label())
                .increment(1);
        });
    }

    /// Folds histogram samples into buckets every few seconds until `cancel`.
    pub fn spawn_upkeep(&self, cancel: CancellationToken) {
        let handle = self.inner.recorder.handle();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = every.tick() => handle.run_upkeep(),
                }
            }
        });
    }

    /// Runs `f` with this server's recorder as the one the `metrics` macros use.
    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.inner.recorder, f)
    }

    /// The exposition text.
    fn render(&self) -> String {
        self.inner.recorder.handle().render()
    }
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        EVENTS_PUBLISHED,
        Unit::Count,
        "Requests to publish an event, by outcome (accepted, duplicate, rejected)."
    );
    describe_counter!(
        DELIVERIES,
        Unit::Count,
        "Recorded delivery outcomes, by outcome: succeeded, retry (an attempt failed and another is scheduled), failed (no attempts left), given_up (not attempted: endpoint disabled or deleted, signing secret unusable)."
    );
    describe_counter!(
        ATTEMPTS,
        Unit::Count,
        "HTTP delivery attempts, by the answer's status class (2xx, 3xx, 4xx, 5xx; network: no answer)."
    );
    describe_histogram!(
        ATTEMPT_DURATION,
        Unit::Seconds,
        "How long delivery attempts took, failovers included."
    );
    describe_gauge!(
        PENDING,
        Unit::Count,
        "Deliveries pending in the store (waiting, retrying or in flight), read at scrape time."
    );
    describe_gauge!(
        OLDEST_PENDING_AGE,
        Unit::Seconds,
        "Age of the oldest pending delivery (0 when none is pending), read at scrape time."
    );
    describe_counter!(
        INBOUND_REQUESTS,
        Unit::Count,
        "Requests to the inbound gateway of a configured source, by source and outcome (accepted, duplicate, rejected)."
    );
    describe_gauge!(
        ENDPOINT_CIRCUITS,
        Unit::Count,
        "Endpoints this process's dispatcher has sent to, by circuit state (closed, open, half_open)."
    );
    describe_counter!(
        STORE_TRANSACTIONS,
        Unit::Count,
        "Transactions the store's group commit made."
    );
    describe_counter!(
        STORE_WRITES,
        Unit::Count,
        "Hot-path writes (publishes, attempt results) those transactions carried."
    );
}
