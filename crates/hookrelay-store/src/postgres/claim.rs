//! Claiming due deliveries for a worker, and giving claims back. One statement locks
//! the due rows no other worker holds (`FOR UPDATE SKIP LOCKED`), leases them, and
//! returns each job with its event, its inbound request (a forward) and its endpoint.

use hookrelay_core::ids::DeliveryId;
use sqlx::PgPool;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::DeliveryJob;
use crate::rows::{self, endpoint_columns, job_columns};

/// `$1` now, `$2` how many, `$3` the lease's end. A row whose lease ran out (its worker
/// died) is due again; a locked row is being claimed by another worker and skipped, and
/// the lease check is re-evaluated on a row another worker claimed meanwhile, so two
/// workers never get the same row.
const CLAIM: &str = concat!(
    "WITH due AS (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
     claimed AS (UPDATE deliveries SET lease_until = $3 FROM due WHERE deliveries.id = due.id RETURNING deliveries.*) \
     SELECT ",
    job_columns!(),
    ", ",
    endpoint_columns!(),
    " FROM claimed d LEFT JOIN events e ON e.id = d.event_id \
     LEFT JOIN inbound_requests r ON r.id = d.event_id LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
     ORDER BY d.next_attempt_at"
);

pub(crate) async fn claim_due(
    pool: &PgPool,
    cipher: &Cipher,
    limit: usize,
    lease_ms: i64,
    now: i64,
) -> StoreResult<Vec<DeliveryJob>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // One statement, so one round trip and a transaction no longer than it.
    sqlx::query(CLAIM)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(now.saturating_add(lease_ms))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| rows::job(row, cipher))
        .collect()
}

pub(crate) async fn release(pool: &PgPool, ids: &[DeliveryId]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = ids.iter().map(DeliveryId::as_str).collect();
    sqlx::query(
        "UPDATE deliveries SET lease_until = NULL WHERE id = ANY($1) AND status = 'pending'",
    )
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(())
}
