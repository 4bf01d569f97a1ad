//! How a group-commit batch is written to PostgreSQL. The crate's
//! [`writer`](crate::writer) runs a few such batches at once on pooled connections:
//! each commit waits on the server's fsync, and overlapping them keeps the disk busy.
//! A batch that created due work notifies the work channel inside its transaction, so
//! workers in every process wake when it commits.

use sqlx::PgPool;

use super::{errors, listen};
use crate::batch::{self, Context};
use crate::classify::database_error;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::writer::{Backend, Command, Outcome};

/// How many batches commit at once.
pub(crate) const WRITERS: usize = 4;

/// The pool, the cipher new credentials are sealed with, and the work channel.
pub(crate) struct PgBatches {
    pub pool: PgPool,
    pub cipher: Cipher,
    /// The hour the hourly counters were last pruned at.
    pub stats_pruned: std::sync::atomic::AtomicI64,
    pub channel: String,
}

impl Backend for PgBatches {
    async fn apply(&self, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
        match self.apply_once(batch).await {
            // Batches commit concurrently here (and in other processes): one that ran
            // into another's rows — the same idempotency key published by both, a
            // deadlock on rows both touch — is run again once the other has committed,
            // and then sees its rows (a duplicate key becomes a duplicate publish).
            Err(e) if lost_a_race(&e) => self.apply_once(batch).await,
            other => other,
        }
    }

    fn unreachable(&self, e: &StoreError) -> bool {
        errors::unreachable(e)
    }

    fn full(&self, e: &StoreError) -> bool {
        crate::classify::driver_error(e).is_some_and(errors::is_full)
    }
}

/// Unique violation, deadlock, serialization failure.
fn lost_a_race(e: &StoreError) -> bool {
    database_error(e)
        .is_some_and(|db| matches!(db.code().as_deref(), Some("23505" | "40P01" | "40001")))
}

impl PgBatches {
    async fn apply_once(&self, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
        let mut tx = self.pool.begin().await?;
        let cx = Context {
            cipher: &self.cipher,
            stats_pruned: &self.stats_pruned,
        };
        let outcomes = batch::write(&mut *tx, &cx, batch).await?;
        let new_work = outcomes.iter().any(|o| match o {
            Outcome::Published(p) => !p.jobs.is_empty(),
            Outcome::Inbound(i) => !i.jobs.is_empty(),
            Outcome::Attempted(_) | Outcome::GaveUp(_) => false,
        });
        if new_work {
            listen::notify(&mut tx, &self.channel).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
