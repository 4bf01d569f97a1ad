//! Operational events: what Hookrelay itself publishes about its endpoints and
//! deliveries, into a system scope, so operators subscribe to them like any other event
//! (an endpoint in [`SYSTEM_SCOPE`] subscribed to `endpoint.disabled` gets an alert).

use serde_json::{Value, json};

use crate::event_type::EventTypeDef;

/// The scope operational events are published into.
pub const SYSTEM_SCOPE: &str = "hookrelay:system";

/// An endpoint was disabled automatically (failing too long, or `410 Gone`).
pub const ENDPOINT_DISABLED: &str = "endpoint.disabled";
/// An endpoint whose circuit had opened answered again.
pub const ENDPOINT_RECOVERED: &str = "endpoint.recovered";
/// A delivery used up its retries.
pub const DELIVERY_FAILED: &str = "delivery.failed";

/// Whether `code` is one of the built-in operational types (not changeable by users).
pub fn is_builtin(code: &str) -> bool {
    matches!(
        code,
        ENDPOINT_DISABLED | ENDPOINT_RECOVERED | DELIVERY_FAILED
    )
}

/// The registry entries of the operational types, with their schemas.
pub fn builtin_types() -> Vec<EventTypeDef> {
    let endpoint = |extra: Value| {
        let mut props = json!({
            "scope": {"type": "string"},
            "endpoint": {"type": "string"},
            "url": {"type": "string"},
            "consecutive_failures": {"type": "integer"},
            "failing_since": {"type": ["string", "null"], "format": "date-time"}
        });
        if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
        json!({"type": "object", "required": ["scope", "endpoint"], "properties": props})
    };
    vec![
        EventTypeDef {
            code: ENDPOINT_DISABLED.to_owned(),
            name: "Endpoint disabled".to_owned(),
            description: Some(
                "Hookrelay disabled an endpoint: it kept failing for longer than the configured period, or answered 410 Gone. Re-enable it with PATCH {\"enabled\": true}.".to_owned(),
            ),
            schema: Some(endpoint(json!({"reason": {"type": "string"}}))),
        },
        EventTypeDef {
            code: ENDPOINT_RECOVERED.to_owned(),
            name: "Endpoint recovered".to_owned(),
            description: Some(
                "An endpoint whose circuit breaker had opened after consecutive failures answered successfully again.".to_owned(),
            ),
            schema: Some(endpoint(json!({}))),
        },
        EventTypeDef {
            code: DELIVERY_FAILED.to_owned(),
            name: "Delivery failed".to_owned(),
            description: Some(
                "A delivery used up its retry schedule without a 2xx answer (deliveries of operational events are not reported, so alerts cannot loop).".to_owned(),
            ),
            schema: Some(json!({
                "type": "object",
                "required": ["delivery_id", "event_id", "event_type", "scope", "endpoint"],
                "properties": {
                    "delivery_id": {"type": "string"},
                    "event_id": {"type": "string"},
                    "event_type": {"type": "string"},
                    "scope": {"type": "string"},
                    "endpoint": {"type": "string"},
                    "attempts": {"type": "integer"},
                    "last_status": {"type": ["integer", "null"]},
                    "last_error": {"type": ["string", "null"]}
                }
            })),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    #[test]
    fn builtin_types_are_valid_and_the_system_scope_parses() {
        assert!(Scope::parse(SYSTEM_SCOPE).is_ok());
        for def in builtin_types() {
            def.validate().unwrap();
            assert!(is_builtin(&def.code));
        }
        assert!(!is_builtin("order.paid"));
    }
}
