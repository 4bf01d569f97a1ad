//! The publish transaction: events, their scopes and one delivery per matching endpoint,
//! written together (the outbox). A whole group-commit batch costs a handful of
//! statements whatever its size: a lookup of the used idempotency keys, one of the
//! endpoints of the targeted scopes, and a multi-row insert per table; how each is
//! batched is the dialect's ([`PublishStatements`]).

use std::collections::HashMap;
use std::future::Future;

use hookrelay_core::ids::EventId;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::fanout::{self, Candidates};
use crate::model::{DeliveryJob, IdempotencyKey, NewEvent, PublishOutcome};
use crate::queries::sql::Conn;
use crate::rows::{self, Columns};

/// The statements of a publish that differ per dialect.
pub(crate) trait PublishStatements: Conn {
    /// The events already published under `keys` (never empty): columns `id`,
    /// `idempotency_ns`, `idempotency_key` and `n`, the event's deliveries.
    fn existing_keys(
        &mut self,
        keys: &[&IdempotencyKey],
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// The enabled, subscribed endpoints of `scopes`: the endpoint columns with
    /// `sub_events` and `sub_filter` (patterns are matched in Rust).
    fn matching_endpoints(
        &mut self,
        scopes: &[&str],
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// Inserts the events and their `event_scopes` rows.
    fn insert_events(
        &mut self,
        events: &[&NewEvent],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Inserts new pending deliveries.
    fn insert_deliveries(
        &mut self,
        jobs: &[&DeliveryJob],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Writes a batch of publishes; one outcome per event, in order.
pub(crate) async fn write_batch<C: PublishStatements>(
    conn: &mut C,
    cipher: &Cipher,
    events: &[&NewEvent],
) -> StoreResult<Vec<PublishOutcome>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let keys = fanout::keys(events);
    let existing = if keys.is_empty() {
        HashMap::new()
    } else {
        used_keys(conn.existing_keys(&keys).await?)?
    };
    let scopes = fanout::scopes(events);
    let by_scope = candidates(conn.matching_endpoints(&scopes).await?, cipher, &scopes)?;
    let (outcomes, new_events) = fanout::plan(events, &existing, &by_scope);
    conn.insert_events(&new_events).await?;
    let jobs: Vec<&DeliveryJob> = outcomes.iter().flat_map(|o| o.jobs.iter()).collect();
    conn.insert_deliveries(&jobs).await?;
    Ok(outcomes)
}

/// Used idempotency keys, each in its own namespace: key → (id, deliveries).
fn used_keys(found: Vec<impl Columns>) -> StoreResult<HashMap<IdempotencyKey, (EventId, usize)>> {
    found
        .iter()
        .map(|row| {
            let key = IdempotencyKey {
                namespace: row.text("idempotency_ns")?,
                key: row.text("idempotency_key")?,
            };
            let event = EventId::from_stored(row.text("id")?);
            Ok((key, (event, row.int("n")? as usize)))
        })
        .collect()
}

/// Each scope's candidates, in the order the rows came (every scope present).
fn candidates(
    found: Vec<impl Columns>,
    cipher: &Cipher,
    scopes: &[&str],
) -> StoreResult<HashMap<String, Candidates>> {
    let mut by_scope: HashMap<String, Candidates> = scopes
        .iter()
        .map(|s| ((*s).to_owned(), Vec::new()))
        .collect();
    for row in &found {
        let filter = rows::json_col(row, "sub_filter", "subscriptions.filter")?;
        let target = rows::target(row, cipher)?;
        if let Some(c) = fanout::candidate(target, &row.text("sub_events")?, filter)? {
            by_scope.entry(row.text("ep_scope")?).or_default().push(c);
        }
    }
    Ok(by_scope)
}
