//! Publishing the operational events (`endpoint.disabled`, `endpoint.recovered`,
//! `delivery.failed`) into the system scope, through the same store and outbox as any
//! event, so subscribed endpoints receive them with retries and history.

use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_core::ids::EventId;
use hookrelay_core::operational::{
    DELIVERY_FAILED, ENDPOINT_DISABLED, ENDPOINT_RECOVERED, SYSTEM_SCOPE,
};
use hookrelay_store::Store;
use hookrelay_store::model::{DeliveryJob, EndpointTarget, NewEvent};
use serde_json::{Value, json};

/// Publishes one operational event; a failure is logged, never passed on (the attempt
/// that caused it is already recorded).
pub(crate) async fn publish(store: &dyn Store, event_type: &str, data: Value) {
    let event = NewEvent {
        id: EventId::generate(),
        event_type: event_type.to_owned(),
        scopes: vec![SYSTEM_SCOPE.to_owned()],
        data: data.to_string(),
        idempotency_key: None,
        created_at: now_ms(),
        only_endpoint: None,
    };
    if let Err(e) = store.publish(event).await {
        tracing::error!(event_type, error = %e, "could not publish an operational event");
    }
}

fn endpoint_fields(
    scope: &str,
    endpoint: &EndpointTarget,
    failures: u32,
    since: Option<i64>,
) -> Value {
    json!({
        "scope": scope,
        "endpoint": endpoint.code,
        "url": endpoint.url,
        "consecutive_failures": failures,
        "failing_since": since.map(to_rfc3339),
    })
}

/// `endpoint.disabled`.
pub(crate) async fn endpoint_disabled(
    store: &dyn Store,
    scope: &str,
    endpoint: &EndpointTarget,
    reason: &str,
    failures: u32,
    since: Option<i64>,
) {
    let mut data = endpoint_fields(scope, endpoint, failures, since);
    data["reason"] = json!(reason);
    publish(store, ENDPOINT_DISABLED, data).await;
}

/// `endpoint.recovered`.
pub(crate) async fn endpoint_recovered(
    store: &dyn Store,
    scope: &str,
    endpoint: &EndpointTarget,
    failures: u32,
    since: Option<i64>,
) {
    publish(
        store,
        ENDPOINT_RECOVERED,
        endpoint_fields(scope, endpoint, failures, since),
    )
    .await;
}

/// `delivery.failed`, except for deliveries of the system scope (an alert about a failed
/// alert could loop).
pub(crate) async fn delivery_failed(
    store: &dyn Store,
    job: &DeliveryJob,
    endpoint: &EndpointTarget,
    (last_status, last_error): (Option<u16>, Option<String>),
) {
    if job.scope == SYSTEM_SCOPE {
        return;
    }
    let data = json!({
        "delivery_id": job.delivery_id.as_str(),
        "event_id": job.event_id.as_str(),
        "event_type": job.event_type,
        "scope": job.scope,
        "endpoint": endpoint.code,
        "attempts": job.attempts_made + 1,
        "last_status": last_status,
        "last_error": last_error,
    });
    publish(store, DELIVERY_FAILED, data).await;
}
