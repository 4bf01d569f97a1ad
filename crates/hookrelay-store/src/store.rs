//! The one interface the API and the dispatcher use; each backend implements it.

use async_trait::async_trait;
use hookrelay_core::ids::DeliveryId;
use hookrelay_core::scope::Scope;
use hookrelay_core::source::SourceSpec;

use crate::error::StoreResult;
use crate::model::*;

/// Persistence for everything Hookrelay keeps.
///
/// Calls that take a `Scope` only see rows of that scope, so one tenant can never read
/// or change another's.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- event type registry ---

    /// Creates or replaces one type (un-archiving it); `true` when it was created.
    async fn put_event_type(
        &self,
        def: hookrelay_core::event_type::EventTypeDef,
    ) -> StoreResult<(EventTypeRecord, bool)>;
    /// One type, archived or not.
    async fn get_event_type(&self, code: &str) -> StoreResult<Option<EventTypeRecord>>;
    /// Types ordered by code.
    async fn list_event_types(
        &self,
        include_archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<EventTypeRecord>>;
    /// Archives a type; `false` when it did not exist.
    async fn archive_event_type(&self, code: &str) -> StoreResult<bool>;
    /// Makes the registry exactly `defs`: creates, updates, archives the rest.
    async fn sync_event_types(
        &self,
        defs: Vec<hookrelay_core::event_type::EventTypeDef>,
        dry_run: bool,
    ) -> StoreResult<SyncReport>;

    // --- endpoints and subscriptions ---

    /// Creates an endpoint; `Conflict` when the code is taken in the scope.
    async fn create_endpoint(
        &self,
        scope: &Scope,
        input: EndpointInput,
    ) -> StoreResult<EndpointRecord>;
    /// Endpoints of a scope ordered by code.
    async fn list_endpoints(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> StoreResult<Page<EndpointRecord>>;
    /// One endpoint.
    async fn get_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<Option<EndpointRecord>>;
    /// Applies a partial update.
    async fn update_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        patch: EndpointPatch,
    ) -> StoreResult<EndpointRecord>;
    /// Deletes an endpoint and its subscription; its history stays.
    async fn delete_endpoint(&self, scope: &Scope, code: &str) -> StoreResult<bool>;
    /// Makes the scope's endpoints exactly `inputs`.
    async fn apply_endpoints(
        &self,
        scope: &Scope,
        inputs: Vec<EndpointInput>,
    ) -> StoreResult<ApplyReport>;
    /// Replaces the signing secret; the old one keeps signing until `previous_until`
    /// (unix ms), or stops at once when `None`.
    async fn rotate_secret(
        &self,
        scope: &Scope,
        code: &str,
        secret: &str,
        previous_until: Option<i64>,
    ) -> StoreResult<EndpointRecord>;
    /// Makes the scope's subscriptions exactly `subs` (endpoint code → patterns, filter).
    async fn apply_subscriptions(
        &self,
        scope: &Scope,
        subs: Vec<SubscriptionRecord>,
    ) -> StoreResult<ApplyReport>;
    /// The scope's subscriptions.
    async fn list_subscriptions(&self, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>>;

    // --- events ---

    /// Writes the event and one delivery per matching enabled endpoint in one durable
    /// transaction. A used idempotency key returns the original event and writes nothing.
    /// The outcome's `jobs` comes back empty: new deliveries go to the job feed
    /// ([`Store::take_job_feed`]) straight from the commit.
    async fn publish(&self, event: NewEvent) -> StoreResult<PublishOutcome>;
    /// The event log, newest first.
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>>;
    /// One event, if it targets one of the `allowed` scopes (`None`: every scope, the
    /// admin). A scoped caller passes its scopes, so another tenant's event is not found.
    async fn get_event(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<EventRecord>>;

    // --- deliveries ---

    /// The delivery log, newest first.
    async fn list_deliveries(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> StoreResult<Page<DeliveryRecord>>;
    /// One delivery and its attempts in order, if its scope is one of the `allowed`
    /// (`None`: every scope). A scoped caller passes its scopes, so another tenant's
    /// delivery and attempts are not found.
    async fn get_delivery(
        &self,
        id: &str,
        allowed: Option<&[String]>,
    ) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>>;
    /// Makes a delivery pending and due now (a manual resend).
    async fn retry_delivery(&self, id: &DeliveryId, now: i64) -> StoreResult<DeliveryRecord>;
    /// Re-queues an endpoint's failed deliveries created at or after `since`.
    async fn recover_endpoint(
        &self,
        scope: &Scope,
        code: &str,
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryId>>;

    // --- the dispatcher's side ---

    /// Records an attempt (batched with other writes). The attempt row is always kept;
    /// the delivery moves on only if it is still as the attempt found it — pending, due
    /// at [`AttemptResult::due_at`], under [`AttemptResult::lease_until`] — so a late
    /// result never overwrites a newer one ([`Recorded::Superseded`]).
    async fn record_attempt(&self, result: AttemptResult) -> StoreResult<Recorded>;
    /// Gives up a pending delivery without an attempt (its endpoint is gone or disabled):
    /// [`Recorded::Superseded`] when the delivery moved on since it was taken.
    async fn give_up_delivery(&self, give_up: GiveUp) -> StoreResult<Recorded>;
    /// Everything needed to attempt a pending delivery; `None` when it is not pending.
    async fn load_job(&self, id: &DeliveryId) -> StoreResult<Option<DeliveryJob>>;
    /// Pending deliveries and when each is due, for recovery at start-up.
    async fn pending_deliveries(&self) -> StoreResult<Vec<(DeliveryId, i64)>>;
    /// How many deliveries are pending and when the oldest was created, in one indexed
    /// query (for `/metrics`, which asks on every scrape).
    async fn pending_stats(&self) -> StoreResult<PendingStats>;

    // --- the dashboard's reads ---

    /// Recent activity: attempts per hour, failing endpoints, the oldest pending delivery
    /// and inbound requests, each from an index or the hourly counters.
    async fn overview(&self, request: &OverviewRequest) -> StoreResult<Overview>;
    /// Attempts of these endpoints (by id) since `since`, and each one's latest attempt
    /// in the week before `now`; endpoints without attempts are left out.
    async fn endpoint_stats(
        &self,
        endpoint_ids: &[String],
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<EndpointStats>>;
    /// The scopes that have endpoints, in order, limited to `allowed` when given.
    async fn list_scopes(&self, allowed: Option<&[String]>) -> StoreResult<Vec<String>>;

    // --- inbound sources and their request log ---

    /// Creates or replaces a source; `true` when created.
    async fn put_source(&self, name: &str, spec: SourceSpec) -> StoreResult<(SourceRecord, bool)>;
    /// One source.
    async fn get_source(&self, name: &str) -> StoreResult<Option<SourceRecord>>;
    /// Sources by name.
    async fn list_sources(&self, page: PageRequest) -> StoreResult<Page<SourceRecord>>;
    /// Deletes a source (its request log stays).
    async fn delete_source(&self, name: &str) -> StoreResult<bool>;
    /// Records a request — with its forward deliveries and published event when accepted,
    /// or as a duplicate — in one durable transaction.
    async fn record_inbound(&self, req: NewInbound) -> StoreResult<InboundOutcome>;
    /// A source's request log, newest first.
    async fn list_inbound(
        &self,
        source: &str,
        status: Option<InboundStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<InboundRecord>>;
    /// One logged request with its headers and body.
    async fn get_inbound(&self, source: &str, id: &str) -> StoreResult<Option<InboundRecord>>;

    // --- tokens ---

    /// Stores a token's hash.
    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: Option<Vec<String>>,
    ) -> StoreResult<TokenRecord>;
    /// Finds a live token by hash.
    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>>;
    /// Live tokens, oldest first (hashes are never returned).
    async fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes a token; `false` when no live token has this id.
    async fn revoke_token(&self, id: &str) -> StoreResult<bool>;
    /// Whether any live admin token exists.
    async fn has_admin_token(&self) -> StoreResult<bool>;

    // --- claiming, for backends shared by several processes ---

    /// Claims up to `request.limit` pending deliveries due by `request.now` that no live
    /// worker holds — at most [`ClaimRequest::room_for`] of each endpoint, earliest due
    /// first — leasing each until `now + lease_ms`, and returns everything needed to
    /// send them. Two concurrent callers never get the same row; a lease that runs out
    /// (its worker died) makes the row claimable again. Backends with a job feed claim
    /// nothing: their one dispatcher is fed in memory.
    async fn claim_due(&self, request: &ClaimRequest) -> StoreResult<Vec<DeliveryJob>> {
        let _ = request;
        Ok(Vec::new())
    }
    /// Gives back the leases of claimed deliveries that were not attempted (at
    /// shutdown), so another worker can take them at once instead of after the lease.
    /// Each comes with the end of the lease this worker took, so a lease that ran out
    /// and was taken by another worker is left alone.
    async fn release_claims(&self, claims: &[(DeliveryId, i64)]) -> StoreResult<()> {
        let _ = claims;
        Ok(())
    }
    /// Extends this worker's lease on a claimed delivery from `held_until` (the lease's
    /// end as claimed: `now + lease_ms` of the claim) to `until` (unix ms), for an
    /// attempt whose timeout outlasts the lease it was claimed with; `false` when the
    /// delivery is no longer pending or its lease changed (it ran out and another
    /// worker claimed the row).
    async fn renew_claim(&self, id: &DeliveryId, held_until: i64, until: i64) -> StoreResult<bool> {
        let _ = (id, held_until, until);
        Ok(true)
    }
    /// Marks delivering process `worker` alive at `now` and returns how many are alive
    /// (seen within `window_ms`, itself included). Each worker takes that share of every
    /// endpoint's rate limit and concurrency cap, so the limits hold for the cluster.
    /// Always 1 where one process owns the store.
    async fn heartbeat(&self, worker: &str, now: i64, window_ms: i64) -> StoreResult<usize> {
        let _ = (worker, now, window_ms);
        Ok(1)
    }
    /// Removes a worker that stops, so the others take over its share at once.
    async fn leave(&self, worker: &str) -> StoreResult<()> {
        let _ = worker;
        Ok(())
    }
    /// Raised whenever any process commits new or re-queued work (PostgreSQL's
    /// `LISTEN/NOTIFY`), and after a lost listening connection is back (notifications
    /// may have been missed). `None` for a backend whose job feed carries new work;
    /// `Some` means this backend's dispatchers claim rows with [`Store::claim_due`].
    fn work_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }

    /// New deliveries, sent the moment their publish commits, for a dispatcher in this
    /// process. Given out once; `None` for a backend where workers claim rows instead.
    fn take_job_feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<DeliveryJob>>;

    /// Group-commit counters, where the backend batches writes.
    fn write_stats(&self) -> Option<WriteStats> {
        None
    }

    /// Since when (epoch ms) writes have been failing because the database cannot grow
    /// (disk full, or its size limit); `None` once a publish commits again.
    fn full_since(&self) -> Option<i64> {
        None
    }

    /// One round of retention (see [`PruneRequest`]): removes a batch of history older
    /// than the limit and drops a batch of old payloads; call again while
    /// [`PruneReport::more`] says so.
    async fn prune(&self, request: &PruneRequest) -> StoreResult<PruneReport>;

    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Finishes queued writes and closes the connections.
    async fn close(&self);
}
