//! How a group-commit batch is written to SQLite (the crate's [`writer`](crate::writer)
//! runs one such batch at a time on the one write connection).

use sqlx::SqlitePool;

use super::{attempts, inbound, publish};
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
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
        let (events, attempts) = crate::writer::split(batch);
        let mut published = publish::write_batch(&mut tx, &self.cipher, &events)
            .await?
            .into_iter();
        attempts::write_batch(&mut tx, &attempts, &self.stats_pruned).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for cmd in batch {
            outcomes.push(match cmd {
                Command::Publish(..) => Outcome::Published(
                    published
                        .next()
                        .ok_or(StoreError::Corrupt("writer outcome"))?,
                ),
                Command::Attempt(..) => Outcome::Recorded,
                Command::GiveUp(id, reason, now, _) => {
                    attempts::give_up(&mut tx, id.as_str(), reason, *now).await?;
                    Outcome::Recorded
                }
                // One by one: a duplicate must see the request before it, even in this batch.
                Command::Inbound(req, _) => {
                    Outcome::Inbound(inbound::record(&mut tx, &self.cipher, req).await?)
                }
            });
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
