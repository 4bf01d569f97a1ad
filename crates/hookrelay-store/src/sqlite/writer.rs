//! How a group-commit batch is written to SQLite (the crate's [`writer`](crate::writer)
//! runs one such batch at a time on the one write connection).

use std::sync::Arc;

use sqlx::SqlitePool;

use super::claim::{Claims, FEED_LIMIT};

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
    /// Deliveries claimed and not yet recorded: new ones handed to the feed join them.
    pub claims: Arc<Claims>,
    /// Raised after a commit that left new deliveries in the table for a claim.
    pub signal: Arc<tokio::sync::Notify>,
}

impl Backend for SqliteBatches {
    async fn apply(&self, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
        let mut tx = self.pool.begin().await?;
        let cx = Context {
            cipher: &self.cipher,
            stats_pruned: &self.stats_pruned,
        };
        let mut outcomes = batch::write(&mut *tx, &cx, batch).await?;
        // Claimed before the commit makes the rows visible, so no claim takes them too;
        // what is not claimed here (the feed is at its limit) waits in the table.
        let mut fed = Vec::new();
        let mut left = false;
        for outcome in &mut outcomes {
            let jobs = match outcome {
                Outcome::Published(o) => &mut o.jobs,
                Outcome::Inbound(o) => &mut o.jobs,
                Outcome::Recorded => continue,
            };
            let before = jobs.len();
            jobs.retain(|j| self.claims.try_claim(&j.delivery_id, FEED_LIMIT));
            left |= jobs.len() < before;
            fed.extend(jobs.iter().map(|j| j.delivery_id.clone()));
        }
        if let Err(e) = tx.commit().await {
            self.claims.forget(&fed);
            return Err(e.into());
        }
        if left {
            self.signal.notify_one();
        }
        Ok(outcomes)
    }
}
