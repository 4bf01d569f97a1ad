//! Claiming due deliveries for a worker, and giving claims back. One statement locks
//! the due rows no other worker holds (`FOR UPDATE SKIP LOCKED`), keeps at most the
//! worker's room of each endpoint, leases those, and returns each job with its event,
//! its inbound request (a forward) and its endpoint. Locked rows it does not keep are
//! free again when the statement ends.

use hookrelay_core::ids::DeliveryId;
use sqlx::PgPool;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::{ClaimRequest, DeliveryJob};
use crate::rows::{self, Columns, endpoint_columns, job_columns};

/// `$1` now, `$2` how many, `$3` the lease's end, `$4` endpoints to skip, `$5` how many
/// rows to look at, `$6`/`$7` endpoints with the room left for each, `$8` the room of
/// any other endpoint (the per-endpoint cap), `$9` how far ahead a rate-limited row may
/// be given a send slot (ms). A row whose lease ran out (its worker died) is due again;
/// a locked row is being claimed by another worker and skipped, and the lease check is
/// re-evaluated on a row another worker claimed meanwhile, so two workers never get the
/// same row. Rows are ranked within their endpoint by due time, and only those within
/// the endpoint's room are kept: this worker's own room, and what the cap leaves of
/// the rows under a live lease anywhere in the cluster. A rate-limited endpoint's rows
/// get evenly spaced send slots from its `rate_tat` on (GCRA), only those within `$9`
/// are kept, and `rate_tat` moves past the last one. Claims run one at a time (see
/// [`claim_due`]), so the counts and `rate_tat` they read are current.
const CLAIM: &str = concat!(
    "WITH due AS (SELECT id, endpoint_id, next_attempt_at FROM deliveries WHERE status = 'pending' \
     AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
     AND endpoint_id <> ALL($4) ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED), \
     ranked AS (SELECT id, endpoint_id, next_attempt_at, \
     row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank FROM due), \
     room AS (SELECT * FROM unnest($6::text[], $7::bigint[]) AS r(endpoint_id, room)), \
     busy AS (SELECT endpoint_id, count(*) AS n FROM deliveries WHERE lease_until >= $1 AND status = 'pending' \
     AND endpoint_id IN (SELECT endpoint_id FROM due) GROUP BY endpoint_id), \
     paced AS (SELECT ranked.*, CASE WHEN ep.rate_limit > 0 THEN \
     GREATEST($1, COALESCE(ep.rate_tat, 0)) + ((ranked.rank - 1) * 1000 + ep.rate_limit - 1) / ep.rate_limit \
     END AS slot FROM ranked LEFT JOIN endpoints ep ON ep.id = ranked.endpoint_id), \
     kept AS (SELECT paced.id, paced.endpoint_id, paced.slot FROM paced \
     LEFT JOIN room ON room.endpoint_id = paced.endpoint_id LEFT JOIN busy ON busy.endpoint_id = paced.endpoint_id \
     WHERE paced.rank <= LEAST(COALESCE(room.room, $8), $8 - COALESCE(busy.n, 0)) \
     AND (paced.slot IS NULL OR paced.slot <= $1 + $9) ORDER BY paced.next_attempt_at, paced.id LIMIT $2), \
     paced_on AS (UPDATE endpoints SET rate_tat = k.last + (1000 + endpoints.rate_limit - 1) / endpoints.rate_limit \
     FROM (SELECT endpoint_id, max(slot) AS last FROM kept WHERE slot IS NOT NULL GROUP BY endpoint_id) k \
     WHERE endpoints.id = k.endpoint_id AND endpoints.rate_limit > 0), \
     claimed AS (UPDATE deliveries SET lease_until = $3 FROM kept WHERE deliveries.id = kept.id \
     RETURNING deliveries.*, kept.slot AS send_at) \
     SELECT d.send_at, ",
    job_columns!(),
    ", ",
    endpoint_columns!(),
    " FROM claimed d LEFT JOIN events e ON e.id = d.event_id \
     LEFT JOIN inbound_requests r ON r.id = d.event_id LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
     ORDER BY d.next_attempt_at"
);

/// How many due rows a claim looks at per row it may take: enough that one endpoint's
/// backlog at the head of the queue does not hide the others' rows.
const LOOK_AHEAD: usize = 4;

/// How far ahead a claim gives rate-limited rows their send slots: a short read-ahead,
/// well within the lease (timeout + 30 s), so a worker waits for its slots briefly and
/// the rest stay in the table for whichever worker claims next.
const PACING_HORIZON_MS: i64 = 1_000;

/// The advisory lock claims take, so that no two run at once: each sees the leases and
/// the send slots of every claim before it (`hookrelay` in ASCII).
const CLAIM_LOCK: i64 = 0x686f_6f6b_7265_6c61;

/// Claims due rows for one worker, within the per-endpoint limits of the whole cluster.
pub(crate) async fn claim_due(
    pool: &PgPool,
    cipher: &Cipher,
    request: &ClaimRequest,
) -> StoreResult<Vec<DeliveryJob>> {
    if request.limit == 0 || request.per_endpoint == 0 {
        return Ok(Vec::new());
    }
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let (with_room, room): (Vec<&str>, Vec<i64>) = request
        .room
        .iter()
        .filter(|(_, room)| **room > 0)
        .map(|(id, room)| (id.as_str(), as_i64(*room)))
        .unzip();
    // One claim at a time across the cluster: a claim's statement sees the database as
    // it was when it started, so two at once would each count the other's leases and
    // send slots as free. Claims are short and batched; the lock ends with the commit.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CLAIM_LOCK)
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(CLAIM)
        .bind(request.now)
        .bind(as_i64(request.limit))
        .bind(request.now.saturating_add(request.lease_ms))
        .bind(request.full_endpoints())
        .bind(as_i64(request.limit.saturating_mul(LOOK_AHEAD)))
        .bind(with_room)
        .bind(room)
        .bind(as_i64(request.per_endpoint))
        .bind(PACING_HORIZON_MS)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let mut job = rows::job(row, cipher)?;
            job.send_at = row.opt_int("send_at")?;
            Ok(job)
        })
        .collect()
}

pub(crate) async fn release(pool: &PgPool, claims: &[(DeliveryId, i64)]) -> StoreResult<()> {
    if claims.is_empty() {
        return Ok(());
    }
    let (ids, held): (Vec<&str>, Vec<i64>) = claims
        .iter()
        .map(|(id, until)| (id.as_str(), *until))
        .unzip();
    sqlx::query(
        "UPDATE deliveries SET lease_until = NULL FROM unnest($1::text[], $2::bigint[]) AS c(id, held) \
         WHERE deliveries.id = c.id AND deliveries.lease_until = c.held AND deliveries.status = 'pending'",
    )
    .bind(ids)
    .bind(held)
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves a lease from `held_until` to `until`, only if the row still carries exactly
/// the lease this worker took (compare and set: a lease that ran out and was taken by
/// another worker has another end).
pub(crate) async fn renew(
    pool: &PgPool,
    id: &DeliveryId,
    held_until: i64,
    until: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET lease_until = $3 WHERE id = $1 AND status = 'pending' AND lease_until = $2",
    )
    .bind(id.as_str())
    .bind(held_until)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
