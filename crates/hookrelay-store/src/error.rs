//! The store's error type. Callers see what went wrong (not found, conflict, the
//! database unreachable or busy, …), never the database driver: each backend classifies
//! its driver's errors in one place (`sqlite/errors.rs`, `postgres/errors.rs`), and the
//! rest stay opaque, kept only as the cause to log.

/// An opaque cause, kept for logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is taken.
    #[error("{0}")]
    Conflict(String),
    /// The input refers to something that does not exist, or breaks a rule the store
    /// checks; `field` names the input field.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The database cannot be reached right now; the same call may succeed later.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// The database is locked by another writer and stayed so for the whole wait
    /// (SQLite `BUSY`/`LOCKED`: another process writes to the same file).
    #[error("database busy")]
    Busy(#[source] BoxError),
    /// The database cannot grow: the disk is full, or the database reached its size
    /// limit (SQLite's `HOOKRELAY_MAX_DATABASE_SIZE`). Nothing of the write was kept; it
    /// may succeed once space is freed (retention, or an operator).
    #[error("database full")]
    Full(#[source] BoxError),
    /// Any other database failure.
    #[error("database error")]
    Database(#[source] BoxError),
    /// The migrations could not be applied (or, when the store may not apply them,
    /// are not applied).
    #[error("database migration failed")]
    Migrate(#[source] BoxError),
    /// A stored JSON column did not parse.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// A sealed value (or the database's key check) does not open with the configured
    /// master key: the key is wrong, or the value was altered.
    #[error(
        "the master key does not open {0}: is HOOKRELAY_MASTER_KEY (or the key file) the key this database was written with?"
    )]
    WrongMasterKey(&'static str),
    /// The store is shutting down.
    #[error("the store is shutting down")]
    Closed,
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;

// The driver's errors enter as `Database` (`?` inside the store); the backend's
// `errors::classify` sorts them at the store's boundary.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(Box::new(e))
    }
}
