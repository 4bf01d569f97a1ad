//! The embedded SQLite backend.
//!
//! Reads go to a pool of read-only connections. Writes go to one writer connection:
//! publishes, attempt results, give-ups and inbound requests through the crate's
//! group-commit writer (one batch at a time), the rare configuration writes (endpoints,
//! types, tokens) straight to that connection in their own transactions. New
//! deliveries go to the job feed as soon as their batch commits.

mod attempts;
mod connect;
mod deliveries;
mod inbound;
mod publish;
mod sealing;
mod writer;

use async_trait::async_trait;
use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use hookrelay_core::source::SourceSpec;
use sqlx::SqlitePool;

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
    feed: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`, applies the migrations and
    /// checks that `cipher` holds the master key the database's credentials are sealed
    /// with ([`StoreError::WrongMasterKey`](crate::StoreError::WrongMasterKey) if not).
    pub async fn open(url: &str, cipher: Cipher) -> StoreResult<Self> {
        let pools = connect::open(url, 8).await?;
        sealing::check_or_init(&pools.write, &cipher).await?;
        let (feed_tx, feed_rx) = tokio::sync::mpsc::unbounded_channel();
        // One batch at a time: SQLite has one writer.
        let batches = SqliteBatches {
            pool: pools.write.clone(),
            cipher: cipher.clone(),
            stats_pruned: Default::default(),
        };
        let handle = WriterHandle::spawn(batches, 1, Some(feed_tx));
        tokio::spawn(connect::checkpoint_loop(pools.checkpoint.clone()));
        Ok(Self {
            read: pools.read,
            write: pools.write,
            checkpoint: pools.checkpoint,
            handle,
            cipher,
            feed: std::sync::Mutex::new(Some(feed_rx)),
        })
    }
}

impl SqliteStore {
    /// Re-seals every stored credential under `new` in one transaction, then closes
    /// the store; returns how many values were re-sealed. Run it while no other process
    /// has the database open: one still holding the old key could not open them.
    pub async fn rotate_master_key(self, new: &Cipher) -> StoreResult<usize> {
        let result = crate::reseal::rotate(&self.write, &self.cipher, new).await;
        self.close().await;
        result
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_event_type(&self, def: EventTypeDef) -> StoreResult<(EventTypeRecord, bool)> {
        event_types::put(&self.write, def).await
    }
    async fn get_event_type(&self, code: &str) -> StoreResult<Option<EventTypeRecord>> {
        event_types::get(&self.read, code).await
    }
    async fn list_event_types(
        &self,
        include_archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<EventTypeRecord>> {
        event_types::list(&self.read, include_archived, page).await
    }
    async fn archive_event_type(&self, code: &str) -> StoreResult<bool> {
        event_types::archive(&self.write, code).await
    }
    async fn sync_event_types(
        &self,
        defs: Vec<EventTypeDef>,
        dry_run: bool,
    ) -> StoreResult<SyncReport> {
        event_types::sync(&self.write, defs, dry_run).await
    }

    async fn create_endpoint(
        &self,
        scope: &Scope,
        input: EndpointInput,
    ) -> StoreResult<EndpointRecord> {
        endpoints::create(&self.write, &self.cipher, scope, input).await
    }
    async fn list_endpoints(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> StoreResult<Page<EndpointRecord>> {
        endpoints::list(&self.read, &self.cipher, scope, page).await
    }
    async fn get_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<Option<EndpointRecord>> {
        endpoints::get(&self.read, &self.cipher, scope, code).await
    }
    async fn update_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        patch: EndpointPatch,
    ) -> StoreResult<EndpointRecord> {
        endpoints::update(&self.write, &self.cipher, scope, code, patch).await
    }
    async fn delete_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<bool> {
        endpoints::delete(&self.write, scope, code).await
    }
    async fn apply_endpoints(
        &self,
        scope: &Scope,
        inputs: Vec<EndpointInput>,
    ) -> StoreResult<ApplyReport> {
        endpoints::apply(&self.write, &self.cipher, scope, inputs).await
    }
    async fn rotate_secret(
        &self,
        scope: &Scope,
        code: &str,
        secret: &str,
        previous_until: Option<i64>,
    ) -> StoreResult<EndpointRecord> {
        endpoints::rotate_secret(
            &self.write,
            &self.cipher,
            scope,
            code,
            secret,
            previous_until,
        )
        .await
    }
    async fn apply_subscriptions(
        &self,
        scope: &Scope,
        subs: Vec<SubscriptionRecord>,
    ) -> StoreResult<ApplyReport> {
        subscriptions::apply(&self.write, scope, subs).await
    }
    async fn list_subscriptions(&self, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>> {
        subscriptions::list(&self.read, scope).await
    }

    async fn publish(&self, event: NewEvent) -> StoreResult<PublishOutcome> {
        self.handle.publish(event).await
    }
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>> {
        events::list(&self.read, filter, page).await
    }
    async fn get_event(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<EventRecord>> {
        events::get(&self.read, id, allowed).await
    }

    async fn list_deliveries(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> StoreResult<Page<DeliveryRecord>> {
        queries::deliveries::list(&self.read, filter, page).await
    }
    async fn get_delivery(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
        queries::deliveries::get(&self.read, id, allowed).await
    }
    async fn retry_delivery(&self, id: &DeliveryId, now: i64) -> StoreResult<DeliveryRecord> {
        deliveries::retry(&self.write, id, now).await
    }
    async fn recover_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryId>> {
        deliveries::recover(&self.write, scope, code, since, now).await
    }

    async fn record_attempt(&self, result: AttemptResult) -> StoreResult<()> {
        self.handle.record_attempt(result).await
    }
    async fn give_up_delivery(&self, id: &DeliveryId, reason: &str, now: i64) -> StoreResult<()> {
        self.handle
            .give_up(id.clone(), reason.to_owned(), now)
            .await
    }
    async fn load_job(&self, id: &DeliveryId) -> StoreResult<Option<DeliveryJob>> {
        queries::deliveries::load_job(&self.read, &self.cipher, id).await
    }
    async fn pending_deliveries(&self) -> StoreResult<Vec<(DeliveryId, i64)>> {
        queries::deliveries::pending(&self.read).await
    }
    async fn pending_stats(&self) -> StoreResult<PendingStats> {
        queries::deliveries::pending_stats(&self.read).await
    }

    async fn overview(&self, request: &OverviewRequest) -> StoreResult<Overview> {
        queries::stats::overview(&self.read, request).await
    }
    async fn endpoint_stats(
        &self,
        endpoint_ids: &[String],
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<EndpointStats>> {
        queries::stats::endpoint_stats(&self.read, endpoint_ids, since, now).await
    }
    async fn list_scopes(&self, allowed: Option<&[String]>) -> StoreResult<Vec<String>> {
        queries::stats::scopes(&self.read, allowed).await
    }

    async fn put_source(&self, name: &str, spec: SourceSpec) -> StoreResult<(SourceRecord, bool)> {
        sources::put(&self.write, &self.cipher, name, spec).await
    }
    async fn get_source(&self, name: &str) -> StoreResult<Option<SourceRecord>> {
        sources::get(&self.read, &self.cipher, name).await
    }
    async fn list_sources(&self, page: PageRequest) -> StoreResult<Page<SourceRecord>> {
        sources::list(&self.read, &self.cipher, page).await
    }
    async fn delete_source(&self, name: &str) -> StoreResult<bool> {
        sources::delete(&self.write, name).await
    }
    async fn record_inbound(&self, req: NewInbound) -> StoreResult<InboundOutcome> {
        self.handle.record_inbound(req).await
    }
    async fn list_inbound(
        &self,
        source: &str,
        status: Option<InboundStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<InboundRecord>> {
        queries::inbound_log::list(&self.read, source, status, page).await
    }
    async fn get_inbound(&self, source: &str, id: &str) -> StoreResult<Option<InboundRecord>> {
        queries::inbound_log::get(&self.read, source, id).await
    }

    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: Option<Vec<String>>,
    ) -> StoreResult<TokenRecord> {
        tokens::create(&self.write, name, hash, scopes).await
    }
    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        tokens::find(&self.read, hash).await
    }
    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        tokens::list(&self.read).await
    }
    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        tokens::revoke(&self.write, id).await
    }
    async fn has_admin_token(&self) -> StoreResult<bool> {
        tokens::has_admin(&self.read).await
    }

    fn write_stats(&self) -> Option<WriteStats> {
        Some(self.handle.stats())
    }

    fn take_job_feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>> {
        self.feed.lock().ok()?.take()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn close(&self) {
        // Callers await each write's commit, so once the dispatcher and the API have
        // stopped, the writer holds nothing unwritten.
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
