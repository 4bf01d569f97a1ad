//! The records the store reads and writes.

mod claim;
mod delivery;
mod endpoint;
mod event;
mod event_type;
mod page;
mod retention;
mod source;
mod stats;
mod token;

pub use claim::ClaimRequest;
pub use delivery::{
    AttemptRecord, AttemptResult, DeliveryFilter, DeliveryRecord, DeliveryStatus, GiveUp, Health,
    NextStep, Recorded, TargetFailure,
};
pub use endpoint::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, SubscriptionRecord};
pub use event::{
    DeliveryJob, EndpointTarget, EventFilter, EventRecord, IdempotencyKey, NewEvent, PublishOutcome,
};
pub use event_type::{EventTypeRecord, SyncReport};
pub use page::{Page, PageRequest};
pub use retention::{PruneReport, PruneRequest};
pub use source::{
    ForwardRecord, InboundOutcome, InboundPayload, InboundRecord, InboundStatus, NewInbound,
    SharedPayload, SourceRecord,
};
pub use stats::{
    EndpointStats, FailingEndpoint, HourStats, OldestPending, Overview, OverviewRequest,
};
pub use token::TokenRecord;

/// How many hot-path writes (publishes, attempt results) the store committed, in how
/// many transactions: the ratio is the group-commit batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Committed transactions.
    pub transactions: u64,
    /// Writes they carried.
    pub writes: u64,
}

/// The delivery queue at a glance, for monitoring: how many deliveries are pending and
/// when the oldest of them was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingStats {
    /// Pending deliveries (waiting, retrying or in flight).
    pub count: u64,
    /// When the oldest pending delivery was created (unix ms); `None` when none is.
    pub oldest_created_at: Option<i64>,
}
