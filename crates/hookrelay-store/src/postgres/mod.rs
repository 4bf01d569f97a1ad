//! The PostgreSQL backend, for any number of `hookrelay serve` processes sharing one
//! database (optionally one schema of it).
//!
//! Reads and configuration writes go straight to a pool. Publishes, attempt results,
//! give-ups and inbound requests go through the crate's group-commit writer, here with
//! a few batches committing at once. There is no job feed: workers claim due rows
//! ([`Store::claim_due`], `FOR UPDATE SKIP LOCKED` with a lease) and wake on the work
//! signal, which a background task raises on each `NOTIFY` of the schema's channel.
//! Connection-level failures come back as
//! [`StoreError::Unavailable`](crate::StoreError::Unavailable), so the API answers 503.

mod attempts;
mod claim;
mod connect;
mod deliveries;
mod drop;
mod errors;
mod inbound;
mod listen;
mod publish;
mod sealing;
mod text;
mod workers;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use hookrelay_core::source::SourceSpec;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::*;
use crate::queries::{self, endpoints, event_types, events, sources, subscriptions, tokens};
use crate::store::Store;
use crate::writer::WriterHandle;
use writer::PgBatches;

pub use crate::fanout::{FORWARD_TYPE, forward_scope};
pub use drop::drop_schema;

/// How a [`PgStore`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The most pooled connections (the listener has one more of its own).
    pub max_connections: u32,
    /// `statement_timeout` of every connection, ms (0: none).
    pub statement_timeout_ms: u64,
    /// Keep every table in this schema (created if missing) instead of the
    /// connection's default `search_path`: letters, digits and `_`, at most 48.
    pub schema: Option<String>,
    /// Apply pending migrations at open; when `false`, open fails unless they are
    /// applied (`hookrelay migrate` applies them).
    pub migrate: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout_ms: 30_000,
            schema: None,
            migrate: true,
        }
    }
}

/// A store on a PostgreSQL database shared by any number of processes.
pub struct PgStore {
    pool: PgPool,
    cipher: Cipher,
    handle: WriterHandle,
    channel: String,
    signal: Arc<Notify>,
    listener: std::sync::Mutex<Option<JoinHandle<()>>>,
    closing: AtomicBool,
}

impl PgStore {
    /// Connects (creating `options.schema` if it is missing, and putting it first in
    /// every connection's `search_path`), applies the migrations when
    /// `options.migrate` (otherwise fails unless they are applied), checks that
    /// `cipher` holds the master key the database's credentials are sealed with
    /// ([`StoreError::WrongMasterKey`](crate::StoreError::WrongMasterKey) if not; a new
    /// database records it), and starts listening for new work.
    pub async fn open(url: &str, cipher: Cipher, options: PgOptions) -> StoreResult<PgStore> {
        let schema = options.schema.as_deref();
        let classify = |e| errors::classify(e, false);
        let pool = connect::open_pool(url, &options).await.map_err(classify)?;
        let ready = async {
            if options.migrate {
                connect::run_migrations(&pool).await?;
            } else {
                connect::check_migrated(&pool).await?;
            }
            sealing::check_or_init(&pool, &cipher).await
        };
        if let Err(e) = ready.await {
            pool.close().await;
            return Err(classify(e));
        }
        let channel = listen::channel(schema);
        let signal = Arc::new(Notify::new());
        let listener = listen::spawn(
            connect::connect_options(url, schema, options.statement_timeout_ms)?,
            channel.clone(),
            Arc::clone(&signal),
        );
        let batches = PgBatches {
            pool: pool.clone(),
            cipher: cipher.clone(),
            stats_pruned: Default::default(),
            channel: channel.clone(),
        };
        Ok(PgStore {
            handle: WriterHandle::spawn(batches, writer::WRITERS, None),
            pool,
            cipher,
            channel,
            signal,
            listener: std::sync::Mutex::new(Some(listener)),
            closing: AtomicBool::new(false),
        })
    }

    /// Applies the pending migrations to the database (to `schema`, created if
    /// missing) and returns how many were applied: 0 when it was up to date.
    pub async fn migrate(url: &str, schema: Option<&str>) -> StoreResult<usize> {
        let classify = |e| errors::classify(e, false);
        let options = PgOptions {
            max_connections: 2,
            schema: schema.map(str::to_owned),
            ..PgOptions::default()
        };
        let pool = connect::open_pool(url, &options).await.map_err(classify)?;
        let applied = connect::run_migrations(&pool).await.map_err(classify);
        pool.close().await;
        applied
    }

    /// Re-seals every stored credential under `new` in one transaction, then closes
    /// the store; returns how many values were re-sealed. Stop every other process
    /// on the database first (and give them `new` before they start again): one still
    /// holding the old key could not open what this writes.
    pub async fn rotate_master_key(self, new: &Cipher) -> StoreResult<usize> {
        let result = self
            .run(crate::reseal::rotate(&self.pool, &self.cipher, new))
            .await;
        self.close().await;
        result
    }

    /// Runs a store operation, telling connection failures apart (see [`errors`]).
    async fn run<T>(&self, op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        op.await
            .map_err(|e| errors::classify(e, self.closing.load(Ordering::Relaxed)))
    }
}

#[async_trait]
impl Store for PgStore {
    async fn put_event_type(&self, def: EventTypeDef) -> StoreResult<(EventTypeRecord, bool)> {
        self.run(event_types::put(&self.pool, def)).await
    }
    async fn get_event_type(&self, code: &str) -> StoreResult<Option<EventTypeRecord>> {
        self.run(event_types::get(&self.pool, code)).await
    }
    async fn list_event_types(
        &self,
        include_archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<EventTypeRecord>> {
        self.run(event_types::list(&self.pool, include_archived, page))
            .await
    }
    async fn archive_event_type(&self, code: &str) -> StoreResult<bool> {
        self.run(event_types::archive(&self.pool, code)).await
    }
    async fn sync_event_types(
        &self,
        defs: Vec<EventTypeDef>,
        dry_run: bool,
    ) -> StoreResult<SyncReport> {
        self.run(event_types::sync(&self.pool, defs, dry_run)).await
    }

    async fn create_endpoint(
        &self,
        scope: &Scope,
        input: EndpointInput,
    ) -> StoreResult<EndpointRecord> {
        self.run(endpoints::create(&self.pool, &self.cipher, scope, input))
            .await
    }
    async fn list_endpoints(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> StoreResult<Page<EndpointRecord>> {
        self.run(endpoints::list(&self.pool, &self.cipher, scope, page))
            .await
    }
    async fn get_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<Option<EndpointRecord>> {
        self.run(endpoints::get(&self.pool, &self.cipher, scope, code))
            .await
    }
    async fn update_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        patch: EndpointPatch,
    ) -> StoreResult<EndpointRecord> {
        self.run(endpoints::update(
            &self.pool,
            &self.cipher,
            scope,
            code,
            patch,
        ))
        .await
    }
    async fn delete_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<bool> {
        self.run(endpoints::delete(&self.pool, scope, code)).await
    }
    async fn apply_endpoints(
        &self,
        scope: &Scope,
        inputs: Vec<EndpointInput>,
    ) -> StoreResult<ApplyReport> {
        self.run(endpoints::apply(&self.pool, &self.cipher, scope, inputs))
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
            &self.pool,
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
        self.run(subscriptions::apply(&self.pool, scope, subs))
            .await
    }
    async fn list_subscriptions(&self, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>> {
        self.run(subscriptions::list(&self.pool, scope)).await
    }

    async fn publish(&self, mut event: NewEvent) -> StoreResult<PublishOutcome> {
        text::event(&mut event);
        self.run(self.handle.publish(event)).await
    }
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>> {
        self.run(events::list(&self.pool, filter, page)).await
    }
    async fn get_event(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<EventRecord>> {
        self.run(events::get(&self.pool, id, allowed)).await
    }

    async fn list_deliveries(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> StoreResult<Page<DeliveryRecord>> {
        self.run(queries::deliveries::list(&self.pool, filter, page))
            .await
    }
    async fn get_delivery(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
        self.run(queries::deliveries::get(&self.pool, id, allowed))
            .await
    }
    async fn retry_delivery(&self, id: &DeliveryId, now: i64) -> StoreResult<DeliveryRecord> {
        self.run(deliveries::retry(&self.pool, &self.channel, id, now))
            .await
    }
    async fn recover_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryId>> {
        self.run(deliveries::recover(
            &self.pool,
            &self.channel,
            scope,
            code,
            since,
            now,
        ))
        .await
    }

    async fn record_attempt(&self, mut result: AttemptResult) -> StoreResult<Recorded> {
        text::attempt(&mut result);
        self.run(self.handle.record_attempt(result)).await
    }
    async fn give_up_delivery(&self, give_up: GiveUp) -> StoreResult<Recorded> {
        self.run(self.handle.give_up(give_up)).await
    }
    async fn load_job(&self, id: &DeliveryId) -> StoreResult<Option<DeliveryJob>> {
        self.run(queries::deliveries::load_job(&self.pool, &self.cipher, id))
            .await
    }
    async fn pending_deliveries(&self) -> StoreResult<Vec<(DeliveryId, i64)>> {
        self.run(queries::deliveries::pending(&self.pool)).await
    }
    async fn pending_stats(&self) -> StoreResult<PendingStats> {
        self.run(queries::deliveries::pending_stats(&self.pool))
            .await
    }

    async fn overview(&self, request: &OverviewRequest) -> StoreResult<Overview> {
        self.run(queries::stats::overview(&self.pool, request))
            .await
    }
    async fn endpoint_stats(
        &self,
        endpoint_ids: &[String],
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<EndpointStats>> {
        self.run(queries::stats::endpoint_stats(
            &self.pool,
            endpoint_ids,
            since,
            now,
        ))
        .await
    }
    async fn list_scopes(&self, allowed: Option<&[String]>) -> StoreResult<Vec<String>> {
        self.run(queries::stats::scopes(&self.pool, allowed)).await
    }

    async fn put_source(&self, name: &str, spec: SourceSpec) -> StoreResult<(SourceRecord, bool)> {
        self.run(sources::put(&self.pool, &self.cipher, name, spec))
            .await
    }
    async fn get_source(&self, name: &str) -> StoreResult<Option<SourceRecord>> {
        self.run(sources::get(&self.pool, &self.cipher, name)).await
    }
    async fn list_sources(&self, page: PageRequest) -> StoreResult<Page<SourceRecord>> {
        self.run(sources::list(&self.pool, &self.cipher, page))
            .await
    }
    async fn delete_source(&self, name: &str) -> StoreResult<bool> {
        self.run(sources::delete(&self.pool, name)).await
    }
    async fn record_inbound(&self, mut req: NewInbound) -> StoreResult<InboundOutcome> {
        text::inbound(&mut req);
        self.run(self.handle.record_inbound(req)).await
    }
    async fn list_inbound(
        &self,
        source: &str,
        status: Option<InboundStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<InboundRecord>> {
        self.run(queries::inbound_log::list(&self.pool, source, status, page))
            .await
    }
    async fn get_inbound(&self, source: &str, id: &str) -> StoreResult<Option<InboundRecord>> {
        self.run(queries::inbound_log::get(&self.pool, source, id))
            .await
    }

    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: Option<Vec<String>>,
    ) -> StoreResult<TokenRecord> {
        self.run(tokens::create(&self.pool, name, hash, scopes))
            .await
    }
    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        self.run(tokens::find(&self.pool, hash)).await
    }
    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        self.run(tokens::list(&self.pool)).await
    }
    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        self.run(tokens::revoke(&self.pool, id)).await
    }
    async fn has_admin_token(&self) -> StoreResult<bool> {
        self.run(tokens::has_admin(&self.pool)).await
    }

    async fn claim_due(&self, request: &ClaimRequest) -> StoreResult<Vec<DeliveryJob>> {
        self.run(claim::claim_due(&self.pool, &self.cipher, request))
            .await
    }
    async fn renew_claim(&self, id: &DeliveryId, held_until: i64, until: i64) -> StoreResult<bool> {
        self.run(claim::renew(&self.pool, id, held_until, until))
            .await
    }
    async fn release_claims(&self, claims: &[(DeliveryId, i64)]) -> StoreResult<()> {
        self.run(claim::release(&self.pool, claims)).await
    }
    async fn heartbeat(&self, worker: &str, now: i64, window_ms: i64) -> StoreResult<usize> {
        self.run(workers::heartbeat(&self.pool, worker, now, window_ms))
            .await
    }
    async fn leave(&self, worker: &str) -> StoreResult<()> {
        self.run(workers::leave(&self.pool, worker)).await
    }
    fn work_signal(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.signal))
    }

    fn take_job_feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>> {
        // Workers claim rows; every process sees all the work through the table.
        None
    }

    fn write_stats(&self) -> Option<WriteStats> {
        Some(self.handle.stats())
    }

    fn full_since(&self) -> Option<i64> {
        self.handle.full_since()
    }

    async fn prune(&self, request: &PruneRequest) -> StoreResult<PruneReport> {
        self.run(queries::retention::prune(&self.pool, request))
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run(async {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
        .await
    }

    async fn close(&self) {
        // Callers await each write's commit, so once the dispatcher and the API have
        // stopped, the writers hold nothing unwritten.
        self.closing.store(true, Ordering::Relaxed);
        if let Some(listener) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            listener.abort();
        }
        self.pool.close().await;
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // The listening task would otherwise outlive a store dropped without `close`.
        if let Some(listener) = self.listener.get_mut().ok().and_then(Option::take) {
            listener.abort();
        }
    }
}
