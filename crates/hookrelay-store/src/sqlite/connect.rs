//! Opening a SQLite database: the file, WAL, durable commits, pools and migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The two pools of one database: many readers, one writer (SQLite has one writer at a
/// time; funnelling writes through one connection avoids lock waits entirely).
pub(crate) struct Pools {
    pub read: SqlitePool,
    pub write: SqlitePool,
    /// One connection that only checkpoints the WAL (see [`checkpoint_loop`]).
    pub checkpoint: SqlitePool,
}

/// How often the WAL is copied back into the database file. Often, so each checkpoint
/// is small: a large one leaves many dirty pages that the next commit's fsync of the WAL
/// ends up waiting for (seen as 10–50 ms commits at a 500 ms interval).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints the WAL off the commit path. The writer connection has automatic
/// checkpoints turned off, because SQLite runs them inside the commit that crosses the
/// threshold: one publish in a thousand would wait for the database file's fsync. A
/// PASSIVE checkpoint never blocks the writer or the readers.
pub(crate) async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// The size (bytes) the WAL file is truncated to when it is reset after a checkpoint.
pub(crate) const JOURNAL_SIZE_LIMIT: u64 = 32 * 1024 * 1024;

/// Opens (creating if needed) the database at `url` (`sqlite://relative.db` or
/// `sqlite:///abs/path.db`) and applies the migrations.
pub(crate) async fn open(url: &str, readers: u32) -> StoreResult<Pools> {
    let base = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk (fsync of the WAL) before the API answers 202.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-32000");
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        // A local file connection does not go stale; skipping the ping saves a round
        // trip to the connection's thread on every group commit.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(
            base.clone()
                .pragma("wal_autocheckpoint", "0")
                // After a burst the WAL file shrinks back to this when the writer next
                // resets it, instead of keeping its largest size for ever.
                .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string()),
        )
        .await?;
    MIGRATOR.run(&write).await?;
    let checkpoint = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(base.clone())
        .await?;
    let read = SqlitePoolOptions::new()
        .max_connections(readers.max(1))
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(base.read_only(true))
        .await?;
    Ok(Pools {
        read,
        write,
        checkpoint,
    })
}
