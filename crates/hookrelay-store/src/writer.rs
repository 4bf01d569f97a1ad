//! Group commit: writer tasks own the hot-path writes (publishes, attempt results,
//! give-ups and inbound requests). Each takes every command queued while the previous
//! transaction was committing and runs them all in the next one, so one fsync serves
//! many requests. A command that fails does not fail its neighbours: the batch is rolled
//! back and each command is re-run on its own.
//!
//! The backend runs a batch in its transaction ([`Backend::apply`], the statements
//! shared in [`crate::batch`]) and decides how many batches may commit at once: one for
//! SQLite (one writer connection), a few for PostgreSQL, whose commits wait on the
//! server's fsync and overlap well.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{StoreError, StoreResult};
use crate::model::{
    AttemptResult, DeliveryJob, GiveUp, InboundOutcome, NewEvent, NewInbound, PublishOutcome,
    Recorded, WriteStats,
};

/// The most commands in one transaction.
const MAX_BATCH: usize = 1024;

/// A write for the group-commit task.
pub(crate) enum Command {
    Publish(NewEvent, oneshot::Sender<StoreResult<PublishOutcome>>),
    Attempt(AttemptResult, oneshot::Sender<StoreResult<Recorded>>),
    GiveUp(GiveUp, oneshot::Sender<StoreResult<Recorded>>),
    Inbound(
        Box<NewInbound>,
        oneshot::Sender<StoreResult<InboundOutcome>>,
    ),
}

/// What one command did, once its batch committed.
pub(crate) enum Outcome {
    Published(PublishOutcome),
    /// An attempt, and what it did to its delivery.
    Attempted(Recorded),
    /// A give-up, and whether it applied.
    GaveUp(Recorded),
    Inbound(InboundOutcome),
}

/// How a backend writes a batch.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Runs every command of `batch` in one transaction and commits it; one outcome per
    /// command, in order. An error means nothing of the batch was written.
    fn apply(&self, batch: &[Command]) -> impl Future<Output = StoreResult<Vec<Outcome>>> + Send;

    /// Whether `e` says the database cannot be reached, which fails every command
    /// alike: re-running a batch's commands one by one would only wait again for each.
    fn unreachable(&self, e: &StoreError) -> bool {
        let _ = e;
        false
    }

    /// Whether `e` says the database cannot grow (disk full, size limit).
    fn full(&self, e: &StoreError) -> bool {
        let _ = e;
        false
    }
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Command>,
    stats: Arc<Stats>,
}

/// Counts that show group commit at work.
#[derive(Default)]
struct Stats {
    transactions: AtomicU64,
    commands: AtomicU64,
    /// When a write last failed because the database could not grow, as long as no
    /// publish or inbound request has committed since (epoch ms; 0 when not full).
    full_since: AtomicI64,
}

impl WriterHandle {
    /// Starts `workers` writer tasks on `backend`. With a `feed`, new deliveries go to
    /// it as soon as their transaction commits; without, they wait in the table for a
    /// worker to claim them.
    pub(crate) fn spawn<B: Backend>(
        backend: B,
        workers: usize,
        feed: Option<mpsc::UnboundedSender<DeliveryJob>>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        let stats = Arc::new(Stats::default());
        let backend = Arc::new(backend);
        // The workers take turns at the queue: while one commits, the next gathers
        // whatever arrives meanwhile.
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers.max(1) {
            tokio::spawn(run(
                Arc::clone(&backend),
                Arc::clone(&rx),
                feed.clone(),
                Arc::clone(&stats),
            ));
        }
        Self { tx, stats }
    }

    /// Committed transactions and the writes they carried.
    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            writes: self.stats.commands.load(Ordering::Relaxed),
        }
    }

    /// Since when writes have been failing because the database cannot grow (epoch
    /// ms); `None` once a publish or inbound request commits again.
    pub(crate) fn full_since(&self) -> Option<i64> {
        Some(self.stats.full_since.load(Ordering::Relaxed)).filter(|&at| at != 0)
    }

    pub(crate) async fn publish(&self, event: NewEvent) -> StoreResult<PublishOutcome> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Publish(event, reply)).await?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn give_up(&self, give_up: GiveUp) -> StoreResult<Recorded> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::GiveUp(give_up, reply)).await?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn record_inbound(&self, req: NewInbound) -> StoreResult<InboundOutcome> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Inbound(Box::new(req), reply)).await?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn record_attempt(&self, result: AttemptResult) -> StoreResult<Recorded> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Attempt(result, reply)).await?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    async fn send(&self, cmd: Command) -> StoreResult<()> {
        self.tx.send(cmd).await.map_err(|_| StoreError::Closed)
    }
}

async fn run<B: Backend>(
    backend: Arc<B>,
    rx: Arc<Mutex<mpsc::Receiver<Command>>>,
    feed: Option<mpsc::UnboundedSender<DeliveryJob>>,
    stats: Arc<Stats>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let got = rx.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if got == 0 {
            break;
        }
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats
            .commands
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&*backend, std::mem::take(&mut batch), feed.as_ref(), &stats).await;
    }
}

async fn commit_batch<B: Backend>(
    backend: &B,
    batch: Vec<Command>,
    feed: Option<&mpsc::UnboundedSender<DeliveryJob>>,
    stats: &Stats,
) {
    let result = backend.apply(&batch).await;
    note_space(backend, stats, &batch, &result);
    match result {
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
        Err(e) if backend.unreachable(&e) => {
            tracing::warn!(error = %e, size = batch.len(), "database unreachable; batch not written");
            // The error is not `Clone`; every caller gets one that says the same.
            let why =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
            for cmd in batch {
                reply(cmd, Err(StoreError::Unavailable(why.clone().into())), feed);
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size = batch.len(), "batch failed; retrying its commands one by one");
            for cmd in batch {
                let one = std::slice::from_ref(&cmd);
                let result = backend.apply(one).await;
                note_space(backend, stats, one, &result);
                let result =
                    result.and_then(|mut o| o.pop().ok_or(StoreError::Corrupt("writer outcome")));
                reply(cmd, result, feed);
            }
        }
    }
}

/// Keeps [`WriterHandle::full_since`] true: set by a write the database had no room
/// for, cleared by a committed write that grows it (a publish or an inbound request).
fn note_space<B: Backend, T>(
    backend: &B,
    stats: &Stats,
    batch: &[Command],
    result: &StoreResult<T>,
) {
    match result {
        Err(e) if backend.full(e) => {
            let now = hookrelay_core::clock::now_ms();
            let _ = stats
                .full_since
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        }
        Ok(_) if batch.iter().any(Command::grows) => {
            stats.full_since.store(0, Ordering::Relaxed);
        }
        _ => {}
    }
}

impl Command {
    /// Whether the command adds history (a publish, an inbound request) rather than
    /// moving what is there on (an attempt, a give-up).
    pub(crate) fn grows(&self) -> bool {
        matches!(self, Self::Publish(..) | Self::Inbound(..))
    }
}

/// Hands new deliveries to the feed, if there is one (without, they are claimed from
/// the table); either way the caller gets an outcome without them.
fn hand_over(jobs: Vec<DeliveryJob>, feed: Option<&mpsc::UnboundedSender<DeliveryJob>>) {
    if let Some(feed) = feed {
        for job in jobs {
            // No dispatcher in this process (an API-only role): the rows wait in the table.
            let _ = feed.send(job);
        }
    }
}

fn reply(
    cmd: Command,
    result: StoreResult<Outcome>,
    feed: Option<&mpsc::UnboundedSender<DeliveryJob>>,
) {
    // A caller that went away (a dropped request) no longer needs the answer; the write
    // itself stands, and its deliveries go to the dispatcher from here, not from the caller.
    match (cmd, result) {
        (Command::Publish(_, tx), Ok(Outcome::Published(mut o))) => {
            hand_over(std::mem::take(&mut o.jobs), feed);
            drop(tx.send(Ok(o)))
        }
        (Command::Publish(_, tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::Attempt(_, tx), Ok(Outcome::Attempted(recorded))) => drop(tx.send(Ok(recorded))),
        (Command::Attempt(_, tx), Ok(_)) => {
            drop(tx.send(Err(StoreError::Corrupt("writer outcome"))))
        }
        (Command::Attempt(_, tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::GiveUp(_, tx), Ok(Outcome::GaveUp(recorded))) => drop(tx.send(Ok(recorded))),
        (Command::GiveUp(_, tx), Ok(_)) => {
            drop(tx.send(Err(StoreError::Corrupt("writer outcome"))))
        }
        (Command::GiveUp(_, tx), Err(e)) => drop(tx.send(Err(e))),
        (Command::Inbound(_, tx), Ok(Outcome::Inbound(mut o))) => {
            hand_over(std::mem::take(&mut o.jobs), feed);
            if let Some(p) = o.published.as_mut() {
                p.jobs.clear();
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
