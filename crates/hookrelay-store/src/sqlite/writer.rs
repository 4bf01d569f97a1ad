//! How a group-commit batch is written to SQLite (the crate's [`writer`](crate::writer)
//! runs one such batch at a time on the one write connection).

use sqlx::SqlitePool;

use crate::batch::{self, Context};
use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::writer::{Backend, Command, Outcome};

/// The write connection and the cipher new credentials are sealed with.
pub(crate) struct SqliteBatches {
    pub pool: SqlitePool,
    pub cipher: Cipher,
    /// The hour the hourly counters were last pruned at.
    pub stats_pruned: std::sync::atomic::AtomicI64,
}

impl Backend for SqliteBatches {
    async fn apply(&self, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
        let mut tx = self.pool.begin().await?;
        let cx = Context {
            cipher: &self.cipher,
            stats_pruned: &self.stats_pruned,
        };
        let outcomes = batch::write(&mut *tx, &cx, batch).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
}
