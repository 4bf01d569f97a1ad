//! Opening a SQLite database: the file, WAL, durable commits, pools and migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The two pools of one database: many readers, one writer (SQLite has one writer at a
/// time; funnelling writes through one connection avoids lock waits entirely).
pub(crate) struct Pools {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

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
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(base.clone())
        .await?;
    MIGRATOR.run(&write).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(readers.max(1))
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(base.read_only(true))
        .await?;
    Ok(Pools { read, write })
}
