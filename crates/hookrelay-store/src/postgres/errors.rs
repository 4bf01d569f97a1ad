//! Which PostgreSQL failures mean "the database cannot be reached right now" (the API
//! answers 503 and a client may retry) rather than a failed statement. The sorting
//! itself is shared ([`crate::classify`]).

use crate::classify::{Dialect, driver_error};
use crate::error::StoreError;

/// PostgreSQL's failures; it has no "busy": lock waits end in a deadlock or a timeout.
const POSTGRES: Dialect = Dialect {
    unavailable: is_unavailable,
    busy: |_| false,
    full: is_full,
};

/// Turns connection-level database errors into [`StoreError::Unavailable`], a closed
/// pool into [`StoreError::Closed`] while the store shuts down (into `Unavailable`
/// otherwise: the pool closed under us), and a unique violation nobody explained into
/// [`StoreError::Conflict`].
pub(crate) fn classify(e: StoreError, closing: bool) -> StoreError {
    POSTGRES.classify(e, closing)
}

/// Whether `e` says the database cannot be reached (before or after [`classify`]).
pub(crate) fn unreachable(e: &StoreError) -> bool {
    match e {
        StoreError::Unavailable(_) | StoreError::Closed => true,
        _ => driver_error(e).is_some_and(is_unavailable),
    }
}

/// Whether `err` is the server out of disk space: `53100 disk_full`.
pub(crate) fn is_full(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("53100"))
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01–03: the server is shutting down,
            // crashed, or is not accepting connections yet.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            classify(io.into(), false),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::PoolTimedOut.into(), false),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::PoolClosed.into(), false),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::PoolClosed.into(), true),
            StoreError::Closed
        ));
        assert!(matches!(
            classify(sqlx::Error::RowNotFound.into(), false),
            StoreError::Database(_)
        ));
        assert!(matches!(
            classify(StoreError::NotFound("x".into()), false),
            StoreError::NotFound(_)
        ));
    }
}
