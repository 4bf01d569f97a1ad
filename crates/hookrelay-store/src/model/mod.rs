//! The records the store reads and writes.

mod delivery;
mod endpoint;
mod event;
mod event_type;
mod page;
mod token;

pub use delivery::{
    AttemptRecord, AttemptResult, DeliveryFilter, DeliveryRecord, DeliveryStatus, NextStep,
};
pub use endpoint::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, SubscriptionRecord};
pub use event::{DeliveryJob, EndpointTarget, EventFilter, EventRecord, NewEvent, PublishOutcome};
pub use event_type::{EventTypeRecord, SyncReport};
pub use page::{Page, PageRequest};
pub use token::TokenRecord;
