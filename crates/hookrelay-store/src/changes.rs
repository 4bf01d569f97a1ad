//! The rules of an update, the same for every backend: what a patch makes of an
//! endpoint, when an apply counts as a change, why an endpoint is disabled, and when
//! an event type is already as listed.

use hookrelay_core::event_type::EventTypeDef;

use crate::model::{EndpointInput, EndpointPatch, EndpointRecord, EventTypeRecord};

/// The `disabled_reason` of an endpoint a user disabled.
pub(crate) const DISABLED_BY_USER: &str = "disabled by user";

/// The full input a patch makes of `existing` (its secret is kept).
pub(crate) fn patched(existing: &EndpointRecord, patch: EndpointPatch) -> EndpointInput {
    EndpointInput {
        code: existing.code.clone(),
        name: patch.name.unwrap_or_else(|| existing.name.clone()),
        url: patch.url.unwrap_or_else(|| existing.url.clone()),
        targets: patch.targets.unwrap_or_else(|| existing.targets.clone()),
        enabled: patch.enabled.unwrap_or(existing.enabled),
        headers: patch.headers.unwrap_or_else(|| existing.headers.clone()),
        auth: patch.auth.unwrap_or_else(|| existing.auth.clone()),
        timeout_ms: patch.timeout_ms.unwrap_or(existing.timeout_ms),
        rate_limit: patch.rate_limit.unwrap_or(existing.rate_limit),
        secret: None,
        generated_secret: String::new(),
    }
}

/// Whether applying `input` would change `existing`.
pub(crate) fn differs(existing: &EndpointRecord, input: &EndpointInput) -> bool {
    existing.name != input.name
        || existing.url != input.url
        || existing.targets != input.targets
        || existing.enabled != input.enabled
        || existing.headers != input.headers
        || existing.auth != input.auth
        || existing.timeout_ms != input.timeout_ms
        || existing.rate_limit != input.rate_limit
        || input.secret.as_ref().is_some_and(|s| *s != existing.secret)
}

/// The `disabled_reason` after writing `input` over `existing`: an endpoint that stays
/// disabled keeps its reason (e.g. `gone (410)`).
pub(crate) fn disabled_reason(existing: &EndpointRecord, input: &EndpointInput) -> Option<String> {
    match (input.enabled, existing.enabled) {
        (true, _) => None,
        (false, false) => existing.disabled_reason.clone(),
        (false, true) => Some(DISABLED_BY_USER.to_owned()),
    }
}

/// Whether writing `input` re-enables `existing`. Re-enabling gives an endpoint a fresh
/// start: without clearing its failure streak, the next failure would disable it again
/// at once.
pub(crate) fn reenables(existing: &EndpointRecord, input: &EndpointInput) -> bool {
    input.enabled && !existing.enabled
}

/// Whether a stored type is already exactly `def` (and live).
pub(crate) fn type_unchanged(existing: &EventTypeRecord, def: &EventTypeDef) -> bool {
    !existing.archived
        && existing.name == def.name
        && existing.description == def.description
        && existing.schema == def.schema
}
