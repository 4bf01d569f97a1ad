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
    /// The database cannot be reached right now.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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
