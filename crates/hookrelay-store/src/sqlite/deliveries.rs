//! The delivery log, manual retries, recovery, and what the dispatcher loads.

use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use sqlx::{Row, Sqlite, SqlitePool};

use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{AttemptRecord, DeliveryFilter, DeliveryJob, DeliveryRecord, Page, PageRequest};
use crate::rows::{self, endpoint_columns, job_columns};

pub(crate) async fn list(
    pool: &SqlitePool,
    filter: DeliveryFilter,
    page: PageRequest,
) -> StoreResult<Page<DeliveryRecord>> {
    let mut q = sqlx::QueryBuilder::<Sqlite>::new("SELECT * FROM deliveries WHERE 1 = 1");
    if let Some(scope) = filter.scope {
        q.push(" AND scope = ").push_bind(scope);
    }
    if let Some(allowed) = filter.allowed_scopes {
        q.push(" AND scope IN (");
        let mut sep = q.separated(", ");
        for s in allowed {
            sep.push_bind(s);
        }
        q.push(")");
    }
    if let Some(endpoint) = filter.endpoint {
        q.push(" AND endpoint_code = ").push_bind(endpoint);
    }
    if let Some(event) = filter.event_id {
        q.push(" AND event_id = ").push_bind(event);
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND id < ").push_bind(cursor);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let rows = q.build().fetch_all(pool).await?;
    let items = rows
        .iter()
        .map(rows::delivery)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |d| d.id.to_string()))
}

pub(crate) async fn get(
    pool: &SqlitePool,
    id: &str,
) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
    let Some(row) = sqlx::query("SELECT * FROM deliveries WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let delivery = rows::delivery(&row)?;
    let attempts = sqlx::query("SELECT * FROM attempts WHERE delivery_id = ? ORDER BY n")
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::attempt)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((delivery, attempts)))
}

pub(crate) async fn retry(
    pool: &SqlitePool,
    id: &DeliveryId,
    now: i64,
) -> StoreResult<DeliveryRecord> {
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ? RETURNING *",
    )
    .bind(now)
    .bind(now)
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?
    .map(|r| rows::delivery(&r))
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))
}

pub(crate) async fn recover(
    pool: &SqlitePool,
    scope: &Scope,
    code: &str,
    since: i64,
    now: i64,
) -> StoreResult<Vec<DeliveryId>> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM endpoints WHERE scope = ? AND code = ?")
            .bind(scope.as_str())
            .bind(code)
            .fetch_optional(pool)
            .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!(
            "endpoint {code:?} in scope {scope}"
        )));
    }
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? \
         WHERE scope = ? AND endpoint_code = ? AND status = 'failed' AND created_at >= ? RETURNING id",
    )
    .bind(now)
    .bind(now)
    .bind(scope.as_str())
    .bind(code)
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(DeliveryId::from_stored).collect())
}

const LOAD_JOB: &str = concat!(
    "SELECT ",
    job_columns!(),
    ", ",
    endpoint_columns!(),
    " FROM deliveries d LEFT JOIN events e ON e.id = d.event_id \
     LEFT JOIN inbound_requests r ON r.id = d.event_id LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
     WHERE d.id = ? AND d.status = 'pending'"
);

pub(crate) async fn load_job(
    pool: &SqlitePool,
    cipher: &Cipher,
    id: &DeliveryId,
) -> StoreResult<Option<DeliveryJob>> {
    sqlx::query(LOAD_JOB)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?
        .map(|row| rows::job(&row, cipher))
        .transpose()
}

pub(crate) async fn pending(pool: &SqlitePool) -> StoreResult<Vec<(DeliveryId, i64)>> {
    let found = sqlx::query(
        "SELECT id, next_attempt_at FROM deliveries WHERE status = 'pending' ORDER BY next_attempt_at",
    )
    .fetch_all(pool)
    .await?;
    found
        .iter()
        .map(|r| {
            Ok((
                DeliveryId::from_stored(r.try_get("id")?),
                r.try_get::<Option<i64>, _>("next_attempt_at")?.unwrap_or(0),
            ))
        })
        .collect()
}
