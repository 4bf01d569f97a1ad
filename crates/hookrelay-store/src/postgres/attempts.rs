//! Recording attempts: the attempt rows, the deliveries' new state (their leases end),
//! the hourly counters, the endpoints' failure streaks and a 410's disabling of the
//! endpoint, for a whole group-commit batch in a fixed handful of statements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use sqlx::{Postgres, Row, Transaction};

use crate::error::StoreResult;
use crate::health;
use crate::model::{AttemptResult, NextStep};
use crate::{queries, rows, stats};

/// The attempt number comes from the row, so two racing attempts never share one.
const UPDATE_DELIVERIES: &str = "UPDATE deliveries SET attempts = deliveries.attempts + 1, status = v.status, \
     next_attempt_at = v.next_at, last_error = v.err, updated_at = v.upd, lease_until = NULL \
     FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[]) AS v(id, status, next_at, err, upd) \
     WHERE deliveries.id = v.id RETURNING deliveries.id AS id, deliveries.attempts AS n, deliveries.scope AS scope";

/// Counter rows per endpoint and hour; batches take them in turn, so the few batches
/// one process writes at once never wait on each other's counter rows.
const SHARDS: u64 = 8;
static NEXT_SHARD: AtomicU64 = AtomicU64::new(0);

/// `ON CONFLICT DO NOTHING`: when two workers raced on one delivery (a lease that ran
/// out while the first was still sending), the second record is dropped rather than
/// failing the batch it shares with others.
const INSERT_ATTEMPTS: &str = "INSERT INTO attempts (delivery_id, n, at, url, status_code, duration_ms, error, \
     request_headers, response_headers, response_body, failed_over) \
     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int8[], $6::int8[], $7::text[], \
     $8::text[], $9::text[], $10::text[], $11::text[]) ON CONFLICT (delivery_id, n) DO NOTHING";

/// A success on an endpoint with no streak changes nothing, and is left out so that
/// a busy endpoint's row is not rewritten (and locked) by every batch.
const UPDATE_HEALTH: &str = "UPDATE endpoints SET \
     failure_streak = CASE WHEN v.reset THEN v.failures ELSE endpoints.failure_streak + v.failures END, \
     failing_since = CASE WHEN v.reset THEN v.since ELSE COALESCE(endpoints.failing_since, v.since) END \
     FROM UNNEST($1::text[], $2::bool[], $3::int8[], $4::int8[]) AS v(id, reset, failures, since) \
     WHERE endpoints.id = v.id AND NOT (v.reset AND endpoints.failure_streak = v.failures \
     AND endpoints.failing_since IS NOT DISTINCT FROM v.since)";

/// `stats_pruned` is the hour the hourly counters were last pruned at
/// ([`queries::stats::record`]).
pub(crate) async fn write_batch(
    tx: &mut Transaction<'static, Postgres>,
    results: &[&AttemptResult],
    stats_pruned: &AtomicI64,
) -> StoreResult<()> {
    if results.is_empty() {
        return Ok(());
    }
    // In id order, so concurrent batches lock delivery rows in one order.
    let mut sorted = results.to_vec();
    sorted.sort_by(|a, b| a.delivery_id.as_str().cmp(b.delivery_id.as_str()));
    let mut ids = Vec::with_capacity(sorted.len());
    let mut statuses = Vec::with_capacity(sorted.len());
    let mut next_at = Vec::with_capacity(sorted.len());
    let mut errors = Vec::with_capacity(sorted.len());
    let mut updated = Vec::with_capacity(sorted.len());
    for r in &sorted {
        let (status, next) = match r.next {
            NextStep::Succeeded => ("succeeded", None),
            NextStep::RetryAt(at) => ("pending", Some(at)),
            NextStep::Failed => ("failed", None),
        };
        ids.push(r.delivery_id.as_str());
        statuses.push(status);
        next_at.push(next);
        errors.push(r.attempt.error.as_deref());
        updated.push(r.attempt.at + r.attempt.duration_ms as i64);
    }
    let numbered: HashMap<String, (i64, String)> = sqlx::query(UPDATE_DELIVERIES)
        .bind(ids)
        .bind(statuses)
        .bind(next_at)
        .bind(errors)
        .bind(updated)
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
    let recorded: Vec<(&AttemptResult, i64, &str)> = sorted
        .iter()
        .filter_map(|r| {
            numbered
                .get(r.delivery_id.as_str())
                .map(|(n, scope)| (*r, *n, scope.as_str()))
        })
        .collect();
    if !recorded.is_empty() {
        insert_attempts(tx, &recorded).await?;
        let deltas = stats::deltas(recorded.iter().map(|(r, _, scope)| (*r, *scope)));
        let shard = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
        queries::stats::record(&mut **tx, shard as i64, &deltas, stats_pruned).await?;
    }
    write_health(tx, results).await?;
    for r in results {
        if let Some(reason) = &r.disable_endpoint {
            sqlx::query(
                "UPDATE endpoints SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(reason)
            .bind(r.attempt.at)
            .bind(r.endpoint_id.as_str())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn insert_attempts(
    tx: &mut Transaction<'static, Postgres>,
    recorded: &[(&AttemptResult, i64, &str)],
) -> StoreResult<()> {
    let a = |i: usize| &recorded[i].0.attempt;
    let range = 0..recorded.len();
    sqlx::query(INSERT_ATTEMPTS)
        .bind(
            recorded
                .iter()
                .map(|(r, _, _)| r.delivery_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(recorded.iter().map(|(_, n, _)| *n).collect::<Vec<_>>())
        .bind(range.clone().map(|i| a(i).at).collect::<Vec<_>>())
        .bind(range.clone().map(|i| a(i).url.as_str()).collect::<Vec<_>>())
        .bind(
            range
                .clone()
                .map(|i| a(i).status_code.map(i64::from))
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .clone()
                .map(|i| a(i).duration_ms as i64)
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .clone()
                .map(|i| a(i).error.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .clone()
                .map(|i| rows::to_json(&a(i).request_headers))
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .clone()
                .map(|i| rows::to_json(&a(i).response_headers))
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .clone()
                .map(|i| a(i).response_body.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            range
                .map(|i| {
                    let failed_over = &a(i).failed_over;
                    (!failed_over.is_empty()).then(|| rows::to_json(failed_over))
                })
                .collect::<Vec<_>>(),
        )
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_health(
    tx: &mut Transaction<'static, Postgres>,
    results: &[&AttemptResult],
) -> StoreResult<()> {
    let changes = health::changes(results);
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(UPDATE_HEALTH)
        .bind(changes.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(changes.iter().map(|(_, c)| c.reset).collect::<Vec<_>>())
        .bind(changes.iter().map(|(_, c)| c.failures).collect::<Vec<_>>())
        .bind(
            changes
                .iter()
                .map(|(_, c)| c.first_failure_at)
                .collect::<Vec<_>>(),
        )
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Gives up a pending delivery without an attempt (its endpoint was deleted or disabled).
pub(crate) async fn give_up(
    tx: &mut Transaction<'static, Postgres>,
    id: &str,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $1, updated_at = $2, \
         lease_until = NULL WHERE id = $3 AND status = 'pending'",
    )
    .bind(reason)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
