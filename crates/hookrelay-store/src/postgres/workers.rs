//! The live workers of a cluster: each delivering process marks itself every second,
//! and counts the others, to take its share of every endpoint's limits.

use sqlx::PgPool;

use crate::error::StoreResult;

/// A worker unseen this long is forgotten (it died without leaving).
const FORGET_AFTER_MS: i64 = 3_600_000;

/// Marks `worker` alive at `now`; how many workers were seen within `window_ms`.
pub(crate) async fn heartbeat(
    pool: &PgPool,
    worker: &str,
    now: i64,
    window_ms: i64,
) -> StoreResult<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO workers (id, seen_at) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at",
    )
    .bind(worker)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM workers WHERE seen_at < $1")
        .bind(now - FORGET_AFTER_MS)
        .execute(&mut *tx)
        .await?;
    let alive: i64 = sqlx::query_scalar("SELECT count(*) FROM workers WHERE seen_at >= $1")
        .bind(now - window_ms)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(usize::try_from(alive).unwrap_or(1).max(1))
}

pub(crate) async fn leave(pool: &PgPool, worker: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM workers WHERE id = $1")
        .bind(worker)
        .execute(pool)
        .await?;
    Ok(())
}
