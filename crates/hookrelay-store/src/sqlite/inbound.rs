//! SQLite's part of recording an inbound request (the shared transaction is
//! [`crate::batch::inbound`]).

use sqlx::SqliteConnection;

use crate::batch::inbound::InboundStatements;
use crate::error::StoreResult;

impl InboundStatements for SqliteConnection {
    /// Nothing to take: SQLite has one writer, so its transactions never overlap.
    async fn lock_dedupe_key(&mut self, _source: &str, _key: &str) -> StoreResult<()> {
        Ok(())
    }
}
