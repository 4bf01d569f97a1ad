//! Hookrelay's persistence.
//!
//! # Layout
//! - [`store`]: the [`Store`] trait: everything the API and the dispatcher read and write.
//! - [`model`]: the records that cross it.
//! - [`sqlite`]: the embedded backend: a read pool, one writer connection, and the
//!   group-commit writer task that batches publishes and attempt results into shared
//!   transactions. Its migrations live in `migrations/sqlite/`.
//! - [`crypto`]: encryption at rest: the master key and the cipher that seals
//!   credentials before they are written.
//! - [`error`]: the error type, [`StoreError`].

#![forbid(unsafe_code)]

pub mod crypto;
pub mod error;
mod fanout;
mod health;
pub mod model;
pub mod postgres;
mod rows;
mod sealing;
pub mod sqlite;
pub mod store;
mod writer;

pub use error::{StoreError, StoreResult};
pub use store::Store;
