//! The embedded SQLite backend.
//!
//! Reads go to a pool of read-only connections. Writes go to one writer connection:
//! publishes, attempt results, give-ups and inbound requests through the crate's
//! group-commit writer (one batch at a time), the rare configuration writes (endpoints,
//! types, tokens) straight to that connection in their own transactions. The table is
//! the queue: the dispatcher claims due rows ([`claim`]) when the [`Store::work_signal`]
//! says a commit brought new work, when its own retries fall due, and every poll
//! interval; new deliveries go straight to it through the job feed while it has room
//! (see [`claim`]). Its memory holds what is in flight, never the backlog. Failures of the pools
//! and the file come back as [`StoreError::Unavailable`](crate::StoreError::Unavailable),
//! a lock held past the busy timeout as [`StoreError::Busy`](crate::StoreError::Busy).

mod attempts;
mod claim;
mod connect;
mod deliveries;
mod errors;
mod inbound;
mod publish;
mod sealing;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use hookrelay_core::source::SourceSpec;
use sqlx::SqlitePool;
use tokio::sync::Notify;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::*;
use crate::queries::{self, endpoints, event_types, events, sources, subscriptions, tokens};
use crate::store::Store;
use crate::writer::WriterHandle;
use writer::SqliteBatches;

/// A store on one SQLite file.
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    checkpoint: SqlitePool,
    handle: WriterHandle,
    cipher: Cipher,
    /// Deliveries claimed (or handed to the feed) and not yet recorded (see [`claim`]).
    claims: Arc<claim::Claims>,
    /// New deliveries the writer claimed for the dispatcher, given out once.
    feed: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>>>,
    /// Raised after every commit that makes deliveries due.
    signal: Arc<Notify>,
    /// The size limit the writer applies.
    size: Arc<writer::SizeLimit>,
    closing: AtomicBool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`, applies the migrations and
    /// checks that `cipher` holds the master key the database's credentials are sealed
    /// with ([`StoreError::WrongMasterKey`](crate::StoreError::WrongMasterKey) if not).
    pub async fn open(url: &str, cipher: Cipher) -> StoreResult<Self> {
        let classify = |e| errors::classify(e, false);
        let pools = connect::open(url, 8).await.map_err(classify)?;
        sealing::check_or_init(&pools.write, &cipher)
            .await
            .map_err(classify)?;
        let claims = Arc::new(claim::Claims::default());
        let signal = Arc::new(Notify::new());
        let size = Arc::new(writer::SizeLimit::default());
        let (feed_tx, feed_rx) = tokio::sync::mpsc::unbounded_channel();
        // One batch at a time: SQLite has one writer.
        let batches = SqliteBatches {
            claims: Arc::clone(&claims),
            signal: Arc::clone(&signal),
            pool: pools.write.clone(),
            cipher: cipher.clone(),
            stats_pruned: Default::default(),
            size: Arc::clone(&size),
        };
        // The feed carries only what the writer claimed (at most `FEED_LIMIT` at once).
        let handle = WriterHandle::spawn(batches, 1, Some(feed_tx));
        tokio::spawn(connect::checkpoint_loop(
            pools.checkpoint.clone(),
            pools.write.clone(),
        ));
        Ok(Self {
            read: pools.read,
            write: pools.write,
            checkpoint: pools.checkpoint,
            handle,
            cipher,
            claims,
            feed: std::sync::Mutex::new(Some(feed_rx)),
            signal,
            size,
            closing: AtomicBool::new(false),
        })
    }
}

impl SqliteStore {
    /// Re-seals every stored credential under `new` in one transaction, then closes
    /// the store; returns how many values were re-sealed. Run it while no other process
    /// has the database open: one still holding the old key could not open them.
    pub async fn rotate_master_key(self, new: &Cipher) -> StoreResult<usize> {
        let result = self
            .run(crate::reseal::rotate(&self.write, &self.cipher, new))
            .await;
        self.close().await;
        result
    }

    /// Limits the database to `max_bytes`: publishes and inbound requests that would
    /// grow it further fail with [`StoreError::Full`](crate::StoreError::Full) (the
    /// pages retention frees are reused first); attempt results may use a tenth more,
    /// so accepted deliveries are still recorded. A limit below the current size keeps
    /// the database at its current size.
    pub async fn limit_size(&self, max_bytes: u64) -> StoreResult<()> {
        let (page_size,): (i64,) = self
            .run(async {
                Ok(sqlx::query_as("PRAGMA page_size")
                    .fetch_one(&self.read)
                    .await?)
            })
            .await?;
        let page_size = u64::try_from(page_size).unwrap_or(4096).max(512);
        self.size.set((max_bytes / page_size).max(1));
        Ok(())
    }

    /// Deliveries claimed and not yet recorded or given back (what the dispatcher holds).
    pub fn claimed(&self) -> usize {
        self.claims.len()
    }

    /// Tells the dispatcher that a commit made deliveries due.
    fn new_work(&self) {
        self.signal.notify_one();
    }

    /// Runs a store operation, telling its failures apart (see [`errors`]).
    async fn run<T>(&self, op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        op.await
            .map_err(|e| errors::classify(e, self.closing.load(Ordering::Relaxed)))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_event_type(&self, def: EventTypeDef) -> StoreResult<(EventTypeRecord, bool)> {
        self.run(event_types::put(&self.write, def)).await
    }
    async fn get_event_type(&self, code: &str) -> StoreResult<Option<EventTypeRecord>> {
        self.run(event_types::get(&self.read, code)).await
    }
    async fn list_event_types(
        &self,
        include_archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<EventTypeRecord>> {
        self.run(event_types::list(&self.read, include_archived, page))
            .await
    }
    async fn archive_event_type(&self, code: &str) -> StoreResult<bool> {
        self.run(event_types::archive(&self.write, code)).await
    }
    async fn sync_event_types(
        &self,
        defs: Vec<EventTypeDef>,
        dry_run: bool,
    ) -> StoreResult<SyncReport> {
        self.run(event_types::sync(&self.write, defs, dry_run))
            .await
    }

    async fn create_endpoint(
        &self,
        scope: &Scope,
        input: EndpointInput,
    ) -> StoreResult<EndpointRecord> {
        self.run(endpoints::create(&self.write, &self.cipher, scope, input))
            .await
    }
    async fn list_endpoints(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> StoreResult<Page<EndpointRecord>> {
        self.run(endpoints::list(&self.read, &self.cipher, scope, page))
            .await
    }
    async fn get_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<Option<EndpointRecord>> {
        self.run(endpoints::get(&self.read, &self.cipher, scope, code))
            .await
    }
    async fn update_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        patch: EndpointPatch,
    ) -> StoreResult<EndpointRecord> {
        self.run(endpoints::update(
            &self.write,
            &self.cipher,
            scope,
            code,
            patch,
        ))
        .await
    }
    async fn delete_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<bool> {
        self.run(endpoints::delete(&self.write, scope, code)).await
    }
    async fn apply_endpoints(
        &self,
        scope: &Scope,
        inputs: Vec<EndpointInput>,
    ) -> StoreResult<ApplyReport> {
        self.run(endpoints::apply(&self.write, &self.cipher, scope, inputs))
            .await
    }
    async fn rotate_secret(
        &self,
        scope: &Scope,
        code: &str,
        secret: &str,
        previous_until: Option<i64>,
    ) -> StoreResult<EndpointRecord> {
        self.run(endpoints::rotate_secret(
            &self.write,
            &self.cipher,
            scope,
            code,
            secret,
            previous_until,
        ))
        .await
    }
    async fn apply_subscriptions(
        &self,
        scope: &Scope,
        subs: Vec<SubscriptionRecord>,
    ) -> StoreResult<ApplyReport> {
        self.run(subscriptions::apply(&self.write, scope, subs))
            .await
    }
    async fn list_subscriptions(&self, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>> {
        self.run(subscriptions::list(&self.read, scope)).await
    }

    async fn publish(&self, event: NewEvent) -> StoreResult<PublishOutcome> {
        // The writer signals the new deliveries it could not hand to the feed.
        self.run(self.handle.publish(event)).await
    }
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>> {
        self.run(events::list(&self.read, filter, page)).await
    }
    async fn get_event(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<EventRecord>> {
        self.run(events::get(&self.read, id, allowed)).await
    }

    async fn list_deliveries(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> StoreResult<Page<DeliveryRecord>> {
        self.run(queries::deliveries::list(&self.read, filter, page))
            .await
    }
    async fn get_delivery(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
        self.run(queries::deliveries::get(&self.read, id, allowed))
            .await
    }
    async fn retry_delivery(&self, id: &DeliveryId, now: i64) -> StoreResult<DeliveryRecord> {
        let record = self.run(deliveries::retry(&self.write, id, now)).await?;
        self.new_work();
        Ok(record)
    }
    async fn recover_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryId>> {
        let ids = self
            .run(deliveries::recover(&self.write, scope, code, since, now))
            .await?;
        if !ids.is_empty() {
            self.new_work();
        }
        Ok(ids)
    }

    async fn record_attempt(&self, result: AttemptResult) -> StoreResult<Recorded> {
        let id = result.delivery_id.clone();
        let recorded = self.run(self.handle.record_attempt(result)).await;
        // Recorded (the row is settled or due later), or not (the row is still due and
        // claimable again, as a lost lease is on a shared store).
        self.claims.forget([&id]);
        if let Ok(Recorded::Superseded) = recorded {
            // Re-queued by hand while in flight: due now, and claimable from here on.
            self.new_work();
        }
        recorded
    }
    async fn give_up_delivery(&self, give_up: GiveUp) -> StoreResult<Recorded> {
        let id = give_up.delivery_id.clone();
        let done = self.run(self.handle.give_up(give_up)).await;
        self.claims.forget([&id]);
        done
    }
    async fn load_job(&self, id: &DeliveryId) -> StoreResult<Option<DeliveryJob>> {
        self.run(queries::deliveries::load_job(&self.read, &self.cipher, id))
            .await
    }
    async fn pending_deliveries(&self) -> StoreResult<Vec<(DeliveryId, i64)>> {
        self.run(queries::deliveries::pending(&self.read)).await
    }
    async fn pending_stats(&self) -> StoreResult<PendingStats> {
        self.run(queries::deliveries::pending_stats(&self.read))
            .await
    }

    async fn overview(&self, request: &OverviewRequest) -> StoreResult<Overview> {
        self.run(queries::stats::overview(&self.read, request))
            .await
    }
    async fn endpoint_stats(
        &self,
        endpoint_ids: &[String],
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<EndpointStats>> {
        self.run(queries::stats::endpoint_stats(
            &self.read,
            endpoint_ids,
            since,
            now,
        ))
        .await
    }
    async fn list_scopes(&self, allowed: Option<&[String]>) -> StoreResult<Vec<String>> {
        self.run(queries::stats::scopes(&self.read, allowed)).await
    }

    async fn put_source(&self, name: &str, spec: SourceSpec) -> StoreResult<(SourceRecord, bool)> {
        self.run(sources::put(&self.write, &self.cipher, name, spec))
            .await
    }
    async fn get_source(&self, name: &str) -> StoreResult<Option<SourceRecord>> {
        self.run(sources::get(&self.read, &self.cipher, name)).await
    }
    async fn list_sources(&self, page: PageRequest) -> StoreResult<Page<SourceRecord>> {
        self.run(sources::list(&self.read, &self.cipher, page))
            .await
    }
    async fn delete_source(&self, name: &str) -> StoreResult<bool> {
        self.run(sources::delete(&self.write, name)).await
    }
    async fn record_inbound(&self, req: NewInbound) -> StoreResult<InboundOutcome> {
        self.run(self.handle.record_inbound(req)).await
    }
    async fn list_inbound(
        &self,
        source: &str,
        status: Option<InboundStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<InboundRecord>> {
        self.run(queries::inbound_log::list(&self.read, source, status, page))
            .await
    }
    async fn get_inbound(&self, source: &str, id: &str) -> StoreResult<Option<InboundRecord>> {
        self.run(queries::inbound_log::get(&self.read, source, id))
            .await
    }

    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: Option<Vec<String>>,
    ) -> StoreResult<TokenRecord> {
        self.run(tokens::create(&self.write, name, hash, scopes))
            .await
    }
    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        self.run(tokens::find(&self.read, hash)).await
    }
    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        self.run(tokens::list(&self.read)).await
    }
    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        self.run(tokens::revoke(&self.write, id)).await
    }
    async fn has_admin_token(&self) -> StoreResult<bool> {
        self.run(tokens::has_admin(&self.read)).await
    }

    fn write_stats(&self) -> Option<WriteStats> {
        Some(self.handle.stats())
    }

    fn full_since(&self) -> Option<i64> {
        self.handle.full_since()
    }

    fn take_job_feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>> {
        self.feed.lock().ok()?.take()
    }

    fn work_signal(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.signal))
    }

    async fn claim_due(&self, request: &ClaimRequest) -> StoreResult<Vec<DeliveryJob>> {
        self.run(claim::claim_due(
            &self.read,
            &self.cipher,
            &self.claims,
            request,
        ))
        .await
    }

    async fn release_claims(&self, claims: &[(DeliveryId, i64)]) -> StoreResult<()> {
        self.claims.forget(claims.iter().map(|(id, _)| id));
        if !claims.is_empty() {
            self.new_work();
        }
        Ok(())
    }

    async fn prune(&self, request: &PruneRequest) -> StoreResult<PruneReport> {
        // Freed pages go to SQLite's free list and are reused by later writes, so a
        // steady workload under retention keeps a flat file. (Incremental auto-vacuum
        // would give them back to the file system, at a measured cost of about a
        // quarter of the publish rate: every page allocation then updates a map.)
        self.run(queries::retention::prune(&self.write, request))
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run(async {
            sqlx::query("SELECT 1").execute(&self.read).await?;
            Ok(())
        })
        .await
    }

    async fn close(&self) {
        // Callers await each write's commit, so once the dispatcher and the API have
        // stopped, the writer holds nothing unwritten.
        self.closing.store(true, Ordering::Relaxed);
        self.read.close().await;
        self.checkpoint.close().await;
        self.write.close().await;
    }
}

pub use crate::fanout::{FORWARD_TYPE, forward_scope};

/// The database file a `sqlite:` URL names (`None` for an in-memory database), parsed
/// the way the driver parses it.
pub fn database_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    let text = file.to_string_lossy();
    (!text.is_empty() && text != ":memory:" && !url.contains("mode=memory"))
        .then(|| file.to_path_buf())
}
