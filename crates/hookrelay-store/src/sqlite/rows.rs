//! Turning rows into records.

use std::collections::BTreeMap;

use hookrelay_core::ids::{DeliveryId, EndpointId, EventId, TokenId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::*;

/// The endpoint columns every endpoint query selects from `endpoints ep`, as a literal
/// so that queries stay `&'static str` (and cached as prepared statements).
macro_rules! endpoint_columns {
    () => {
        "ep.id AS ep_id, ep.scope AS ep_scope, ep.code AS ep_code, ep.name AS ep_name, ep.url AS ep_url, \
         ep.enabled AS ep_enabled, ep.disabled_reason AS ep_disabled_reason, ep.headers AS ep_headers, \
         ep.auth AS ep_auth, ep.timeout_ms AS ep_timeout_ms, ep.rate_limit AS ep_rate_limit, \
         ep.secret AS ep_secret, ep.created_at AS ep_created_at, ep.updated_at AS ep_updated_at, \
         ep.previous_secret AS ep_previous_secret, \
         ep.previous_secret_expires_at AS ep_previous_secret_expires_at, \
         ep.failure_streak AS ep_failure_streak, ep.failing_since AS ep_failing_since, \
         ep.targets AS ep_targets"
    };
}
pub(crate) use endpoint_columns;

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    col: &str,
    what: &'static str,
) -> StoreResult<Option<T>> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| StoreError::Corrupt(what)))
        .transpose()
}

pub(crate) fn endpoint(row: &SqliteRow, cipher: &Cipher) -> StoreResult<EndpointRecord> {
    let subs: Option<String> = row.try_get("sub_events").ok().flatten();
    let subscriptions = match subs {
        Some(t) => {
            serde_json::from_str(&t).map_err(|_| StoreError::Corrupt("subscriptions.events"))?
        }
        None => Vec::new(),
    };
    let t = target(row, cipher)?;
    Ok(EndpointRecord {
        id: t.id,
        scope: row.try_get("ep_scope")?,
        code: t.code,
        name: row.try_get("ep_name")?,
        url: t.url,
        targets: t.targets,
        enabled: t.enabled,
        disabled_reason: row.try_get("ep_disabled_reason")?,
        headers: t.headers,
        auth: t.auth,
        timeout_ms: t.timeout_ms,
        rate_limit: t.rate_limit,
        secret: t.secret,
        previous_secret: t.previous_secret,
        failure_streak: t.failure_streak,
        failing_since: t.failing_since,
        subscriptions,
        created_at: row.try_get("ep_created_at")?,
        updated_at: row.try_get("ep_updated_at")?,
    })
}

/// The parts of an endpoint row a delivery needs (also the core of [`endpoint`]).
pub(crate) fn target(row: &SqliteRow, cipher: &Cipher) -> StoreResult<EndpointTarget> {
    let id: String = row.try_get("ep_id")?;
    let open = |col: &str, kind: &'static str| -> StoreResult<Option<String>> {
        row.try_get::<Option<String>, _>(col)?
            .map(|sealed| super::sealing::open_endpoint_value(cipher, &id, kind, &sealed))
            .transpose()
    };
    let secret = open("ep_secret", "secret")?.ok_or(StoreError::Corrupt("endpoints.secret"))?;
    let headers = match open("ep_headers", "headers")? {
        Some(text) => serde_json::from_str::<BTreeMap<String, String>>(&text)
            .map_err(|_| StoreError::Corrupt("endpoints.headers"))?,
        None => BTreeMap::new(),
    };
    let auth = open("ep_auth", "auth")?
        .map(|text| serde_json::from_str(&text).map_err(|_| StoreError::Corrupt("endpoints.auth")))
        .transpose()?;
    Ok(EndpointTarget {
        code: row.try_get("ep_code")?,
        url: row.try_get("ep_url")?,
        targets: json_col(row, "ep_targets", "endpoints.targets")?,
        secret,
        headers,
        auth,
        timeout_ms: row
            .try_get::<Option<i64>, _>("ep_timeout_ms")?
            .map(|v| v as u32),
        rate_limit: row
            .try_get::<Option<i64>, _>("ep_rate_limit")?
            .map(|v| v as u32),
        enabled: row.try_get("ep_enabled")?,
        previous_secret: match (
            open("ep_previous_secret", "secret")?,
            row.try_get::<Option<i64>, _>("ep_previous_secret_expires_at")?,
        ) {
            (Some(secret), Some(until)) => Some((secret, until)),
            _ => None,
        },
        failure_streak: row.try_get::<i64, _>("ep_failure_streak")?.max(0) as u32,
        failing_since: row.try_get("ep_failing_since")?,
        id: EndpointId::from_stored(id),
    })
}

pub(crate) fn event_type(row: &SqliteRow) -> StoreResult<EventTypeRecord> {
    Ok(EventTypeRecord {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        schema: json_col(row, "schema", "event_types.schema")?,
        archived: row.try_get("archived")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn event(row: &SqliteRow) -> StoreResult<EventRecord> {
    Ok(EventRecord {
        id: EventId::from_stored(row.try_get("id")?),
        event_type: row.try_get("type")?,
        scopes: json_col(row, "scopes", "events.scopes")?.unwrap_or_default(),
        data: row.try_get("data")?,
        idempotency_key: row.try_get("idempotency_key")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn delivery(row: &SqliteRow) -> StoreResult<DeliveryRecord> {
    let status: String = row.try_get("status")?;
    Ok(DeliveryRecord {
        id: DeliveryId::from_stored(row.try_get("id")?),
        event_id: EventId::from_stored(row.try_get("event_id")?),
        event_type: row.try_get("event_type")?,
        scope: row.try_get("scope")?,
        endpoint: row.try_get("endpoint_code")?,
        endpoint_id: EndpointId::from_stored(row.try_get("endpoint_id")?),
        status: DeliveryStatus::parse(&status).ok_or(StoreError::Corrupt("deliveries.status"))?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn attempt(row: &SqliteRow) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        n: row.try_get::<i64, _>("n")? as u32,
        at: row.try_get("at")?,
        url: row.try_get("url")?,
        status_code: row
            .try_get::<Option<i64>, _>("status_code")?
            .map(|v| v as u16),
        duration_ms: row.try_get::<i64, _>("duration_ms")? as u64,
        error: row.try_get("error")?,
        request_headers: json_col(row, "request_headers", "attempts.request_headers")?
            .unwrap_or_default(),
        response_headers: json_col(row, "response_headers", "attempts.response_headers")?
            .unwrap_or_default(),
        response_body: row.try_get("response_body")?,
        failed_over: json_col(row, "failed_over", "attempts.failed_over")?.unwrap_or_default(),
    })
}

pub(crate) fn token(row: &SqliteRow) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: TokenId::from_stored(row.try_get("id")?),
        name: row.try_get("name")?,
        scopes: json_col(row, "scopes", "tokens.scopes")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Serializes a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    // Serializing maps of strings and plain enums cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}
