//! Re-queueing deliveries: a manual retry, and recovering an endpoint's failures.

use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use sqlx::SqlitePool;

use crate::error::{StoreError, StoreResult};
use crate::model::DeliveryRecord;
use crate::rows;

pub(crate) async fn retry(
    pool: &SqlitePool,
    id: &DeliveryId,
    now: i64,
) -> StoreResult<DeliveryRecord> {
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1 + (status = 'pending' AND next_attempt_at = $1), \
         updated_at = $2 WHERE id = $3 RETURNING *",
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
