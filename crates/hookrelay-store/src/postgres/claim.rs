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
use crate::rows::{self, endpoint_columns, job_columns};

/// `$1` now, `$2` how many, `$3` the lease's end, `$4` endpoints to skip, `$5` how many
/// rows to look at, `$6`/`$7` endpoints with the room left for each, `$8` the room of
/// any other endpoint. A row whose lease ran out (its worker died) is due again; a
/// locked row is being claimed by another worker and skipped, and the lease check is
/// re-evaluated on a row another worker claimed meanwhile, so two workers never get the
/// same row. Rows are ranked within their endpoint by due time, and only those within
/// the endpoint's room are kept.
const CLAIM: &str = concat!(
    "WITH due AS (SELECT id, endpoint_id, next_attempt_at FROM deliveries WHERE status = 'pending' \
     AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
     AND endpoint_id <> ALL($4) ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED), \
     ranked AS (SELECT id, endpoint_id, next_attempt_at, \
     row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at) AS rank FROM due), \
     room AS (SELECT * FROM unnest($6::text[], $7::bigint[]) AS r(endpoint_id, room)), \
     kept AS (SELECT ranked.id FROM ranked LEFT JOIN room ON room.endpoint_id = ranked.endpoint_id \
     WHERE ranked.rank <= COALESCE(room.room, $8) ORDER BY ranked.next_attempt_at LIMIT $2), \
     claimed AS (UPDATE deliveries SET lease_until = $3 FROM kept WHERE deliveries.id = kept.id RETURNING deliveries.*) \
     SELECT ",
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
    // One statement, so one round trip and a transaction no longer than it.
    sqlx::query(CLAIM)
        .bind(request.now)
        .bind(as_i64(request.limit))
        .bind(request.now.saturating_add(request.lease_ms))
        .bind(request.full_endpoints())
        .bind(as_i64(request.limit.saturating_mul(LOOK_AHEAD)))
        .bind(with_room)
        .bind(room)
        .bind(as_i64(request.per_endpoint))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| rows::job(row, cipher))
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
