//! Claiming due deliveries on SQLite: the table is the queue here too, so the
//! dispatcher's memory holds what is in flight, never the backlog.
//!
//! One process owns the file, so a claim needs no lease in the table: the claimed ids
//! live in memory ([`Claims`]) until the attempt's result commits (or the claim is
//! given back), and a claim skips them. A crash forgets them with everything else in
//! memory, which is what makes rows that were in flight due at once on restart. A
//! claim reads only on the reader pool — which endpoints have work, each one's due
//! rows up to its room, then the jobs of those kept — so it never waits for, or adds
//! to, the writer's fsyncs, and never reads the backlog of an endpoint without room.
//!
//! New deliveries skip the read when the dispatcher has room: the writer claims them
//! before its commit (so no claim can take them too) and hands them to the job feed,
//! as long as fewer than [`FEED_LIMIT`] deliveries are claimed, and fewer than their
//! endpoint's share ([`Claims::try_claim`]; so an endpoint that is down cannot fill
//! the feed); the rest wait in the table for a claim. Memory stays bounded either way.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use hookrelay_core::ids::{DeliveryId, EndpointId};
use sqlx::SqlitePool;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::{ClaimRequest, DeliveryJob};
use crate::queries::sql::{Conn, Db, Sql};
use crate::rows::{self, Columns, job_select};

/// The most deliveries claimed at once through the job feed (twice the default
/// `max_in_flight`, so a busy dispatcher always has the next ones in hand).
pub(crate) const FEED_LIMIT: usize = 4096;

/// The least share of the job feed an endpoint may hold (see [`Claims::try_claim`]):
/// an endpoint that is down, or hangs, holds no more than its share of the feed's
/// room, so the feed keeps carrying its neighbours' deliveries; the rest of its new
/// deliveries wait in the table, where claims take them as it has room. (At 64,
/// the default per-endpoint concurrency, one busy endpoint's end-to-end rate fell from
/// about 5,700 to 3,700 deliveries/s: its deliveries went through claims from the
/// table instead; at 512 it is back and a dead and a hanging endpoint still take no
/// more than a quarter of the feed.)
pub(crate) const FEED_PER_ENDPOINT: usize = 512;

/// The claimed deliveries whose attempt has not been recorded yet.
#[derive(Default)]
pub(crate) struct Claims(Mutex<Held>);

/// Claimed ids (with their endpoint) and how many each endpoint has.
#[derive(Default)]
struct Held {
    ids: HashMap<String, String>,
    per_endpoint: HashMap<String, usize>,
    /// Claims from the table under way.
    claiming: usize,
    /// Ids forgotten (their result recorded) while a claim was under way: its reads may
    /// have seen them still pending, so it must not take them.
    settled: HashSet<String>,
}

impl Held {
    fn insert(&mut self, id: &str, endpoint: &str) -> bool {
        if self.ids.contains_key(id) {
            return false;
        }
        self.ids.insert(id.to_owned(), endpoint.to_owned());
        *self.per_endpoint.entry(endpoint.to_owned()).or_default() += 1;
        true
    }

    fn remove(&mut self, id: &str) {
        let Some(endpoint) = self.ids.remove(id) else {
            return;
        };
        if self.claiming > 0 {
            self.settled.insert(id.to_owned());
        }
        if let Some(n) = self.per_endpoint.get_mut(&endpoint) {
            *n -= 1;
            if *n == 0 {
                self.per_endpoint.remove(&endpoint);
            }
        }
    }
}

/// The endpoint a job is counted under (an inbound forward without one: "").
fn endpoint_key(job: &DeliveryJob) -> &str {
    job.endpoint.as_ref().map_or("", |e| e.id.as_str())
}

/// How many deliveries of each endpoint were claimed when a claim from the table started.
struct Snapshot {
    per_endpoint: HashMap<String, usize>,
}

/// A claim from the table under way: while it lasts, recorded ids are remembered
/// ([`Held::settled`]); it ends when dropped.
struct Claiming<'a>(&'a Claims);

impl Drop for Claiming<'_> {
    fn drop(&mut self) {
        let mut held = self.0.lock();
        held.claiming -= 1;
        if held.claiming == 0 {
            held.settled.clear();
        }
    }
}

impl Claims {
    /// Starts a claim from the table; how many of each endpoint are claimed now, for it
    /// to read past. (Not the ids: copying thousands of them for every claim cost more
    /// CPU than the claim's reads. A claim checks each id it read against the live set
    /// instead, where an id recorded since the claim began stays in `settled`.)
    fn begin(&self) -> (Claiming<'_>, Snapshot) {
        let mut held = self.lock();
        held.claiming += 1;
        let snapshot = Snapshot {
            per_endpoint: held.per_endpoint.clone(),
        };
        (Claiming(self), snapshot)
    }

    /// Whether `id` is claimed, or was recorded while a claim from the table was reading.
    fn unavailable(held: &Held, id: &str) -> bool {
        held.ids.contains_key(id) || held.settled.contains(id)
    }

    /// Takes `job` for a claim from the table, unless it is claimed already or its
    /// result was recorded while the claim was reading.
    fn take(&self, job: &DeliveryJob) -> bool {
        let mut held = self.lock();
        !held.settled.contains(job.delivery_id.as_str())
            && held.insert(job.delivery_id.as_str(), endpoint_key(job))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets claims: their results are recorded, or they were given back.
    pub(crate) fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a DeliveryId>) {
        let mut held = self.lock();
        for id in ids {
            held.remove(id.as_str());
        }
    }

    /// How many deliveries are claimed.
    pub(crate) fn len(&self) -> usize {
        self.lock().ids.len()
    }

    /// Claims `job` for the job feed if fewer than [`FEED_LIMIT`] deliveries, and fewer
    /// than its endpoint's share of them, are claimed; `false` leaves it to a later claim
    /// from the table.
    ///
    /// The share is an equal part of the feed among the endpoints holding claims and one
    /// more (room kept for an endpoint not yet there), never under [`FEED_PER_ENDPOINT`]:
    /// an endpoint that is down or hangs cannot take its neighbours' room, and one busy
    /// endpoint alone gets half the feed (at a fixed 512, a single endpoint at full load
    /// spilled into claims from the table, which cost about a third more CPU per
    /// delivery).
    pub(crate) fn try_claim(&self, job: &DeliveryJob) -> bool {
        let endpoint = endpoint_key(job);
        let mut held = self.lock();
        let holding = held.per_endpoint.get(endpoint).copied();
        let sharing = held.per_endpoint.len() + usize::from(holding.is_none()) + 1;
        let share = (FEED_LIMIT / sharing).max(FEED_PER_ENDPOINT);
        held.ids.len() < FEED_LIMIT
            && holding.unwrap_or(0) < share
            && held.insert(job.delivery_id.as_str(), endpoint)
    }
}

const JOBS: &str = concat!(job_select!(), "WHERE d.status = 'pending' AND d.id IN ");

/// The endpoints that have pending deliveries, in id order: a loose scan of the
/// per-endpoint due index, one index seek per endpoint however long its backlog.
const ENDPOINTS_WITH_WORK: &str = "\
WITH RECURSIVE e(id) AS (
    SELECT (SELECT endpoint_id FROM deliveries INDEXED BY deliveries_due_by_endpoint
            WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
    UNION ALL
    SELECT (SELECT endpoint_id FROM deliveries INDEXED BY deliveries_due_by_endpoint
            WHERE status = 'pending' AND endpoint_id > e.id ORDER BY endpoint_id LIMIT 1)
    FROM e WHERE e.id IS NOT NULL
)
SELECT id FROM e WHERE id IS NOT NULL";

/// One endpoint's earliest due deliveries.
const DUE_OF_ENDPOINT: &str = "\
SELECT id, next_attempt_at FROM deliveries INDEXED BY deliveries_due_by_endpoint \
WHERE status = 'pending' AND endpoint_id = $1 AND next_attempt_at <= $2 \
ORDER BY next_attempt_at LIMIT $3";

/// Claims up to `request.limit` due deliveries that are not claimed already, at most
/// the request's room of each endpoint, earliest due first.
///
/// An endpoint without room (down, hanging, throttled: its claims wait at its gate)
/// is skipped without reading a single one of its rows, so a backlog of millions
/// behind a dead endpoint costs its neighbours' claims nothing: the endpoints with
/// work come from one index seek each, and each endpoint with room gives at most its
/// room (plus what this process already holds of it) in due order.
pub(crate) async fn claim_due(
    pool: &SqlitePool,
    cipher: &Cipher,
    claims: &Claims,
    request: &ClaimRequest,
) -> StoreResult<Vec<DeliveryJob>> {
    if request.limit == 0 || request.per_endpoint == 0 {
        return Ok(Vec::new());
    }
    let (_claiming, held) = claims.begin();
    let mut conn = Db::acquire(pool).await?;
    let endpoints = conn.fetch_all(Sql::new(ENDPOINTS_WITH_WORK)).await?;
    // (due, id) of every candidate, from each endpoint with room.
    let mut candidates: Vec<(i64, String)> = Vec::new();
    for row in &endpoints {
        let endpoint = row.text("id")?;
        let room = request
            .room_for(&EndpointId::from_stored(endpoint.clone()))
            .min(request.limit);
        if room == 0 {
            continue;
        }
        // The rows this process holds are due too and come first: read past them.
        let holding = held.per_endpoint.get(&endpoint).copied().unwrap_or(0);
        let read = i64::try_from(room + holding).unwrap_or(i64::MAX);
        let due = Sql::new(DUE_OF_ENDPOINT)
            .bind(endpoint)
            .bind(request.now)
            .bind(read);
        let rows = conn.fetch_all(due).await?;
        let live = claims.lock();
        let mut taken = 0;
        for row in &rows {
            let id = row.text("id")?;
            if taken == room || Claims::unavailable(&live, &id) {
                continue;
            }
            taken += 1;
            candidates.push((row.int("next_attempt_at")?, id));
        }
        drop(live);
    }
    candidates.sort_unstable();
    candidates.truncate(request.limit);
    let kept: Vec<String> = candidates.into_iter().map(|(_, id)| id).collect();
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let mut jobs_sql = Sql::new(JOBS);
    jobs_sql
        .push_list(&kept)
        .push(" ORDER BY d.next_attempt_at");
    let mut jobs = conn
        .fetch_all(jobs_sql)
        .await?
        .iter()
        .map(|row| rows::job(row, cipher))
        .collect::<StoreResult<Vec<_>>>()?;
    // The writer may have claimed some of these for the feed after `held` was read
    // (it claims new rows just before their commit), and some of those may even be
    // delivered and recorded by now, which the reads may not have seen: neither is
    // this claim's to take.
    jobs.retain(|job| claims.take(job));
    Ok(jobs)
}
