//! Which SQLite failures mean "the database cannot be reached right now" (503, a client
//! may retry) and which "another writer holds the lock" rather than a failed statement.
//! The sorting itself is shared ([`crate::classify`]).

use crate::classify::Dialect;
use crate::error::StoreError;

/// SQLite's failures.
const SQLITE: Dialect = Dialect {
    unavailable: is_unavailable,
    busy: is_busy,
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

/// `SQLITE_BUSY` and `SQLITE_LOCKED`, with their extended codes (the low byte is the
/// primary code).
fn is_busy(err: &sqlx::Error) -> bool {
    const BUSY: i64 = 5;
    const LOCKED: i64 = 6;
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| matches!(code & 0xff, BUSY | LOCKED)),
        _ => false,
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
