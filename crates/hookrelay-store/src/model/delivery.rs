use std::collections::BTreeMap;

use hookrelay_core::ids::{DeliveryId, EndpointId, EventId};
use serde::Serialize;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or in flight).
    Pending,
    /// A 2xx was received.
    Succeeded,
    /// Retries exhausted, or the endpoint is gone.
    Failed,
}

impl DeliveryStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A stored delivery.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    /// Its id.
    pub id: DeliveryId,
    /// The event.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: String,
    /// The endpoint's scope.
    pub scope: String,
    /// The endpoint's code.
    pub endpoint: String,
    /// The endpoint's id.
    pub endpoint_id: EndpointId,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<i64>,
    /// The error of the last failed attempt, or why the delivery was given up.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Deliveries to endpoints of this scope.
    pub scope: Option<String>,
    /// Deliveries to endpoints with this code.
    pub endpoint: Option<String>,
    /// Deliveries of this event.
    pub event_id: Option<String>,
    /// Deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Deliveries of events of this type.
    pub event_type: Option<String>,
    /// Created at or after this time (unix ms).
    pub since: Option<i64>,
    /// Created before this time (unix ms).
    pub until: Option<i64>,
    /// Only deliveries in these scopes (a scoped caller).
    pub allowed_scopes: Option<Vec<String>>,
}

/// One HTTP try of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    /// 1 for the first try.
    pub n: u32,
    /// When it started (unix ms).
    pub at: i64,
    /// The URL requested.
    pub url: String,
    /// The response status; `None` on a network error or time-out.
    pub status_code: Option<u16>,
    /// How long it took.
    pub duration_ms: u64,
    /// What went wrong, for a person.
    pub error: Option<String>,
    /// The request headers sent, credentials redacted.
    pub request_headers: BTreeMap<String, String>,
    /// The response headers.
    pub response_headers: BTreeMap<String, String>,
    /// The first 64 KiB of the response body.
    pub response_body: Option<String>,
    /// Targets a failover endpoint tried first in this attempt, and why each was left.
    pub failed_over: Vec<TargetFailure>,
}

/// A target a failover attempt moved past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TargetFailure {
    /// The target.
    pub url: String,
    /// Its status, or the network error.
    pub error: String,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Done.
    Succeeded,
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// No more attempts.
    Failed,
}

/// The outcome of an attempt, to record.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// The endpoint it went to.
    pub endpoint_id: EndpointId,
    /// The attempt (its `n` is assigned by the store).
    pub attempt: AttemptRecord,
    /// The delivery's next state.
    pub next: NextStep,
    /// Disable the endpoint, with this reason (a 410, or failing for too long).
    pub disable_endpoint: Option<String>,
    /// What the attempt says about the endpoint's health.
    pub health: Health,
    /// The delivery's due time when it was taken for this attempt ([`DeliveryJob::due_at`]).
    /// A manual retry or recovery moves it, so a result that arrives after one is kept
    /// as history and leaves the re-queued delivery alone.
    pub due_at: i64,
    /// The end of the lease the attempt was made under (a row claimed from a store that
    /// several processes share), as last renewed; `None` for an unleased job. A result
    /// whose lease is no longer the row's (it ran out and another worker took the row)
    /// is kept as history and changes nothing else.
    pub lease_until: Option<i64>,
}

/// A pending delivery given up without an attempt (its endpoint was deleted or disabled,
/// or its secret is unusable), under the same compare-and-set as an attempt result: a
/// worker that lost its lease, or a delivery re-queued by hand meanwhile, is left alone.
#[derive(Debug, Clone)]
pub struct GiveUp {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// Why; shown as the delivery's last error.
    pub reason: String,
    /// When (unix ms).
    pub at: i64,
    /// The delivery's due time when it was taken ([`AttemptResult::due_at`]).
    pub due_at: i64,
    /// The lease it was taken under, as last renewed ([`AttemptResult::lease_until`]).
    pub lease_until: Option<i64>,
}

/// What recording an attempt did to its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The delivery moved on as the result said (succeeded, due again, failed).
    Applied,
    /// The attempt row was kept, but the delivery had moved on without it: another
    /// worker holds or settled it, or it was re-queued by hand while in flight. Nothing
    /// about the delivery may be reported from this result.
    Superseded,
}

/// What one attempt says about its endpoint's health (the failure streak the circuit
/// breaker and auto-disable read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// A 2xx: the streak ends.
    Success,
    /// A failure: the streak grows (and starts now if there was none).
    Failure,
    /// Says nothing either way (e.g. 429: the receiver is up but busy).
    Neutral,
}
