//! What one group-commit batch writes, in the same shape for both dialects: the
//! publishes with a few multi-row statements, the attempt results likewise, then the
//! give-ups and inbound requests one by one. Each dialect's connection supplies only the
//! statements that differ (multi-row `VALUES` in chunks for SQLite, `UNNEST` arrays for
//! PostgreSQL, its advisory lock) through the traits of [`publish`], [`attempts`] and
//! [`inbound`]; its writer adds what it does around the transaction (`NOTIFY`, a rerun).

pub(crate) mod attempts;
pub(crate) mod inbound;
pub(crate) mod publish;

use std::sync::atomic::AtomicI64;

use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{AttemptResult, NewEvent, Recorded};
use crate::writer::{Command, Outcome};

/// A dialect's connection, with every statement a batch needs.
pub(crate) trait Statements:
    inbound::InboundStatements + attempts::AttemptStatements
{
}

impl<C: inbound::InboundStatements + attempts::AttemptStatements> Statements for C {}

/// What the writer hands every batch: the cipher new credentials are sealed with, and
/// the hour the hourly counters were last pruned at ([`crate::queries::stats::record`]).
pub(crate) struct Context<'a> {
    pub cipher: &'a Cipher,
    pub stats_pruned: &'a AtomicI64,
}

/// Runs every command of `batch` on `conn` (inside the writer's transaction); one
/// outcome per command, in order.
pub(crate) async fn write<C: Statements>(
    conn: &mut C,
    cx: &Context<'_>,
    batch: &[Command],
) -> StoreResult<Vec<Outcome>> {
    let (events, results) = split(batch);
    let mut published = publish::write_batch(conn, cx.cipher, &events)
        .await?
        .into_iter();
    let mut applied = attempts::write_batch(conn, &results, cx.stats_pruned)
        .await?
        .into_iter();
    let mut outcomes = Vec::with_capacity(batch.len());
    for cmd in batch {
        outcomes.push(match cmd {
            Command::Publish(..) => Outcome::Published(
                published
                    .next()
                    .ok_or(StoreError::Corrupt("writer outcome"))?,
            ),
            Command::Attempt(..) => Outcome::Attempted(
                match applied
                    .next()
                    .ok_or(StoreError::Corrupt("writer outcome"))?
                {
                    true => Recorded::Applied,
                    false => Recorded::Superseded,
                },
            ),
            Command::GiveUp(give_up, _) => Outcome::GaveUp(attempts::give_up(conn, give_up).await?),
            // One by one: a duplicate must see the request before it, even in this batch.
            Command::Inbound(req, _) => {
                Outcome::Inbound(inbound::record(conn, cx.cipher, req).await?)
            }
        });
    }
    Ok(outcomes)
}

/// The publishes and the attempt results of a batch, in order: those go in a few
/// multi-row statements, the other commands one by one.
fn split(batch: &[Command]) -> (Vec<&NewEvent>, Vec<&AttemptResult>) {
    let mut events = Vec::new();
    let mut attempts = Vec::new();
    for cmd in batch {
        match cmd {
            Command::Publish(e, _) => events.push(e),
            Command::Attempt(r, _) => attempts.push(r),
            Command::GiveUp(..) | Command::Inbound(..) => {}
        }
    }
    (events, attempts)
}
