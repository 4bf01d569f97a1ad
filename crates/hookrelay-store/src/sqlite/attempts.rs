//! Recording attempts: the attempt rows, the deliveries' new state, the hourly counters
//! and a 410's disabling of the endpoint, for a whole group-commit batch at once.

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;

use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::error::StoreResult;
use crate::health;
use crate::model::{AttemptResult, NextStep};
use crate::{queries, rows, stats};

/// Rows per multi-row statement, well under SQLite's bound-parameter limit.
const CHUNK: usize = 200;

/// `stats_pruned` is the hour the hourly counters were last pruned at
/// ([`queries::stats::record`]).
pub(crate) async fn write_batch(
    tx: &mut Transaction<'static, Sqlite>,
    results: &[&AttemptResult],
    stats_pruned: &AtomicI64,
) -> StoreResult<()> {
    for chunk in results.chunks(CHUNK) {
        // The attempt number comes from the row, so two racing attempts never share one.
        let mut q = QueryBuilder::<Sqlite>::new("WITH v (id, status, next_at, err, upd) AS (");
        q.push_values(chunk.iter(), |mut b, r| {
            let (status, next_at) = match r.next {
                NextStep::Succeeded => ("succeeded", None),
                NextStep::RetryAt(at) => ("pending", Some(at)),
                NextStep::Failed => ("failed", None),
            };
            b.push_bind(r.delivery_id.to_string())
                .push_bind(status)
                .push_bind(next_at)
                .push_bind(r.attempt.error.clone())
                .push_bind(r.attempt.at + r.attempt.duration_ms as i64);
        });
        q.push(
            ") UPDATE deliveries SET attempts = deliveries.attempts + 1, status = v.status, \
             next_attempt_at = v.next_at, last_error = v.err, updated_at = v.upd FROM v WHERE deliveries.id = v.id \
             RETURNING deliveries.id AS id, deliveries.attempts AS n, deliveries.scope AS scope",
        );
        let numbered: HashMap<String, (i64, String)> = q
            .build()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    (row.try_get("n")?, row.try_get("scope")?),
                ))
            })
            .collect::<StoreResult<_>>()?;
        // A delivery that no longer exists has nothing to attach its attempt to.
        let recorded: Vec<(&AttemptResult, i64, &str)> = chunk
            .iter()
            .filter_map(|r| {
                numbered
                    .get(r.delivery_id.as_str())
                    .map(|(n, scope)| (*r, *n, scope.as_str()))
            })
            .collect();
        if recorded.is_empty() {
            continue;
        }
        // One writer: no concurrent batch to spread the counters away from.
        let deltas = stats::deltas(recorded.iter().map(|(r, _, scope)| (*r, *scope)));
        queries::stats::record(&mut **tx, 0, &deltas, stats_pruned).await?;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO attempts (delivery_id, n, at, url, status_code, duration_ms, error, request_headers, \
             response_headers, response_body, failed_over) ",
        );
        q.push_values(recorded.iter(), |mut b, (r, n, _)| {
            let a = &r.attempt;
            b.push_bind(r.delivery_id.to_string())
                .push_bind(*n)
                .push_bind(a.at)
                .push_bind(a.url.clone())
                .push_bind(a.status_code.map(i64::from))
                .push_bind(a.duration_ms as i64)
                .push_bind(a.error.clone())
                .push_bind(rows::to_json(&a.request_headers))
                .push_bind(rows::to_json(&a.response_headers))
                .push_bind(a.response_body.clone())
                .push_bind((!a.failed_over.is_empty()).then(|| rows::to_json(&a.failed_over)));
        });
        q.build().execute(&mut **tx).await?;
    }
    write_health(tx, results).await?;
    for r in results {
        if let Some(reason) = &r.disable_endpoint {
            sqlx::query("UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
                .bind(reason)
                .bind(r.attempt.at)
                .bind(r.endpoint_id.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn write_health(
    tx: &mut Transaction<'static, Sqlite>,
    results: &[&AttemptResult],
) -> StoreResult<()> {
    for (id, c) in health::changes(results) {
        let sql = if c.reset {
            "UPDATE endpoints SET failure_streak = ?, failing_since = ? WHERE id = ?"
        } else {
            "UPDATE endpoints SET failure_streak = failure_streak + ?, \
             failing_since = COALESCE(failing_since, ?) WHERE id = ?"
        };
        sqlx::query(sql)
            .bind(c.failures)
            .bind(c.first_failure_at)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Gives up a pending delivery without an attempt (its endpoint was deleted or disabled).
pub(crate) async fn give_up(
    tx: &mut Transaction<'static, Sqlite>,
    id: &str,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
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
