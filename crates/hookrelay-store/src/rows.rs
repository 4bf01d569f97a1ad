//! Turning rows into records, for every backend.
//!
//! Both dialects store the same columns with the same meaning (text, 64-bit integers,
//! flags, bytes), so one set of conversions serves both; [`Columns`] is the little
//! each backend's row type has to offer for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use hookrelay_core::ids::{DeliveryId, EndpointId, EventId, RequestId, TokenId};
use hookrelay_core::source::{SourceSpec, Verify};
use sqlx::Row;

use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::sealing;

/// Typed access to a row's columns by name: the values the shared conversions read.
pub(crate) trait Columns {
    /// A non-null text column.
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    /// A non-null 64-bit integer column.
    fn int(&self, col: &str) -> StoreResult<i64>;
    /// A nullable 64-bit integer column.
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A non-null flag (SQLite: 0 or 1; PostgreSQL: `BOOLEAN`).
    fn flag(&self, col: &str) -> StoreResult<bool>;
    /// A non-null byte column (SQLite `BLOB`, PostgreSQL `BYTEA`).
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
}

macro_rules! impl_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, col: &str) -> StoreResult<String> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
                Ok(self.try_get(col)?)
            }
            fn int(&self, col: &str) -> StoreResult<i64> {
                Ok(self.try_get(col)?)
            }
            fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
                Ok(self.try_get(col)?)
            }
            fn flag(&self, col: &str) -> StoreResult<bool> {
                Ok(self.try_get(col)?)
            }
            fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
                Ok(self.try_get(col)?)
            }
        }
    };
}
impl_columns!(sqlx::sqlite::SqliteRow);
impl_columns!(sqlx::postgres::PgRow);

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

/// The columns of a job beside the endpoint's (see [`job`]): the delivery `d`, its
/// event `e` and, for a forward, the inbound request `r`.
macro_rules! job_columns {
    () => {
        "d.id AS d_id, d.attempts AS d_attempts, d.next_attempt_at AS d_due, d.scope AS d_scope, \
         d.event_id AS d_event_id, d.event_type AS d_event_type, d.created_at AS d_created_at, \
         e.type AS e_type, e.created_at AS e_created_at, e.data AS e_data, ep.id IS NOT NULL AS has_endpoint, \
         r.id AS r_id, r.source AS r_source, r.verified AS r_verified, r.headers AS r_headers, r.body AS r_body"
    };
}
pub(crate) use job_columns;

/// `SELECT` of everything a [`job`] needs: the delivery `d`, its event `e` or inbound
/// request `r` (a forward), and its endpoint `ep`. Callers append their `WHERE`.
macro_rules! job_select {
    () => {
        concat!(
            "SELECT ",
            $crate::rows::job_columns!(),
            ", ",
            $crate::rows::endpoint_columns!(),
            " FROM deliveries d LEFT JOIN events e ON e.id = d.event_id \
             LEFT JOIN inbound_requests r ON r.id = d.event_id \
             LEFT JOIN endpoints ep ON ep.id = d.endpoint_id "
        )
    };
}
pub(crate) use job_select;

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &impl Columns,
    col: &str,
    what: &'static str,
) -> StoreResult<Option<T>> {
    row.opt_text(col)?
        .map(|t| serde_json::from_str(&t).map_err(|_| StoreError::Corrupt(what)))
        .transpose()
}

pub(crate) fn endpoint(row: &impl Columns, cipher: &Cipher) -> StoreResult<EndpointRecord> {
    // Not every endpoint query joins the subscription.
    let subs: Option<String> = row.opt_text("sub_events").ok().flatten();
    let subscriptions = match subs {
        Some(t) => {
            serde_json::from_str(&t).map_err(|_| StoreError::Corrupt("subscriptions.events"))?
        }
        None => Vec::new(),
    };
    let t = target(row, cipher)?;
    Ok(EndpointRecord {
        id: t.id,
        scope: row.text("ep_scope")?,
        code: t.code,
        name: row.text("ep_name")?,
        url: t.url,
        targets: t.targets,
        enabled: t.enabled,
        disabled_reason: row.opt_text("ep_disabled_reason")?,
        headers: t.headers,
        auth: t.auth,
        timeout_ms: t.timeout_ms,
        rate_limit: t.rate_limit,
        secret: t.secret,
        previous_secret: t.previous_secret,
        failure_streak: t.failure_streak,
        failing_since: t.failing_since,
        subscriptions,
        created_at: row.int("ep_created_at")?,
        updated_at: row.int("ep_updated_at")?,
    })
}

/// The parts of an endpoint row a delivery needs (also the core of [`endpoint`]).
pub(crate) fn target(row: &impl Columns, cipher: &Cipher) -> StoreResult<EndpointTarget> {
    let id: String = row.text("ep_id")?;
    let open = |col: &str, kind: &'static str| -> StoreResult<Option<String>> {
        row.opt_text(col)?
            .map(|sealed| sealing::open_endpoint_value(cipher, &id, kind, &sealed))
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
        code: row.text("ep_code")?,
        url: row.text("ep_url")?,
        targets: json_col(row, "ep_targets", "endpoints.targets")?,
        secret,
        headers,
        auth,
        timeout_ms: row.opt_int("ep_timeout_ms")?.map(|v| v as u32),
        rate_limit: row.opt_int("ep_rate_limit")?.map(|v| v as u32),
        enabled: row.flag("ep_enabled")?,
        previous_secret: match (
            open("ep_previous_secret", "secret")?,
            row.opt_int("ep_previous_secret_expires_at")?,
        ) {
            (Some(secret), Some(until)) => Some((secret, until)),
            _ => None,
        },
        failure_streak: row.int("ep_failure_streak")?.max(0) as u32,
        failing_since: row.opt_int("ep_failing_since")?,
        id: EndpointId::from_stored(id),
    })
}

/// A job from a row of [`job_columns`] and [`endpoint_columns`].
pub(crate) fn job(row: &impl Columns, cipher: &Cipher) -> StoreResult<DeliveryJob> {
    let endpoint = if row.flag("has_endpoint")? {
        Some(Arc::new(target(row, cipher)?))
    } else {
        None
    };
    // A forward of an inbound request carries the request instead of an event.
    let inbound = match row.opt_text("r_id")? {
        Some(request_id) => Some(Arc::new(InboundPayload {
            request_id: RequestId::from_stored(request_id),
            source: row.text("r_source")?,
            verified: row.opt_text("r_verified")?.unwrap_or_default(),
            headers: json_col(row, "r_headers", "inbound_requests.headers")?.unwrap_or_default(),
            body: row.bytes("r_body")?.into(),
        })),
        None => None,
    };
    Ok(DeliveryJob {
        delivery_id: DeliveryId::from_stored(row.text("d_id")?),
        attempts_made: row.int("d_attempts")? as u32,
        due_at: row.opt_int("d_due")?.unwrap_or(0),
        event_id: EventId::from_stored(row.text("d_event_id")?),
        event_type: match row.opt_text("e_type")? {
            Some(t) => t,
            None => row.text("d_event_type")?,
        },
        event_created_at: match row.opt_int("e_created_at")? {
            Some(t) => t,
            None => row.int("d_created_at")?,
        },
        data: Arc::from(row.opt_text("e_data")?.unwrap_or_default()),
        scope: row.text("d_scope")?,
        endpoint,
        inbound,
    })
}

pub(crate) fn event_type(row: &impl Columns) -> StoreResult<EventTypeRecord> {
    Ok(EventTypeRecord {
        code: row.text("code")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        schema: json_col(row, "schema", "event_types.schema")?,
        archived: row.flag("archived")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn event(row: &impl Columns) -> StoreResult<EventRecord> {
    Ok(EventRecord {
        id: EventId::from_stored(row.text("id")?),
        event_type: row.text("type")?,
        scopes: json_col(row, "scopes", "events.scopes")?.unwrap_or_default(),
        data: row.text("data")?,
        idempotency_key: row.opt_text("idempotency_key")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn delivery_status(text: &str) -> StoreResult<DeliveryStatus> {
    DeliveryStatus::parse(text).ok_or(StoreError::Corrupt("deliveries.status"))
}

pub(crate) fn delivery(row: &impl Columns) -> StoreResult<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: DeliveryId::from_stored(row.text("id")?),
        event_id: EventId::from_stored(row.text("event_id")?),
        event_type: row.text("event_type")?,
        scope: row.text("scope")?,
        endpoint: row.text("endpoint_code")?,
        endpoint_id: EndpointId::from_stored(row.text("endpoint_id")?),
        status: delivery_status(&row.text("status")?)?,
        attempts: row.int("attempts")? as u32,
        next_attempt_at: row.opt_int("next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn attempt(row: &impl Columns) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        n: row.int("n")? as u32,
        at: row.int("at")?,
        url: row.text("url")?,
        status_code: row.opt_int("status_code")?.map(|v| v as u16),
        duration_ms: row.int("duration_ms")? as u64,
        error: row.opt_text("error")?,
        request_headers: json_col(row, "request_headers", "attempts.request_headers")?
            .unwrap_or_default(),
        response_headers: json_col(row, "response_headers", "attempts.response_headers")?
            .unwrap_or_default(),
        response_body: row.opt_text("response_body")?,
        failed_over: json_col(row, "failed_over", "attempts.failed_over")?.unwrap_or_default(),
    })
}

pub(crate) fn token(row: &impl Columns) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: TokenId::from_stored(row.text("id")?),
        name: row.text("name")?,
        scopes: json_col(row, "scopes", "tokens.scopes")?,
        created_at: row.int("created_at")?,
    })
}

/// A source row; its sealed `verify` settings are opened and put back into the spec.
pub(crate) fn source(row: &impl Columns, cipher: &Cipher) -> StoreResult<SourceRecord> {
    let name: String = row.text("name")?;
    let sealed: String = row.text("verify")?;
    let verify_json = cipher
        .open(&sealed, &sealing::verify_aad(&name))
        .map_err(|_| StoreError::WrongMasterKey("a source's secrets"))?;
    let verify: Verify =
        serde_json::from_str(&verify_json).map_err(|_| StoreError::Corrupt("sources.verify"))?;
    let mut spec: serde_json::Value = serde_json::from_str(&row.text("spec")?)
        .map_err(|_| StoreError::Corrupt("sources.spec"))?;
    spec["verify"] =
        serde_json::to_value(&verify).map_err(|_| StoreError::Corrupt("sources.verify"))?;
    let spec: SourceSpec =
        serde_json::from_value(spec).map_err(|_| StoreError::Corrupt("sources.spec"))?;
    Ok(SourceRecord {
        name,
        spec,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// A source's settings without `verify` (stored plain), and the sealed `verify`.
pub(crate) fn split_source(name: &str, spec: &SourceSpec, cipher: &Cipher) -> (String, String) {
    let mut plain = serde_json::to_value(spec).unwrap_or_default();
    if let Some(map) = plain.as_object_mut() {
        map.remove("verify");
    }
    let sealed = cipher.seal(&to_json(&spec.verify), &sealing::verify_aad(name));
    (plain.to_string(), sealed)
}

/// A logged inbound request (`body_size` selected; `headers` and `body` with `detail`).
pub(crate) fn inbound(row: &impl Columns, detail: bool) -> StoreResult<InboundRecord> {
    let status = row.text("status")?;
    Ok(InboundRecord {
        id: RequestId::from_stored(row.text("id")?),
        source: row.text("source")?,
        received_at: row.int("received_at")?,
        status: InboundStatus::parse(&status)
            .ok_or(StoreError::Corrupt("inbound_requests.status"))?,
        reason: row.opt_text("reason")?,
        client_ip: row.opt_text("client_ip")?,
        dedupe_key: row.opt_text("dedupe_key")?,
        body_size: row.int("body_size")?.max(0) as usize,
        verified: row.opt_text("verified")?,
        event_id: row.opt_text("event_id")?,
        forwards: Vec::new(),
        headers: if detail {
            json_col(row, "headers", "inbound_requests.headers")?
        } else {
            None
        },
        body: if detail {
            Some(row.bytes("body")?.into())
        } else {
            None
        },
    })
}

/// One forward of a logged request (`id`, `endpoint_code`, `status`, `url`), with the
/// request id it belongs to (`event_id`).
pub(crate) fn forward(row: &impl Columns) -> StoreResult<(String, ForwardRecord)> {
    Ok((
        row.text("event_id")?,
        ForwardRecord {
            delivery_id: DeliveryId::from_stored(row.text("id")?),
            endpoint: row.text("endpoint_code")?,
            url: row.opt_text("url")?,
            status: delivery_status(&row.text("status")?)?,
        },
    ))
}

/// A subscription row (`code`, `events`, `filter`).
pub(crate) fn subscription(row: &impl Columns) -> StoreResult<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        endpoint: row.text("code")?,
        events: json_col(row, "events", "subscriptions.events")?.unwrap_or_default(),
        filter: json_col(row, "filter", "subscriptions.filter")?,
    })
}

/// Serializes a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    // Serializing maps of strings and plain enums cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}
