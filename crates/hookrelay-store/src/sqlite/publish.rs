//! The publish transaction: the event, its scopes and one delivery per matching
//! endpoint, written together (the outbox).

use std::sync::Arc;

use hookrelay_core::ids::{DeliveryId, EventId};
use hookrelay_core::subscription::Subscription;
use sqlx::{Row, Sqlite, Transaction};

use super::rows::{self, endpoint_columns};
use crate::error::{StoreError, StoreResult};
use crate::model::{DeliveryJob, NewEvent, PublishOutcome};

/// Enabled, subscribed endpoints of one scope (patterns are matched in Rust).
const MATCHING_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events FROM endpoints ep JOIN subscriptions s ON s.endpoint_id = ep.id \
     WHERE ep.scope = ? AND ep.enabled = 1"
);

pub(crate) async fn write(tx: &mut Transaction<'static, Sqlite>, event: &NewEvent) -> StoreResult<PublishOutcome> {
    if let Some(key) = &event.idempotency_key {
        let existing = sqlx::query(
            "SELECT id, (SELECT count(*) FROM deliveries d WHERE d.event_id = events.id) AS n \
             FROM events WHERE idempotency_key = ?",
        )
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = existing {
            return Ok(PublishOutcome {
                event_id: EventId::from_stored(row.try_get("id")?),
                duplicate: true,
                deliveries: row.try_get::<i64, _>("n")? as usize,
                jobs: Vec::new(),
            });
        }
    }

    sqlx::query("INSERT INTO events (id, type, scopes, data, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(event.id.as_str())
        .bind(&event.event_type)
        .bind(rows::to_json(&event.scopes))
        .bind(&event.data)
        .bind(&event.idempotency_key)
        .bind(event.created_at)
        .execute(&mut **tx)
        .await?;

    let data: Arc<str> = Arc::from(event.data.as_str());
    let mut jobs = Vec::new();
    for scope in &event.scopes {
        sqlx::query("INSERT INTO event_scopes (scope, event_id) VALUES (?, ?)")
            .bind(scope)
            .bind(event.id.as_str())
            .execute(&mut **tx)
            .await?;
        let endpoints = sqlx::query(MATCHING_ENDPOINTS).bind(scope).fetch_all(&mut **tx).await?;
        for row in &endpoints {
            let patterns: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("sub_events")?)
                .map_err(|_| StoreError::Corrupt("subscriptions.events"))?;
            let Ok(sub) = Subscription::parse(&patterns) else { continue };
            if !sub.matches(&event.event_type) {
                continue;
            }
            let target = rows::target(row)?;
            let id = DeliveryId::generate();
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, endpoint_id, scope, endpoint_code, event_type, status, \
                 attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            )
            .bind(id.as_str())
            .bind(event.id.as_str())
            .bind(target.id.as_str())
            .bind(scope)
            .bind(&target.code)
            .bind(&event.event_type)
            .bind(event.created_at)
            .bind(event.created_at)
            .bind(event.created_at)
            .execute(&mut **tx)
            .await?;
            jobs.push(DeliveryJob {
                delivery_id: id,
                attempts_made: 0,
                due_at: event.created_at,
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                event_created_at: event.created_at,
                data: Arc::clone(&data),
                scope: scope.clone(),
                endpoint: Some(Arc::new(target)),
            });
        }
    }
    Ok(PublishOutcome {
        event_id: event.id.clone(),
        duplicate: false,
        deliveries: jobs.len(),
        jobs,
    })
}
