//! Opening a SQLite database: the file, WAL, durable commits, pools and migrations.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
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
///
/// A burst grows the WAL for as long as the writer keeps appending and readers keep
/// old snapshots; the writer only starts it over (truncated to [`JOURNAL_SIZE_LIMIT`])
/// at its next commit after a complete checkpoint. So once a PASSIVE checkpoint has
/// copied every frame of a WAL larger than that, the loop makes the writer start it
/// over ([`truncate_if_large`]): while writes go on, in place (the file keeps its
/// size, so commits overwrite blocks instead of extending the file); once they have
/// stopped, by truncating it, rather than waiting for a write that may not come.
pub(crate) async fn checkpoint_loop(pool: SqlitePool, write: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The WAL's frame count at the last tick: unchanged means no write since.
    let mut last_frames = -1;
    loop {
        tick.tick().await;
        if pool.is_closed() || write.is_closed() {
            break;
        }
        let done: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        let result = match done {
            Ok((_, frames, copied)) => {
                let idle = frames == last_frames;
                last_frames = frames;
                truncate_if_large(&write, frames, copied, idle).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            if pool.is_closed() || write.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// Starts the WAL over when all of its `frames` are `copied` into the database and it
/// holds more than [`JOURNAL_SIZE_LIMIT`]: with a RESTART checkpoint while the writer is
/// busy (its next commit starts at the beginning of the file, which SQLite then cuts to
/// the limit), with a TRUNCATE checkpoint once it is `idle`. Truncating under load made
/// every later commit extend the file again: at a steady 1,000 events/s the publish p99
/// was 16–18 ms with TRUNCATE and 4.9–5.6 ms with RESTART, the WAL staying at 32 MiB.
///
/// Either checkpoint takes the write lock, and a transaction that read before it
/// writes cannot wait for that lock (SQLite answers `BUSY` at once rather than risk a
/// deadlock). So it runs on the one write connection itself, taken from its pool
/// between two batches, where no write transaction can be open; and with no busy
/// timeout, so when a reader still uses the WAL it gives up at once instead of holding
/// up the writer, and the next tick tries again.
async fn truncate_if_large(
    write: &SqlitePool,
    frames: i64,
    copied: i64,
    idle: bool,
) -> sqlx::Result<()> {
    // A frame is one page (SQLite's default 4 KiB, which Hookrelay keeps) and a
    // 24-byte header.
    let frame_bytes = u64::try_from(frames).unwrap_or(0) * (4096 + 24);
    if frames <= 0 || copied < frames || frame_bytes <= JOURNAL_SIZE_LIMIT {
        return Ok(());
    }
    let mut conn = write.acquire().await?;
    sqlx::query("PRAGMA busy_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let checkpoint = if idle {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    } else {
        "PRAGMA wal_checkpoint(RESTART)"
    };
    let truncated = sqlx::query(checkpoint).execute(&mut *conn).await;
    let restore = format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis());
    // A number from a constant: nothing to inject.
    let restored = sqlx::query(sqlx::AssertSqlSafe(restore))
        .execute(&mut *conn)
        .await;
    match truncated {
        // Busy: a reader was in the way; the next tick tries again.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("5") => {}
        other => {
            other?;
        }
    }
    restored.map(drop)
}

/// How long a connection waits for a lock held by another (the writer's setting,
/// restored after a truncating checkpoint).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The size (bytes) the WAL file is truncated to when it is reset after a checkpoint.
pub(crate) const JOURNAL_SIZE_LIMIT: u64 = 32 * 1024 * 1024;

/// Keeps a released connection only when sqlx counts no open transaction on it; closing
/// it otherwise rolls back whatever SQLite still has open.
///
/// A transaction dropped without a commit leaves a rollback queued, and counted until it
/// runs. When SQLite has already rolled the transaction back by itself (it does on
/// `SQLITE_FULL`), that `ROLLBACK` fails ("no transaction is active")
/// and sqlx keeps counting the transaction as open. It then turns the next `BEGIN` into a
/// `SAVEPOINT` and, after one more rollback to that savepoint, every later "commit" only
/// releases a savepoint inside a transaction that is never committed: the writer would
/// answer 202 for publishes that are never stored (seen on a full disk). A fresh
/// connection has no such history.
fn close_if_in_transaction(
    conn: &mut SqliteConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send + '_>> {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::debug!("closing a SQLite connection released inside a transaction");
    }
    Box::pin(std::future::ready(Ok(clean)))
}

/// Opens (creating if needed) the database at `url` (`sqlite://relative.db` or
/// `sqlite:///abs/path.db`) and applies the migrations.
pub(crate) async fn open(url: &str, readers: u32) -> StoreResult<Pools> {
    let base = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk (fsync of the WAL) before the API answers 202.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-32000");
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .after_release(close_if_in_transaction)
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
        .after_release(close_if_in_transaction)
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
