//! The hourly attempt counters and the dashboard's overview reads. Counters are written
//! in the same transaction as the attempts they count, by either backend's writer.

use std::sync::atomic::{AtomicI64, Ordering};

use hookrelay_core::ids::{DeliveryId, RequestId};

use super::sql::{Conn, Db, Sql};
use crate::error::StoreResult;
use crate::model::{
    EndpointStats, FailingEndpoint, HourStats, OldestPending, Overview, OverviewRequest,
};
use crate::rows::Columns;
use crate::stats::{HOUR_MS, StatsDelta};

/// Rows per multi-row upsert (8 parameters each), well under SQLite's parameter limit.
const CHUNK: usize = 100;

/// How far back "last attempt" looks.
const LAST_ATTEMPT_WINDOW_MS: i64 = 7 * 24 * HOUR_MS;

/// How long counter rows are kept: the week "last attempt" looks back, and a day more.
pub(crate) const KEEP_MS: i64 = 8 * 24 * HOUR_MS;

/// Adds `deltas` to the counters of `shard`. The first batch of each new hour (as the
/// attempts' times say; `pruned` remembers the last one) also deletes the rows older
/// than [`KEEP_MS`], so the table stays a few days deep.
pub(crate) async fn record(
    conn: &mut impl Conn,
    shard: i64,
    deltas: &[StatsDelta],
    pruned: &AtomicI64,
) -> StoreResult<()> {
    if let Some(newest) = deltas.iter().map(|d| d.hour_start).max()
        && newest > pruned.fetch_max(newest, Ordering::Relaxed)
    {
        conn.execute(
            Sql::new("DELETE FROM attempt_stats WHERE hour_start < $1").bind(newest - KEEP_MS),
        )
        .await?;
    }
    for chunk in deltas.chunks(CHUNK) {
        let mut q = Sql::new(
            "INSERT INTO attempt_stats (endpoint_id, hour_start, shard, scope, succeeded, failed, \
             last_attempt_at, last_ok) VALUES ",
        );
        for (i, d) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .push_bind(d.endpoint_id.as_str())
                .push(", ")
                .push_bind(d.hour_start)
                .push(", ")
                .push_bind(shard)
                .push(", ")
                .push_bind(d.scope.as_str())
                .push(", ")
                .push_bind(d.succeeded)
                .push(", ")
                .push_bind(d.failed)
                .push(", ")
                .push_bind(d.last_attempt_at)
                .push(", ")
                .push_bind(d.last_ok)
                .push(")");
        }
        q.push(
            " ON CONFLICT (endpoint_id, hour_start, shard) DO UPDATE SET \
             succeeded = attempt_stats.succeeded + excluded.succeeded, \
             failed = attempt_stats.failed + excluded.failed, \
             last_ok = CASE WHEN excluded.last_attempt_at >= attempt_stats.last_attempt_at \
             THEN excluded.last_ok ELSE attempt_stats.last_ok END, \
             last_attempt_at = CASE WHEN excluded.last_attempt_at > attempt_stats.last_attempt_at \
             THEN excluded.last_attempt_at ELSE attempt_stats.last_attempt_at END",
        );
        conn.execute(q).await?;
    }
    Ok(())
}

fn count(row: &impl Columns, col: &str) -> StoreResult<u64> {
    Ok(u64::try_from(row.int(col)?).unwrap_or(0))
}

/// The overview: attempts per hour since `since`, failing endpoints, the oldest pending
/// delivery and (for admins) inbound requests by status. Each part is one indexed query.
pub(crate) async fn overview(db: &impl Db, req: &OverviewRequest) -> StoreResult<Overview> {
    let mut conn = db.acquire().await?;
    let since_hour = req.since - req.since.rem_euclid(HOUR_MS);

    let mut q = Sql::new(
        "SELECT hour_start, CAST(SUM(succeeded) AS BIGINT) AS ok, CAST(SUM(failed) AS BIGINT) AS bad \
         FROM attempt_stats WHERE hour_start >= ",
    );
    q.push_bind(since_hour);
    if let Some(allowed) = &req.allowed_scopes {
        q.push(" AND scope IN ").push_list(allowed);
    }
    q.push(" GROUP BY hour_start ORDER BY hour_start");
    let hours = conn
        .fetch_all(q)
        .await?
        .iter()
        .map(|r| {
            Ok(HourStats {
                hour_start: r.int("hour_start")?,
                succeeded: count(r, "ok")?,
                failed: count(r, "bad")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;

    let mut q = Sql::new(
        "SELECT scope, code, url, failure_streak, failing_since, enabled, disabled_reason \
         FROM endpoints WHERE failure_streak > 0",
    );
    if let Some(allowed) = &req.allowed_scopes {
        q.push(" AND scope IN ").push_list(allowed);
    }
    q.push(" ORDER BY failing_since, scope, code LIMIT 10");
    let failing = conn
        .fetch_all(q)
        .await?
        .iter()
        .map(|r| {
            Ok(FailingEndpoint {
                scope: r.text("scope")?,
                code: r.text("code")?,
                url: r.text("url")?,
                failure_streak: u32::try_from(r.int("failure_streak")?).unwrap_or(u32::MAX),
                failing_since: r.opt_int("failing_since")?,
                enabled: r.flag("enabled")?,
                disabled_reason: r.opt_text("disabled_reason")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;

    // Ids are time-ordered: the first pending id is the oldest (index on status, id).
    let mut q = Sql::new(
        "SELECT id, scope, endpoint_code, created_at, attempts FROM deliveries WHERE status = 'pending'",
    );
    if let Some(allowed) = &req.allowed_scopes {
        q.push(" AND scope IN ").push_list(allowed);
    }
    q.push(" ORDER BY id LIMIT 1");
    let oldest_pending = conn
        .fetch_optional(q)
        .await?
        .map(|r| {
            Ok::<_, crate::error::StoreError>(OldestPending {
                id: DeliveryId::from_stored(r.text("id")?),
                scope: r.text("scope")?,
                endpoint: r.text("endpoint_code")?,
                created_at: r.int("created_at")?,
                attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
            })
        })
        .transpose()?;

    let inbound = if req.inbound {
        let q = Sql::new(
            "SELECT status, COUNT(*) AS n FROM inbound_requests WHERE id >= $1 \
             GROUP BY status ORDER BY status",
        )
        .bind(RequestId::time_bound(req.since));
        conn.fetch_all(q)
            .await?
            .iter()
            .map(|r| Ok((r.text("status")?, count(r, "n")?)))
            .collect::<StoreResult<Vec<_>>>()?
    } else {
        Vec::new()
    };
    Ok(Overview {
        hours,
        failing,
        oldest_pending,
        inbound,
    })
}

/// Attempts of each endpoint since `since`, and its latest attempt in the last week.
/// Endpoints without attempts are left out.
pub(crate) async fn endpoint_stats(
    db: &impl Db,
    endpoint_ids: &[String],
    since: i64,
    now: i64,
) -> StoreResult<Vec<EndpointStats>> {
    if endpoint_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = db.acquire().await?;
    let since_hour = since - since.rem_euclid(HOUR_MS);
    let mut q = Sql::new(
        "SELECT endpoint_id, CAST(SUM(succeeded) AS BIGINT) AS ok, CAST(SUM(failed) AS BIGINT) AS bad \
         FROM attempt_stats WHERE endpoint_id IN ",
    );
    q.push_list(endpoint_ids)
        .push(" AND hour_start >= ")
        .push_bind(since_hour)
        .push(" GROUP BY endpoint_id");
    let mut out = conn
        .fetch_all(q)
        .await?
        .iter()
        .map(|r| {
            Ok(EndpointStats {
                endpoint_id: r.text("endpoint_id")?,
                succeeded: count(r, "ok")?,
                failed: count(r, "bad")?,
                last_attempt_at: None,
                last_ok: None,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;

    let week = now - LAST_ATTEMPT_WINDOW_MS;
    let week_hour = week - week.rem_euclid(HOUR_MS);
    let mut q = Sql::new(
        "SELECT s.endpoint_id, s.last_attempt_at, s.last_ok FROM attempt_stats s WHERE s.endpoint_id IN ",
    );
    q.push_list(endpoint_ids)
        .push(" AND s.hour_start >= ")
        .push_bind(week_hour)
        .push(
            " AND s.last_attempt_at = (SELECT MAX(t.last_attempt_at) FROM attempt_stats t \
             WHERE t.endpoint_id = s.endpoint_id AND t.hour_start >= ",
        )
        .push_bind(week_hour)
        .push(")");
    for r in conn.fetch_all(q).await? {
        let id = r.text("endpoint_id")?;
        let (at, ok) = (r.int("last_attempt_at")?, r.flag("last_ok")?);
        match out.iter_mut().find(|s| s.endpoint_id == id) {
            Some(s) => {
                s.last_attempt_at = Some(at);
                s.last_ok = Some(ok);
            }
            None => out.push(EndpointStats {
                endpoint_id: id,
                succeeded: 0,
                failed: 0,
                last_attempt_at: Some(at),
                last_ok: Some(ok),
            }),
        }
    }
    Ok(out)
}

/// The scopes that have endpoints, in order (at most 1000), limited to `allowed`.
pub(crate) async fn scopes(db: &impl Db, allowed: Option<&[String]>) -> StoreResult<Vec<String>> {
    let mut q = Sql::new("SELECT DISTINCT scope FROM endpoints");
    if let Some(allowed) = allowed {
        q.push(" WHERE scope IN ").push_list(allowed);
    }
    q.push(" ORDER BY scope LIMIT 1000");
    db.acquire()
        .await?
        .fetch_all(q)
        .await?
        .iter()
        .map(|r| r.text("scope"))
        .collect()
}
