//! SQLite's publish statements: multi-row `VALUES` in chunks, one endpoint lookup per
//! targeted scope (the shared shape is [`crate::batch::publish`]).

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::batch::publish::PublishStatements;
use crate::error::StoreResult;
use crate::model::{DeliveryJob, IdempotencyKey, NewEvent};
use crate::rows::{self, endpoint_columns};

/// Enabled, subscribed endpoints of one scope.
const MATCHING_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events, s.filter AS sub_filter FROM endpoints ep \
     JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = ? AND ep.enabled = 1"
);

/// Rows per multi-row statement, well under SQLite's bound-parameter limit.
pub(super) const CHUNK: usize = 200;

impl PublishStatements for SqliteConnection {
    async fn existing_keys(&mut self, keys: &[&IdempotencyKey]) -> StoreResult<Vec<SqliteRow>> {
        let mut found = Vec::new();
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
            found.extend(q.build().fetch_all(&mut *self).await?);
        }
        Ok(found)
    }

    async fn matching_endpoints(&mut self, scopes: &[&str]) -> StoreResult<Vec<SqliteRow>> {
        let mut found = Vec::new();
        for scope in scopes {
            found.extend(
                sqlx::query(MATCHING_ENDPOINTS)
                    .bind(*scope)
                    .fetch_all(&mut *self)
                    .await?,
            );
        }
        Ok(found)
    }

    async fn insert_events(&mut self, events: &[&NewEvent]) -> StoreResult<()> {
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
            q.build().execute(&mut *self).await?;
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
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn insert_deliveries(&mut self, jobs: &[&DeliveryJob]) -> StoreResult<()> {
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
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}
