//! Which deliveries a batch of publishes (or an accepted inbound request) creates:
//! the decisions of the outbox, the same for every backend. [`crate::batch::publish`]
//! fetches the candidate endpoints and the used idempotency keys, and writes the result.

use std::collections::HashMap;
use std::sync::Arc;

use hookrelay_core::ids::{DeliveryId, EventId};
use hookrelay_core::subscription::Subscription;

use crate::error::{StoreError, StoreResult};
use crate::model::{
    DeliveryJob, EndpointTarget, IdempotencyKey, InboundPayload, NewEvent, NewInbound,
    PublishOutcome,
};

/// The scope holding a source's forward endpoints (`forward-1`, `forward-2`, …).
pub fn forward_scope(source: &str) -> String {
    format!("inbound:{source}")
}

/// The delivery `event_type` of a forward.
pub const FORWARD_TYPE: &str = "inbound";

/// The enabled, subscribed endpoints of one scope, each with its parsed subscription.
pub(crate) type Candidates = Vec<(Arc<EndpointTarget>, Subscription)>;

/// One candidate from an endpoint and its stored subscription (`events` JSON, filter);
/// `None` when the subscription no longer parses (it was validated when applied, so it
/// then matches nothing).
pub(crate) fn candidate(
    target: EndpointTarget,
    events_json: &str,
    filter: Option<serde_json::Value>,
) -> StoreResult<Option<(Arc<EndpointTarget>, Subscription)>> {
    let patterns: Vec<String> = serde_json::from_str(events_json)
        .map_err(|_| StoreError::Corrupt("subscriptions.events"))?;
    Ok(Subscription::parse(&patterns)
        .and_then(|s| s.with_filter(filter.as_ref()))
        .ok()
        .map(|sub| (Arc::new(target), sub)))
}

/// The idempotency keys a batch uses.
pub(crate) fn keys<'a>(events: &[&'a NewEvent]) -> Vec<&'a IdempotencyKey> {
    events
        .iter()
        .filter_map(|e| e.idempotency_key.as_ref())
        .collect()
}

/// The distinct scopes a batch targets.
pub(crate) fn scopes<'a>(events: &[&'a NewEvent]) -> Vec<&'a str> {
    let mut seen: Vec<&str> = events
        .iter()
        .flat_map(|e| e.scopes.iter().map(String::as_str))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen
}

/// What a batch of publishes does: one outcome per event, in order (a duplicate of a
/// used key, or of an earlier event of the batch, queues nothing), and the events to
/// insert. `existing` maps used keys to (event id, deliveries); `by_scope` holds each
/// targeted scope's candidates.
pub(crate) fn plan<'a>(
    events: &[&'a NewEvent],
    existing: &HashMap<IdempotencyKey, (EventId, usize)>,
    by_scope: &HashMap<String, Candidates>,
) -> (Vec<PublishOutcome>, Vec<&'a NewEvent>) {
    let mut outcomes: Vec<PublishOutcome> = Vec::with_capacity(events.len());
    let mut new_events: Vec<&NewEvent> = Vec::with_capacity(events.len());
    let mut first_with_key: HashMap<&IdempotencyKey, usize> = HashMap::new();
    for &event in events {
        if let Some(key) = event.idempotency_key.as_ref() {
            if let Some((id, n)) = existing.get(key) {
                outcomes.push(duplicate(id.clone(), *n));
                continue;
            }
            if let Some(&i) = first_with_key.get(key) {
                let first: &PublishOutcome = &outcomes[i];
                outcomes.push(duplicate(first.event_id.clone(), first.deliveries));
                continue;
            }
            first_with_key.insert(key, outcomes.len());
        }
        let jobs = fan_out(event, by_scope);
        new_events.push(event);
        outcomes.push(PublishOutcome {
            event_id: event.id.clone(),
            duplicate: false,
            deliveries: jobs.len(),
            jobs,
        });
    }
    (outcomes, new_events)
}

/// One new delivery per endpoint of the event's scopes whose subscription accepts it
/// (or only to the one endpoint a test event names).
fn fan_out(event: &NewEvent, by_scope: &HashMap<String, Candidates>) -> Vec<DeliveryJob> {
    let data: Arc<str> = Arc::from(event.data.as_str());
    // Parsed only if some subscription filters on the payload.
    let parsed: std::cell::OnceCell<Option<serde_json::Value>> = std::cell::OnceCell::new();
    let mut jobs = Vec::new();
    for scope in &event.scopes {
        for (endpoint, sub) in by_scope.get(scope.as_str()).into_iter().flatten() {
            let data_value = || {
                parsed
                    .get_or_init(|| serde_json::from_str(&event.data).ok())
                    .as_ref()
            };
            let wanted = match &event.only_endpoint {
                Some(code) => endpoint.code == *code,
                None => sub.accepts(&event.event_type, data_value),
            };
            if wanted {
                jobs.push(DeliveryJob {
                    delivery_id: DeliveryId::generate(),
                    attempts_made: 0,
                    due_at: event.created_at,
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    event_created_at: event.created_at,
                    data: Arc::clone(&data),
                    scope: scope.clone(),
                    endpoint: Some(Arc::clone(endpoint)),
                    inbound: None,
                });
            }
        }
    }
    jobs
}

fn duplicate(event_id: EventId, deliveries: usize) -> PublishOutcome {
    PublishOutcome {
        event_id,
        duplicate: true,
        deliveries,
        jobs: Vec::new(),
    }
}

/// The forward deliveries of an accepted request: one per enabled endpoint of the
/// source's forward scope, each carrying the request as received.
pub(crate) fn forwards(req: &NewInbound, targets: Vec<EndpointTarget>) -> Vec<DeliveryJob> {
    let scope = forward_scope(&req.source);
    let payload = Arc::new(InboundPayload {
        request_id: req.id.clone(),
        source: req.source.clone(),
        verified: req.verified.clone().unwrap_or_default(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    });
    targets
        .into_iter()
        .map(|target| DeliveryJob {
            delivery_id: DeliveryId::generate(),
            attempts_made: 0,
            due_at: req.received_at,
            // A forward's "event" is the request: its id is the delivery's event_id.
            event_id: EventId::from_stored(req.id.to_string()),
            event_type: FORWARD_TYPE.to_owned(),
            event_created_at: req.received_at,
            data: Arc::from(""),
            scope: scope.clone(),
            endpoint: Some(Arc::new(target)),
            inbound: Some(Arc::clone(&payload)),
        })
        .collect()
}
