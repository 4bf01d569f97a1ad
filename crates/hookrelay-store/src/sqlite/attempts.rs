//! Recording an attempt: the attempt row, the delivery's new state, and a 410's
//! disabling of the endpoint, in the writer's transaction.

use sqlx::{Row, Sqlite, Transaction};

use super::rows;
use crate::error::{StoreError, StoreResult};
use crate::model::{AttemptResult, NextStep};

pub(crate) async fn write(tx: &mut Transaction<'static, Sqlite>, result: &AttemptResult) -> StoreResult<()> {
    let (status, next_at) = match result.next {
        NextStep::Succeeded => ("succeeded", None),
        NextStep::RetryAt(at) => ("pending", Some(at)),
        NextStep::Failed => ("failed", None),
    };
    let a = &result.attempt;
    // The attempt number comes from the row, so two racing attempts never share one.
    let row = sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, status = ?, next_attempt_at = ?, last_error = ?, \
         updated_at = ? WHERE id = ? RETURNING attempts",
    )
    .bind(status)
    .bind(next_at)
    .bind(&a.error)
    .bind(a.at + a.duration_ms as i64)
    .bind(result.delivery_id.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("delivery {}", result.delivery_id)))?;
    let n: i64 = row.try_get("attempts")?;
    sqlx::query(
        "INSERT INTO attempts (delivery_id, n, at, url, status_code, duration_ms, error, request_headers, \
         response_headers, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(result.delivery_id.as_str())
    .bind(n)
    .bind(a.at)
    .bind(&a.url)
    .bind(a.status_code.map(i64::from))
    .bind(a.duration_ms as i64)
    .bind(&a.error)
    .bind(rows::to_json(&a.request_headers))
    .bind(rows::to_json(&a.response_headers))
    .bind(&a.response_body)
    .execute(&mut **tx)
    .await?;
    if let Some(reason) = &result.disable_endpoint {
        sqlx::query("UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
            .bind(reason)
            .bind(a.at)
            .bind(result.endpoint_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Gives up a pending delivery without an attempt (its endpoint was deleted or disabled).
pub(crate) async fn give_up(tx: &mut Transaction<'static, Sqlite>, id: &str, reason: &str, now: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = ?, updated_at = ? \
         WHERE id = ? AND status = 'pending'",
    )
    .bind(reason)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
