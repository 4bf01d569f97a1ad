//! The delivery log, manual retries and recovery (both signal new work), and what the
//! dispatcher loads.

use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use sqlx::{PgPool, Postgres, Row};

use super::listen;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{AttemptRecord, DeliveryFilter, DeliveryJob, DeliveryRecord, Page, PageRequest};
use crate::rows::{self, endpoint_columns, job_columns};

pub(crate) async fn list(
    pool: &PgPool,
    filter: DeliveryFilter,
    page: PageRequest,
) -> StoreResult<Page<DeliveryRecord>> {
    let mut q = sqlx::QueryBuilder::<Postgres>::new("SELECT * FROM deliveries WHERE 1 = 1");
    if let Some(scope) = filter.scope {
        q.push(" AND scope = ").push_bind(scope);
    }
    if let Some(allowed) = filter.allowed_scopes {
        // `= ANY` rather than `IN (…)`: an empty list is valid (and matches nothing).
        q.push(" AND scope = ANY(").push_bind(allowed).push(")");
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
    pool: &PgPool,
    id: &str,
) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
    let Some(row) = sqlx::query("SELECT * FROM deliveries WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let delivery = rows::delivery(&row)?;
    let attempts = sqlx::query("SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY n")
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::attempt)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((delivery, attempts)))
}

/// Makes a delivery pending and due now; its lease is dropped too, so a worker can
/// claim it at once (e.g. one whose worker died mid-attempt).
pub(crate) async fn retry(
    pool: &PgPool,
    channel: &str,
    id: &DeliveryId,
    now: i64,
) -> StoreResult<DeliveryRecord> {
    let mut tx = pool.begin().await?;
    let record = sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $2, lease_until = NULL \
         WHERE id = $3 RETURNING *",
    )
    .bind(now)
    .bind(now)
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| rows::delivery(&r))
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
    listen::notify(&mut tx, channel).await?;
    tx.commit().await?;
    Ok(record)
}

pub(crate) async fn recover(
    pool: &PgPool,
    channel: &str,
    scope: &Scope,
    code: &str,
    since: i64,
    now: i64,
) -> StoreResult<Vec<DeliveryId>> {
    let mut tx = pool.begin().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1::BIGINT FROM endpoints WHERE scope = $1 AND code = $2")
            .bind(scope.as_str())
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!(
            "endpoint {code:?} in scope {scope}"
        )));
    }
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $2, lease_until = NULL \
         WHERE scope = $3 AND endpoint_code = $4 AND status = 'failed' AND created_at >= $5 RETURNING id",
    )
    .bind(now)
    .bind(now)
    .bind(scope.as_str())
    .bind(code)
    .bind(since)
    .fetch_all(&mut *tx)
    .await?;
    if !ids.is_empty() {
        listen::notify(&mut tx, channel).await?;
    }
    tx.commit().await?;
    Ok(ids.into_iter().map(DeliveryId::from_stored).collect())
}

const LOAD_JOB: &str = concat!(
    "SELECT ",
    job_columns!(),
    ", ",
    endpoint_columns!(),
    " FROM deliveries d LEFT JOIN events e ON e.id = d.event_id \
     LEFT JOIN inbound_requests r ON r.id = d.event_id LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
     WHERE d.id = $1 AND d.status = 'pending'"
);

pub(crate) async fn load_job(
    pool: &PgPool,
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

pub(crate) async fn pending(pool: &PgPool) -> StoreResult<Vec<(DeliveryId, i64)>> {
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
