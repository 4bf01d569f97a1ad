//! Sorting the driver's errors into [`StoreError`]'s kinds, once for both backends:
//! each backend's `errors` module only says which of its failures mean "unreachable"
//! and which "busy".

use crate::error::StoreError;

/// What one backend's failures mean.
pub(crate) struct Dialect {
    /// The database cannot be reached (the connection, the pool, the server).
    pub unavailable: fn(&sqlx::Error) -> bool,
    /// The database is locked by another writer.
    pub busy: fn(&sqlx::Error) -> bool,
    /// The database cannot grow (disk full, size limit).
    pub full: fn(&sqlx::Error) -> bool,
}

impl Dialect {
    /// Turns a driver failure into the kind callers act on: a closed pool into
    /// [`StoreError::Closed`] while the store shuts down, connection failures into
    /// [`StoreError::Unavailable`], lock waits into [`StoreError::Busy`], a database
    /// that cannot grow into [`StoreError::Full`], a unique
    /// violation the store did not already explain into [`StoreError::Conflict`].
    /// Everything else is left as it is.
    pub(crate) fn classify(&self, e: StoreError, closing: bool) -> StoreError {
        let Some(err) = driver_error(&e) else {
            return e;
        };
        let closed = closing && matches!(err, sqlx::Error::PoolClosed);
        let unavailable = (self.unavailable)(err);
        let busy = (self.busy)(err);
        let full = (self.full)(err);
        let taken = is_unique_violation(&e);
        match e {
            _ if closed => StoreError::Closed,
            StoreError::Database(cause) if unavailable => StoreError::Unavailable(cause),
            StoreError::Database(cause) if busy => StoreError::Busy(cause),
            StoreError::Database(cause) if full => StoreError::Full(cause),
            _ if taken => conflict(),
            other => other,
        }
    }
}

/// The driver's error inside a [`StoreError::Database`], for the few places in the
/// store that react to one particular failure (a unique violation, a lost race).
pub(crate) fn driver_error(e: &StoreError) -> Option<&sqlx::Error> {
    match e {
        StoreError::Database(cause) => cause.downcast_ref::<sqlx::Error>(),
        _ => None,
    }
}

/// The database's own error (a statement it refused) inside a [`StoreError::Database`].
pub(crate) fn database_error(e: &StoreError) -> Option<&dyn sqlx::error::DatabaseError> {
    match driver_error(e) {
        Some(sqlx::Error::Database(db)) => Some(&**db),
        _ => None,
    }
}

/// Whether `e` is a unique violation.
pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
    database_error(e).is_some_and(|db| db.is_unique_violation())
}

/// The conflict a unique violation becomes when no caller said which value is taken.
fn conflict() -> StoreError {
    StoreError::Conflict("a record with the same unique value already exists".to_owned())
}
