//! How a group-commit batch is written to SQLite (the crate's [`writer`](crate::writer)
//! runs one such batch at a time on the one write connection).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::SqlitePool;

use super::claim::Claims;

use crate::batch::{self, Context};
use crate::classify::driver_error;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
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
    /// The database's size limit, if one is set.
    pub size: Arc<SizeLimit>,
}

/// `HOOKRELAY_MAX_DATABASE_SIZE` as SQLite's `max_page_count`, set on the write
/// connection before every batch. Publishes and inbound requests stop at the limit;
/// attempt results and give-ups may use a reserve above it, so deliveries already
/// accepted are still recorded (and not sent again) while new ones are refused.
#[derive(Default)]
pub(crate) struct SizeLimit {
    /// The limit in pages; 0 when there is none.
    pages: AtomicU64,
}

impl SizeLimit {
    /// Sets the limit to `pages` pages.
    pub(crate) fn set(&self, pages: u64) {
        self.pages.store(pages, Ordering::Relaxed);
    }

    /// The page limit for a batch: the limit itself when it adds history, the limit
    /// plus the reserve (a tenth, at least 256 pages) when it only moves deliveries on.
    fn for_batch(&self, batch: &[Command]) -> Option<u64> {
        let pages = self.pages.load(Ordering::Relaxed);
        if pages == 0 {
            return None;
        }
        if batch.iter().any(Command::grows) {
            Some(pages)
        } else {
            Some(pages + (pages / 10).max(256))
        }
    }
}

impl Backend for SqliteBatches {
    async fn apply(&self, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
        let mut tx = self.pool.begin().await?;
        if let Some(pages) = self.size.for_batch(batch) {
            // A PRAGMA takes no bound parameters; `pages` is a `u64`, nothing to inject.
            let set = format!("PRAGMA max_page_count = {pages}");
            sqlx::query(sqlx::AssertSqlSafe(set))
                .execute(&mut *tx)
                .await?;
        }
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
                Outcome::Attempted(_) | Outcome::GaveUp(_) => continue,
            };
            let before = jobs.len();
            jobs.retain(|j| self.claims.try_claim(j));
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

    fn full(&self, e: &StoreError) -> bool {
        driver_error(e).is_some_and(super::errors::is_full)
    }
}
