use std::collections::BTreeMap;
use std::sync::Arc;

use hookrelay_core::endpoint::OutboundAuth;
use hookrelay_core::ids::{DeliveryId, EndpointId, EventId};

/// An event to publish, validated by the API.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its id, chosen before the write.
    pub id: EventId,
    /// The event type code (registered, not archived).
    pub event_type: String,
    /// Target scopes, deduplicated.
    pub scopes: Vec<String>,
    /// The `data` JSON, as the publisher sent it.
    pub data: String,
    /// Makes a repeated publish a no-op (within the key's namespace).
    pub idempotency_key: Option<IdempotencyKey>,
    /// Unix ms.
    pub created_at: i64,
    /// Deliver only to the endpoint with this code (a test event sent from the
    /// dashboard): its subscription's patterns and filter are not consulted, but it must
    /// be enabled and have a subscription.
    pub only_endpoint: Option<String>,
}

/// An idempotency key and the namespace it is unique in. Keys of different namespaces
/// never match, so one publisher's key can neither suppress nor reveal another's event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// Whose key it is: the publisher's namespace (the server uses `admin` for the admin
    /// token and `scopes:` + the token's sorted scopes for a scoped token).
    pub namespace: String,
    /// The key as the publisher sent it.
    pub key: String,
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The event's id: the new one, or the original on a duplicate.
    pub event_id: EventId,
    /// True when the idempotency key had been used: nothing was queued.
    pub duplicate: bool,
    /// How many deliveries the event has.
    pub deliveries: usize,
    /// The new deliveries, ready to send (handed to the job feed, so empty by the time
    /// the caller sees the outcome).
    pub jobs: Vec<DeliveryJob>,
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Its id.
    pub id: EventId,
    /// Its type code.
    pub event_type: String,
    /// Target scopes.
    pub scopes: Vec<String>,
    /// The `data` JSON text.
    pub data: String,
    /// The idempotency key it was published with.
    pub idempotency_key: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// Filters of the event log.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events that targeted this scope.
    pub scope: Option<String>,
    /// Events of this type.
    pub event_type: Option<String>,
    /// Published at or after (unix ms).
    pub since: Option<i64>,
    /// Published before (unix ms).
    pub until: Option<i64>,
    /// Events published with this idempotency key (in any namespace; the key is unique
    /// only within its publisher's).
    pub idempotency_key: Option<String>,
    /// Only events targeting one of these scopes (a scoped caller).
    pub allowed_scopes: Option<Vec<String>>,
}

/// Everything the dispatcher needs to make one attempt, without another query.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// Attempts made before this one.
    pub attempts_made: u32,
    /// When this attempt is due (unix ms).
    pub due_at: i64,
    /// The event (its id is the `webhook-id`).
    pub event_id: EventId,
    /// The event type code.
    pub event_type: String,
    /// When the event was published (unix ms).
    pub event_created_at: i64,
    /// The event's `data` JSON.
    pub data: Arc<str>,
    /// The receiving endpoint's scope.
    pub scope: String,
    /// The receiving endpoint; `None` when it was deleted since.
    pub endpoint: Option<Arc<EndpointTarget>>,
    /// For a forward of an inbound request: the request as received (sent as it is,
    /// instead of an envelope).
    pub inbound: Option<super::SharedPayload>,
}

/// The parts of an endpoint a delivery uses.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointTarget {
    /// Its id.
    pub id: EndpointId,
    /// Its code.
    pub code: String,
    /// Where to send (the first target when `targets` is set).
    pub url: String,
    /// Several destinations and how to pick them.
    pub targets: Option<hookrelay_core::balance::Targets>,
    /// `whsec_…`.
    pub secret: String,
    /// Custom headers.
    pub headers: BTreeMap<String, String>,
    /// Outbound credentials.
    pub auth: Option<OutboundAuth>,
    /// Per-attempt timeout.
    pub timeout_ms: Option<u32>,
    /// Deliveries per second.
    pub rate_limit: Option<u32>,
    /// Disabled endpoints receive nothing.
    pub enabled: bool,
    /// The secret a rotation replaced, and until when (unix ms) it still signs.
    pub previous_secret: Option<(String, i64)>,
    /// Consecutive failed attempts so far.
    pub failure_streak: u32,
    /// When the current run of failures began (unix ms).
    pub failing_since: Option<i64>,
}
