//! Recording attempts: the deliveries' new state, the attempt rows, the hourly counters,
//! the endpoints' failure streaks and a 410's disabling of the endpoint, for a whole
//! group-commit batch in a few multi-row statements ([`AttemptStatements`] has the
//! dialect's).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicI64;

use crate::error::StoreResult;
use crate::health::{self, StreakChange};
use crate::model::{AttemptResult, NextStep};
use crate::queries::sql::{Conn, Sql};
use crate::rows::Columns;
use crate::{queries, stats};

/// An attempt whose delivery was updated: its number (from the row) and the delivery's
/// scope.
pub(crate) type Recorded<'a> = (&'a AttemptResult, i64, &'a str);

/// The statements of recording attempts that differ per dialect.
pub(crate) trait AttemptStatements: Conn {
    /// The most results one statement carries.
    const CHUNK: usize;

    /// Gives up a pending delivery: `$1` the reason, `$2` the time, `$3` its id.
    const GIVE_UP: &'static str;

    /// Puts the results in the order the deliveries are locked in.
    fn lock_order(results: &mut [&AttemptResult]) {
        let _ = results;
    }

    /// The counter row each endpoint and hour gets in this batch.
    fn stats_shard() -> i64 {
        0
    }

    /// Moves each delivery on (see [`next_state`]) with one more attempt; returns the
    /// updated rows' `id`, `n` (the attempt's number) and `scope`. The number comes from
    /// the row, so two racing attempts never share one.
    fn update_deliveries(
        &mut self,
        results: &[&AttemptResult],
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// Inserts the attempt rows.
    fn insert_attempts(
        &mut self,
        recorded: &[Recorded<'_>],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Applies the endpoints' streak changes (never empty).
    fn write_health(
        &mut self,
        changes: &[(&str, StreakChange)],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A delivery's status and next attempt time after a result.
pub(crate) fn next_state(r: &AttemptResult) -> (&'static str, Option<i64>) {
    match r.next {
        NextStep::Succeeded => ("succeeded", None),
        NextStep::RetryAt(at) => ("pending", Some(at)),
        NextStep::Failed => ("failed", None),
    }
}

/// When a delivery's row was last changed by a result: when its attempt ended.
pub(crate) fn updated_at(r: &AttemptResult) -> i64 {
    r.attempt.at + r.attempt.duration_ms as i64
}

/// `stats_pruned` is the hour the hourly counters were last pruned at
/// ([`queries::stats::record`]).
pub(crate) async fn write_batch<C: AttemptStatements>(
    conn: &mut C,
    results: &[&AttemptResult],
    stats_pruned: &AtomicI64,
) -> StoreResult<()> {
    let mut ordered = results.to_vec();
    C::lock_order(&mut ordered);
    for chunk in ordered.chunks(C::CHUNK) {
        let numbered: HashMap<String, (i64, String)> = conn
            .update_deliveries(chunk)
            .await?
            .iter()
            .map(|row| Ok((row.text("id")?, (row.int("n")?, row.text("scope")?))))
            .collect::<StoreResult<_>>()?;
        // A delivery that no longer exists has nothing to attach its attempt to.
        let recorded: Vec<Recorded<'_>> = chunk
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
        conn.insert_attempts(&recorded).await?;
        let deltas = stats::deltas(recorded.iter().map(|(r, _, scope)| (*r, *scope)));
        queries::stats::record(conn, C::stats_shard(), &deltas, stats_pruned).await?;
    }
    let changes = health::changes(results);
    if !changes.is_empty() {
        conn.write_health(&changes).await?;
    }
    for r in results {
        if let Some(reason) = &r.disable_endpoint {
            let sql = Sql::new(
                "UPDATE endpoints SET enabled = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(false)
            .bind(reason)
            .bind(r.attempt.at)
            .bind(r.endpoint_id.as_str());
            conn.execute(sql).await?;
        }
    }
    Ok(())
}

/// Gives up a pending delivery without an attempt (its endpoint was deleted or disabled).
pub(crate) async fn give_up<C: AttemptStatements>(
    conn: &mut C,
    id: &str,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    conn.execute(Sql::new(C::GIVE_UP).bind(reason).bind(now).bind(id))
        .await?;
    Ok(())
}
