//! Hookrelay's persistence.
//!
//! # Layout
//! - [`store`]: the [`Store`] trait: everything the API and the dispatcher read and write.
//! - [`model`]: the records that cross it.
//! - [`sqlite`]: the embedded backend: a read pool, one writer connection, one batch
//!   committing at a time; new deliveries go to an in-memory job feed. Its migrations
//!   live in `migrations/sqlite/`.
//! - [`postgres`]: the shared backend for several processes: one pool, a few batches
//!   committing at once, workers claiming due rows with leases (`FOR UPDATE SKIP
//!   LOCKED`) and waking on `LISTEN/NOTIFY`. Its migrations live in
//!   `migrations/postgres/`.
//! - What both backends share, so they answer alike:
//!   - `queries`: the configuration, the event, delivery and inbound logs, and loading
//!     a job, written once over a small query layer both connection types implement;
//!   - `rows`: rows to records, through a small `Columns` trait both row types
//!     implement;
//!   - `changes`: the rules of endpoint patches and applies and of registry upserts;
//!   - `sealing`: which columns are sealed, their bindings, the master key check;
//!   - `fanout`: which deliveries a publish or an inbound request creates;
//!   - `health`: failure streaks from a batch of attempts;
//!   - `writer`: group commit of publishes, attempt results, give-ups and inbound
//!     requests;
//!   - `batch`: what one such batch writes, in one shape for both dialects; each
//!     dialect's `publish`, `attempts` and `inbound` modules hold only the statements
//!     that differ (multi-row `VALUES` in chunks against `UNNEST` arrays, PostgreSQL's
//!     advisory lock);
//!   - `classify`: the driver's errors sorted into [`StoreError`]'s kinds, each
//!     dialect's `errors` module saying which of its failures are which.
//! - [`crypto`]: encryption at rest: the master key and the cipher that seals
//!   credentials before they are written.
//! - [`error`]: the error type, [`StoreError`].

#![forbid(unsafe_code)]

mod batch;
mod changes;
mod classify;
pub mod crypto;
pub mod error;
mod fanout;
mod health;
pub mod model;
pub mod postgres;
mod queries;
mod reseal;
mod rows;
mod sealing;
pub mod sqlite;
mod stats;
pub mod store;
mod writer;

pub use error::{BoxError, StoreError, StoreResult};
pub use store::Store;
