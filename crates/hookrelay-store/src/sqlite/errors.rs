//! Which SQLite failures mean "the database cannot be reached right now" (503, a client
//! may retry) and which "another writer holds the lock" rather than a failed statement.
//! The sorting itself is shared ([`crate::classify`]).

use crate::classify::Dialect;
use crate::error::StoreError;

/// SQLite's failures.
const SQLITE: Dialect = Dialect {
    unavailable: is_unavailable,
    busy: is_busy,
    full: is_full,
};

/// Turns pool and I/O failures into [`StoreError::Unavailable`], a closed pool into
/// [`StoreError::Closed`] while the store shuts down, a lock that outlasted the busy
/// timeout into [`StoreError::Busy`], and a unique violation nobody explained into
/// [`StoreError::Conflict`].
pub(crate) fn classify(e: StoreError, closing: bool) -> StoreError {
    SQLITE.classify(e, closing)
}

/// The file is local: no connection can drop, so only the pool (every connection
/// busy past the acquire timeout, or closed) and the file's I/O stand between a call
/// and the database.
fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

/// `SQLITE_BUSY` and `SQLITE_LOCKED`.
fn is_busy(err: &sqlx::Error) -> bool {
    const BUSY: i64 = 5;
    const LOCKED: i64 = 6;
    primary_code(err).is_some_and(|code| matches!(code, BUSY | LOCKED))
}

/// `SQLITE_FULL`: the disk is full, or the database reached `max_page_count`.
pub(crate) fn is_full(err: &sqlx::Error) -> bool {
    const FULL: i64 = 13;
    primary_code(err) == Some(FULL)
}

/// A database error's primary result code (the low byte of an extended code).
fn primary_code(err: &sqlx::Error) -> Option<i64> {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .map(|code| code & 0xff),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::other("disk gone"));
        for err in [io, sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            let classified = classify(err.into(), false);
            assert!(
                matches!(classified, StoreError::Unavailable(_)),
                "{classified:?}"
            );
        }
        let closing = classify(sqlx::Error::PoolClosed.into(), true);
        assert!(matches!(closing, StoreError::Closed), "{closing:?}");
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        for err in [sqlx::Error::RowNotFound, sqlx::Error::WorkerCrashed] {
            let classified = classify(err.into(), false);
            assert!(
                matches!(classified, StoreError::Database(_)),
                "{classified:?}"
            );
        }
        let kept = classify(StoreError::NotFound("x".into()), true);
        assert!(matches!(kept, StoreError::NotFound(_)), "{kept:?}");
    }

    #[tokio::test]
    async fn a_unique_violation_is_a_conflict_and_a_syntax_error_is_not() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        let insert = "INSERT INTO t (k) VALUES ('a')";
        sqlx::query(insert).execute(&mut conn).await.unwrap();
        let taken = sqlx::query(insert).execute(&mut conn).await.unwrap_err();
        assert!(matches!(
            classify(taken.into(), false),
            StoreError::Conflict(_)
        ));
        let wrong = sqlx::query("SELEC 1").execute(&mut conn).await.unwrap_err();
        assert!(matches!(
            classify(wrong.into(), false),
            StoreError::Database(_)
        ));
    }

    #[tokio::test]
    async fn a_database_at_its_page_limit_is_full() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (v BLOB)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("PRAGMA max_page_count = 4")
            .execute(&mut conn)
            .await
            .unwrap();
        let full = sqlx::query("INSERT INTO t (v) VALUES (zeroblob(100000))")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(matches!(classify(full.into(), false), StoreError::Full(_)));
    }

    #[tokio::test]
    async fn a_lock_held_by_another_writer_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("busy.db"))
            .create_if_missing(true)
            .busy_timeout(Duration::ZERO);
        let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let other = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let locked = sqlx::query("INSERT INTO t (k) VALUES ('a')")
            .execute(&other)
            .await
            .unwrap_err();
        assert!(matches!(
            classify(locked.into(), false),
            StoreError::Busy(_)
        ));
        other.close().await;
    }
}
