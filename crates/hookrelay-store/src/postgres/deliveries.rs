//! Re-queueing deliveries: a manual retry, and recovering an endpoint's failures. Both
//! end any lease and signal the workers of every process.

use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use sqlx::PgPool;

use super::listen;
use crate::error::{StoreError, StoreResult};
use crate::model::DeliveryRecord;
use crate::rows;

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
        "UPDATE deliveries SET status = 'pending', \
         next_attempt_at = CASE WHEN status = 'pending' AND next_attempt_at = $1 THEN $1 + 1 ELSE $1 END, \
         updated_at = $2, lease_until = NULL WHERE id = $3 RETURNING *",
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
