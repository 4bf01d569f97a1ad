//! The publish transaction: events, their scopes and one delivery per matching endpoint,
//! written together (the outbox). A whole group-commit batch is written with a handful
//! of multi-row statements: one endpoint lookup per distinct scope, one insert per table.

use std::collections::HashMap;

use hookrelay_core::ids::EventId;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::fanout::{self, Candidates};
use crate::model::{DeliveryJob, IdempotencyKey, NewEvent, PublishOutcome};
use crate::rows::{self, endpoint_columns};

/// Enabled, subscribed endpoints of one scope (patterns are matched in Rust).
const MATCHING_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events, s.filter AS sub_filter FROM endpoints ep \
     JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = ? AND ep.enabled = 1"
);

/// Rows per multi-row insert, well under SQLite's bound-parameter limit.
const CHUNK: usize = 200;

async fn candidates(
    tx: &mut Transaction<'static, Sqlite>,
    cipher: &Cipher,
    scope: &str,
) -> StoreResult<Candidates> {
    let found = sqlx::query(MATCHING_ENDPOINTS)
        .bind(scope)
        .fetch_all(&mut **tx)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for row in &found {
        let filter = rows::json_col(row, "sub_filter", "subscriptions.filter")?;
        let target = rows::target(row, cipher)?;
        out.extend(fanout::candidate(
            target,
            &row.try_get::<String, _>("sub_events")?,
            filter,
        )?);
    }
    Ok(out)
}

/// Events already published under these idempotency keys, each in its own namespace:
/// key → (id, deliveries).
async fn existing_keys(
    tx: &mut Transaction<'static, Sqlite>,
    keys: &[&IdempotencyKey],
) -> StoreResult<HashMap<IdempotencyKey, (EventId, usize)>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT e.id, e.idempotency_ns, e.idempotency_key, \
             (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) AS n \
             FROM events e WHERE (e.idempotency_ns, e.idempotency_key) IN (VALUES ",
        );
        let mut sep = q.separated(", ");
        for k in chunk {
            sep.push("(")
                .push_bind_unseparated(k.namespace.clone())
                .push_unseparated(", ")
                .push_bind_unseparated(k.key.clone())
                .push_unseparated(")");
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            found.insert(
                IdempotencyKey {
                    namespace: row.try_get("idempotency_ns")?,
                    key: row.try_get("idempotency_key")?,
                },
                (
                    EventId::from_stored(row.try_get("id")?),
                    row.try_get::<i64, _>("n")? as usize,
                ),
            );
        }
    }
    Ok(found)
}

/// Writes a batch of publishes; one outcome per event, in order.
pub(crate) async fn write_batch(
    tx: &mut Transaction<'static, Sqlite>,
    cipher: &Cipher,
    events: &[&NewEvent],
) -> StoreResult<Vec<PublishOutcome>> {
    let keys = fanout::keys(events);
    let existing = if keys.is_empty() {
        HashMap::new()
    } else {
        existing_keys(tx, &keys).await?
    };
    let mut by_scope: HashMap<String, Candidates> = HashMap::new();
    for scope in fanout::scopes(events) {
        let found = candidates(tx, cipher, scope).await?;
        by_scope.insert(scope.to_owned(), found);
    }
    let (outcomes, new_events) = fanout::plan(events, &existing, &by_scope);
    insert_events(tx, &new_events).await?;
    let jobs: Vec<&DeliveryJob> = outcomes.iter().flat_map(|o| o.jobs.iter()).collect();
    insert_deliveries(tx, &jobs).await?;
    Ok(outcomes)
}

async fn insert_events(
    tx: &mut Transaction<'static, Sqlite>,
    events: &[&NewEvent],
) -> StoreResult<()> {
    for chunk in events.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (id, type, scopes, data, idempotency_ns, idempotency_key, created_at) ",
        );
        q.push_values(chunk, |mut b, e| {
            let key = e.idempotency_key.as_ref();
            b.push_bind(e.id.to_string())
                .push_bind(e.event_type.clone())
                .push_bind(rows::to_json(&e.scopes))
                .push_bind(e.data.clone())
                .push_bind(key.map(|k| k.namespace.clone()))
                .push_bind(key.map(|k| k.key.clone()))
                .push_bind(e.created_at);
        });
        q.build().execute(&mut **tx).await?;
    }
    let pairs: Vec<(&str, &str)> = events
        .iter()
        .flat_map(|e| e.scopes.iter().map(move |s| (s.as_str(), e.id.as_str())))
        .collect();
    for chunk in pairs.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO event_scopes (scope, event_id) ");
        q.push_values(chunk, |mut b, (scope, id)| {
            b.push_bind(scope.to_string()).push_bind(id.to_string());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) async fn insert_deliveries(
    tx: &mut Transaction<'static, Sqlite>,
    jobs: &[&DeliveryJob],
) -> StoreResult<()> {
    for chunk in jobs.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO deliveries (id, event_id, endpoint_id, scope, endpoint_code, event_type, status, \
             attempts, next_attempt_at, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, j| {
            let endpoint = j.endpoint.as_ref();
            b.push_bind(j.delivery_id.to_string())
                .push_bind(j.event_id.to_string())
                .push_bind(endpoint.map(|e| e.id.to_string()).unwrap_or_default())
                .push_bind(j.scope.clone())
                .push_bind(endpoint.map(|e| e.code.clone()).unwrap_or_default())
                .push_bind(j.event_type.clone())
                .push_bind("pending")
                .push_bind(0_i64)
                .push_bind(j.due_at)
                .push_bind(j.event_created_at)
                .push_bind(j.event_created_at);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
