//! Group commit: one task owns the write connection for the hot-path writes
//! (publishes and attempt results). It takes every command queued while the previous
//! transaction was committing and runs them all in the next one, so one fsync serves
//! many requests. A command that fails does not fail its neighbours: the batch is rolled
//! back and each command is re-run on its own.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{attempts, inbound, publish};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hookrelay_core::ids::DeliveryId;

use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    AttemptResult, DeliveryJob, InboundOutcome, NewEvent, NewInbound, PublishOutcome, WriteStats,
};

/// The most commands in one transaction.
const MAX_BATCH: usize = 1024;

/// A write for the group-commit task.
pub(crate) enum Command {
    Publish(NewEvent, oneshot::Sender<StoreResult<PublishOutcome>>),
    Attempt(AttemptResult, oneshot::Sender<StoreResult<()>>),
    GiveUp(DeliveryId, String, i64, oneshot::Sender<StoreResult<()>>),
    Inbound(
        Box<NewInbound>,
        oneshot::Sender<StoreResult<InboundOutcome>>,
    ),
}

enum Outcome {
    Published(PublishOutcome),
    Recorded,
    Inbound(InboundOutcome),
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Command>,
    stats: Arc<Stats>,
}

/// Counts that show group commit at work.
#[derive(Default)]
pub(crate) struct Stats {
    transactions: AtomicU64,
    commands: AtomicU64,
}

impl WriterHandle {
    /// Starts the writer task on `pool` (which must have one connection).
    /// New deliveries go to `feed` as soon as their transaction commits.
    pub(crate) fn spawn(
        pool: SqlitePool,
        cipher: Cipher,
        feed: mpsc::UnboundedSender<DeliveryJob>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        let stats = Arc::new(Stats::default());
        tokio::spawn(run(pool, cipher, rx, feed, Arc::clone(&stats)));
        Self { tx, stats }
    }

    /// Committed transactions and the writes they carried.
    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            writes: self.stats.commands.load(Ordering::Relaxed),
        }
    }

    pub(crate) async fn publish(&self, event: NewEvent) -> StoreResult<PublishOutcome> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Publish(event, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn give_up(
        &self,
        id: DeliveryId,
        reason: String,
        now: i64,
    ) -> StoreResult<()> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::GiveUp(id, reason, now, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn record_inbound(&self, req: NewInbound) -> StoreResult<InboundOutcome> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Inbound(Box::new(req), reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn record_attempt(&self, result: AttemptResult) -> StoreResult<()> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Attempt(result, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(
    pool: SqlitePool,
    cipher: Cipher,
    mut rx: mpsc::Receiver<Command>,
    feed: mpsc::UnboundedSender<DeliveryJob>,
    stats: Arc<Stats>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats
            .commands
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&pool, &cipher, std::mem::take(&mut batch), &feed).await;
    }
}

async fn commit_batch(
    pool: &SqlitePool,
    cipher: &Cipher,
    batch: Vec<Command>,
    feed: &mpsc::UnboundedSender<DeliveryJob>,
) {
    match apply(pool, cipher, &batch).await {
        Ok(outcomes) => {
            for (cmd, outcome) in batch.into_iter().zip(outcomes) {
                reply(cmd, Ok(outcome), feed);
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(cmd) = batch.into_iter().next() {
                reply(cmd, Err(e), feed);
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size = batch.len(), "batch failed; retrying its commands one by one");
            for cmd in batch {
                let result = apply(pool, cipher, std::slice::from_ref(&cmd))
                    .await
                    .and_then(|mut o| o.pop().ok_or(StoreError::Corrupt("writer outcome")));
                reply(cmd, result, feed);
            }
        }
    }
}

async fn apply(pool: &SqlitePool, cipher: &Cipher, batch: &[Command]) -> StoreResult<Vec<Outcome>> {
    let mut tx = pool.begin().await?;
    let events: Vec<&NewEvent> = batch
        .iter()
        .filter_map(|c| match c {
            Command::Publish(e, _) => Some(e),
            _ => None,
        })
        .collect();
    let attempts: Vec<&AttemptResult> = batch
        .iter()
        .filter_map(|c| match c {
            Command::Attempt(r, _) => Some(r),
            _ => None,
        })
        .collect();
    let mut published = publish::write_batch(&mut tx, cipher, &events)
        .await?
        .into_iter();
    attempts::write_batch(&mut tx, &attempts).await?;
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
                Outcome::Inbound(inbound::record(&mut tx, cipher, req).await?)
            }
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

fn reply(cmd: Command, result: StoreResult<Outcome>, feed: &mpsc::UnboundedSender<DeliveryJob>) {
    // A caller that went away (a dropped request) no longer needs the answer; the write
    // itself stands, and its deliveries go to the dispatcher from here, not from the caller.
    match (cmd, result) {
        (Command::Publish(_, tx), Ok(Outcome::Published(mut o))) => {
            for job in std::mem::take(&mut o.jobs) {
                // No dispatcher in this process (an API-only role): the rows wait in the table.
                let _ = feed.send(job);
            }
            drop(tx.send(Ok(o)))
        }
        (Command::Publish(_, tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::Attempt(_, tx) | Command::GiveUp(.., tx), Ok(_)) => drop(tx.send(Ok(()))),
        (Command::Attempt(_, tx) | Command::GiveUp(.., tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::Inbound(_, tx), Ok(Outcome::Inbound(mut o))) => {
            for job in std::mem::take(&mut o.jobs) {
                let _ = feed.send(job);
            }
            drop(tx.send(Ok(o)))
        }
        (Command::Inbound(_, tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::Publish(_, tx), Ok(_)) => {
            drop(tx.send(Err(StoreError::Corrupt("writer outcome"))))
        }
        (Command::Inbound(_, tx), Ok(_)) => {
            drop(tx.send(Err(StoreError::Corrupt("writer outcome"))))
        }
    }
}
