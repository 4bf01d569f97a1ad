//! PostgreSQL's publish statements: one statement each whatever the batch's size, the
//! rows bound as arrays and unpacked with `UNNEST` (fixed texts, so each is prepared
//! once per connection). The shared shape is [`crate::batch::publish`].

use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::batch::publish::PublishStatements;
use crate::error::StoreResult;
use crate::model::{DeliveryJob, IdempotencyKey, NewEvent};
use crate::rows::{self, endpoint_columns};

/// Enabled, subscribed endpoints of the batch's scopes (patterns are matched in Rust).
const MATCHING_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events, s.filter AS sub_filter FROM endpoints ep \
     JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = ANY($1) AND ep.enabled ORDER BY ep.id"
);

const EXISTING_KEYS: &str = "SELECT e.id, e.idempotency_ns, e.idempotency_key, \
     (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) AS n \
     FROM events e WHERE (e.idempotency_ns, e.idempotency_key) IN \
     (SELECT * FROM UNNEST($1::text[], $2::text[]))";

const INSERT_EVENTS: &str = "INSERT INTO events (id, type, scopes, data, idempotency_ns, idempotency_key, created_at) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[])";

const INSERT_SCOPES: &str = "INSERT INTO event_scopes (scope, event_id) \
     SELECT * FROM UNNEST($1::text[], $2::text[])";

const INSERT_DELIVERIES: &str = "INSERT INTO deliveries (id, event_id, endpoint_id, scope, endpoint_code, \
     event_type, status, attempts, next_attempt_at, created_at, updated_at) \
     SELECT id, event_id, endpoint_id, scope, code, event_type, 'pending', 0, due, created, created \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[]) \
     AS v(id, event_id, endpoint_id, scope, code, event_type, due, created)";

impl PublishStatements for PgConnection {
    async fn existing_keys(&mut self, keys: &[&IdempotencyKey]) -> StoreResult<Vec<PgRow>> {
        let namespaces: Vec<&str> = keys.iter().map(|k| k.namespace.as_str()).collect();
        let values: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        Ok(sqlx::query(EXISTING_KEYS)
            .bind(namespaces)
            .bind(values)
            .fetch_all(&mut *self)
            .await?)
    }

    async fn matching_endpoints(&mut self, scopes: &[&str]) -> StoreResult<Vec<PgRow>> {
        Ok(sqlx::query(MATCHING_ENDPOINTS)
            .bind(scopes)
            .fetch_all(&mut *self)
            .await?)
    }

    async fn insert_events(&mut self, events: &[&NewEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let scopes: Vec<String> = events.iter().map(|e| rows::to_json(&e.scopes)).collect();
        let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
        let namespaces: Vec<Option<&str>> = events
            .iter()
            .map(|e| e.idempotency_key.as_ref().map(|k| k.namespace.as_str()))
            .collect();
        let keys: Vec<Option<&str>> = events
            .iter()
            .map(|e| e.idempotency_key.as_ref().map(|k| k.key.as_str()))
            .collect();
        let created: Vec<i64> = events.iter().map(|e| e.created_at).collect();
        sqlx::query(INSERT_EVENTS)
            .bind(ids)
            .bind(types)
            .bind(scopes)
            .bind(data)
            .bind(namespaces)
            .bind(keys)
            .bind(created)
            .execute(&mut *self)
            .await?;
        let (scope_col, event_col): (Vec<&str>, Vec<&str>) = events
            .iter()
            .flat_map(|e| e.scopes.iter().map(move |s| (s.as_str(), e.id.as_str())))
            .unzip();
        sqlx::query(INSERT_SCOPES)
            .bind(scope_col)
            .bind(event_col)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn insert_deliveries(&mut self, jobs: &[&DeliveryJob]) -> StoreResult<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let endpoint = |j: &DeliveryJob, f: fn(&crate::model::EndpointTarget) -> String| {
            j.endpoint.as_deref().map(f).unwrap_or_default()
        };
        sqlx::query(INSERT_DELIVERIES)
            .bind(
                jobs.iter()
                    .map(|j| j.delivery_id.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                jobs.iter()
                    .map(|j| j.event_id.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                jobs.iter()
                    .map(|j| endpoint(j, |e| e.id.to_string()))
                    .collect::<Vec<_>>(),
            )
            .bind(jobs.iter().map(|j| j.scope.clone()).collect::<Vec<_>>())
            .bind(
                jobs.iter()
                    .map(|j| endpoint(j, |e| e.code.clone()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                jobs.iter()
                    .map(|j| j.event_type.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(jobs.iter().map(|j| j.due_at).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.event_created_at).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
