//! PostgreSQL's statements for recording attempts: the whole batch in one statement
//! each, the rows bound as arrays and unpacked with `UNNEST`; the deliveries' leases end
//! with their update (the shared shape is [`crate::batch::attempts`]).

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::batch::attempts::{self, AttemptStatements, Recorded};
use crate::error::StoreResult;
use crate::health::StreakChange;
use crate::model::AttemptResult;
use crate::rows;

/// The attempt number comes from the row, so two racing attempts never share one. Only
/// a row still under the attempt's lease (compare and set; re-checked on the newest
/// version of a row another transaction changed meanwhile) and at its due time moves on.
const UPDATE_DELIVERIES: &str = "UPDATE deliveries SET attempts = deliveries.attempts + 1, status = v.status, \
     next_attempt_at = v.next_at, last_error = v.err, updated_at = v.upd, lease_until = NULL \
     FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::int8[], $7::int8[]) \
     AS v(id, status, next_at, err, upd, due, held) \
     WHERE deliveries.id = v.id AND deliveries.status = 'pending' AND deliveries.next_attempt_at = v.due \
     AND deliveries.lease_until IS NOT DISTINCT FROM v.held \
     RETURNING deliveries.id AS id, deliveries.attempts AS n, deliveries.scope AS scope";

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

impl AttemptStatements for PgConnection {
    /// One statement for the whole batch: arrays have no parameter limit.
    const CHUNK: usize = usize::MAX;

    const GIVE_UP: &'static str = "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, \
         last_error = $1, updated_at = $2, lease_until = NULL WHERE id = $3 AND status = 'pending' \
         AND next_attempt_at = $4 AND lease_until IS NOT DISTINCT FROM $5";

    const LEASED: bool = true;

    /// In id order, so concurrent batches lock delivery rows in one order.
    fn lock_order(results: &mut [(usize, &AttemptResult)]) {
        results.sort_by(|(_, a), (_, b)| a.delivery_id.as_str().cmp(b.delivery_id.as_str()));
    }

    fn stats_shard() -> i64 {
        (NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS) as i64
    }

    async fn update_deliveries(&mut self, results: &[&AttemptResult]) -> StoreResult<Vec<PgRow>> {
        let mut ids = Vec::with_capacity(results.len());
        let mut statuses = Vec::with_capacity(results.len());
        let mut next_at = Vec::with_capacity(results.len());
        let mut errors = Vec::with_capacity(results.len());
        let mut updated = Vec::with_capacity(results.len());
        let mut due = Vec::with_capacity(results.len());
        let mut held = Vec::with_capacity(results.len());
        for r in results {
            let (status, next) = attempts::next_state(r);
            ids.push(r.delivery_id.as_str());
            statuses.push(status);
            next_at.push(next);
            errors.push(r.attempt.error.as_deref());
            updated.push(attempts::updated_at(r));
            due.push(r.due_at);
            held.push(r.lease_until);
        }
        Ok(sqlx::query(UPDATE_DELIVERIES)
            .bind(ids)
            .bind(statuses)
            .bind(next_at)
            .bind(errors)
            .bind(updated)
            .bind(due)
            .bind(held)
            .fetch_all(&mut *self)
            .await?)
    }

    async fn insert_attempts(&mut self, recorded: &[Recorded<'_>]) -> StoreResult<()> {
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
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn write_health(&mut self, changes: &[(&str, StreakChange)]) -> StoreResult<()> {
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
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
