//! Recording attempts: the deliveries' new state, the attempt rows, the hourly counters,
//! the endpoints' failure streaks and a 410's disabling of the endpoint, for a whole
//! group-commit batch in a few multi-row statements ([`AttemptStatements`] has the
//! dialect's).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::AtomicI64;

use crate::error::StoreResult;
use crate::health::{self, StreakChange};
use crate::model::{self, AttemptResult, GiveUp, NextStep};
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

    /// Gives up a pending delivery: `$1` the reason, `$2` the time, `$3` its id, `$4` its
    /// due time when taken and, where rows are leased ([`Self::LEASED`]), `$5` its lease.
    const GIVE_UP: &'static str;

    /// Whether rows carry a lease (a store several processes share).
    const LEASED: bool;

    /// Puts the results (each with its place in the batch) in the order the deliveries
    /// are locked in.
    fn lock_order(results: &mut [(usize, &AttemptResult)]) {
        let _ = results;
    }

    /// The counter row each endpoint and hour gets in this batch.
    fn stats_shard() -> i64 {
        0
    }

    /// Moves on each delivery that is still as its attempt found it — pending, due at
    /// [`AttemptResult::due_at`] and, where the dialect leases rows, under
    /// [`AttemptResult::lease_until`] — (see [`next_state`]) with one more attempt;
    /// returns the updated rows' `id`, `n` (the attempt's number) and `scope`. The number
    /// comes from the row, so two racing attempts never share one.
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

/// Records a batch of attempts; returns, for each result in order, whether it moved
/// its delivery on (`false`: [`crate::model::Recorded::Superseded`]). `stats_pruned` is
/// the hour the hourly counters were last pruned at ([`queries::stats::record`]).
pub(crate) async fn write_batch<C: AttemptStatements>(
    conn: &mut C,
    results: &[&AttemptResult],
    stats_pruned: &AtomicI64,
) -> StoreResult<Vec<bool>> {
    let mut ordered: Vec<(usize, &AttemptResult)> = results.iter().copied().enumerate().collect();
    C::lock_order(&mut ordered);
    let mut applied = vec![true; results.len()];
    for chunk in ordered.chunks(C::CHUNK) {
        // One result per delivery in the statement: a second one in the same batch (two
        // workers' results for one delivery) is a late one.
        let mut seen = HashSet::new();
        let (firsts, mut late): (Vec<(usize, &AttemptResult)>, Vec<_>) = chunk
            .iter()
            .copied()
            .partition(|(_, r)| seen.insert(r.delivery_id.as_str()));
        let updated: Vec<&AttemptResult> = firsts.iter().map(|(_, r)| *r).collect();
        let numbered = numbers(&conn.update_deliveries(&updated).await?)?;
        let mut kept: Vec<(&AttemptResult, i64, String)> = Vec::with_capacity(chunk.len());
        for (i, r) in firsts {
            match numbered.get(r.delivery_id.as_str()) {
                Some((n, scope)) => kept.push((r, *n, scope.clone())),
                None => late.push((i, r)),
            }
        }
        // These found their delivery moved on without them (another worker's lease or
        // result, a manual retry): each is counted and kept as history, nothing more.
        // Rare, so one statement each.
        for (i, r) in late {
            applied[i] = false;
            let sql = Sql::new(
                "UPDATE deliveries SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts AS n, scope",
            )
            .bind(r.delivery_id.as_str());
            // A delivery that no longer exists has nothing to attach its attempt to.
            if let Some(row) = conn.fetch_optional(sql).await? {
                kept.push((r, row.int("n")?, row.text("scope")?));
            }
        }
        let recorded: Vec<Recorded<'_>> = kept
            .iter()
            .map(|(r, n, scope)| (*r, *n, scope.as_str()))
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
    Ok(applied)
}

/// Each updated row's `id`, with its attempt number and scope.
fn numbers<R: Columns>(rows: &[R]) -> StoreResult<HashMap<String, (i64, String)>> {
    rows.iter()
        .map(|row| Ok((row.text("id")?, (row.int("n")?, row.text("scope")?))))
        .collect()
}

/// Gives up a pending delivery without an attempt (its endpoint was deleted or disabled),
/// only while it is as it was taken (the same due time and, on a shared store, lease).
pub(crate) async fn give_up<C: AttemptStatements>(
    conn: &mut C,
    give_up: &GiveUp,
) -> StoreResult<model::Recorded> {
    let mut sql = Sql::new(C::GIVE_UP)
        .bind(give_up.reason.as_str())
        .bind(give_up.at)
        .bind(give_up.delivery_id.as_str())
        .bind(give_up.due_at);
    if C::LEASED {
        sql = sql.bind(give_up.lease_until);
    }
    let changed = conn.execute(sql).await?;
    Ok(match changed {
        0 => model::Recorded::Superseded,
        _ => model::Recorded::Applied,
    })
}
