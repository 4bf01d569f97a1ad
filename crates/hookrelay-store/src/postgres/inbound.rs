//! PostgreSQL's part of recording an inbound request (the shared transaction is
//! [`crate::batch::inbound`]).

use sqlx::PgConnection;

use crate::batch::inbound::InboundStatements;
use crate::error::StoreResult;

impl InboundStatements for PgConnection {
    /// Several writers commit at once (and several processes share the database): the
    /// same key is checked and recorded by one transaction at a time, so of two
    /// simultaneous deliveries of one webhook exactly one is accepted.
    async fn lock_dedupe_key(&mut self, source: &str, key: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("inbound\n{source}\n{key}"))
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
