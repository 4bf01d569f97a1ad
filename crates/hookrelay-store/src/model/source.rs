use std::sync::Arc;

use bytes::Bytes;
use hookrelay_core::ids::{DeliveryId, RequestId};
use hookrelay_core::source::SourceSpec;
use serde::Serialize;

use super::{DeliveryJob, DeliveryStatus, NewEvent, PublishOutcome};

/// A stored inbound source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Its name (`/in/{name}`).
    pub name: String,
    /// Its settings, secrets included (the store seals them at rest).
    pub spec: SourceSpec,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What the gateway decided about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InboundStatus {
    /// Verified and stored; forwarded / published.
    Accepted,
    /// Refused (signature, address, …); never forwarded.
    Rejected,
    /// Verified, but its deduplication key was seen within the window.
    Duplicate,
}

impl InboundStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Duplicate => "duplicate",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Self::Accepted),
            "rejected" => Some(Self::Rejected),
            "duplicate" => Some(Self::Duplicate),
            _ => None,
        }
    }
}

/// A request to record. An `Accepted` one with a `dedupe_key` seen within
/// `dedupe_window_ms` is recorded as `Duplicate` instead, in the same transaction.
#[derive(Debug, Clone)]
pub struct NewInbound {
    /// Chosen before the write.
    pub id: RequestId,
    /// The source's name.
    pub source: String,
    /// Unix ms.
    pub received_at: i64,
    /// `Accepted` or `Rejected`.
    pub status: InboundStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The caller's address.
    pub client_ip: Option<String>,
    /// The deduplication key, if the source deduplicates and the request carries one.
    pub dedupe_key: Option<String>,
    /// How far back a key counts, ms.
    pub dedupe_window_ms: i64,
    /// The headers as received, in order, secret values already redacted.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
    /// The scheme that verified it.
    pub verified: Option<String>,
    /// The event to publish when accepted.
    pub publish: Option<NewEvent>,
}

/// What recording a request did.
#[derive(Debug, Clone)]
pub struct InboundOutcome {
    /// The request's id.
    pub id: RequestId,
    /// Its final status (`Duplicate` when the key was seen).
    pub status: InboundStatus,
    /// The earlier request with the same key, for a duplicate.
    pub duplicate_of: Option<RequestId>,
    /// Forward deliveries created.
    pub forwards: usize,
    /// The published event, if any.
    pub published: Option<PublishOutcome>,
    /// The new deliveries (handed to the dispatcher by the writer).
    pub jobs: Vec<DeliveryJob>,
}

/// What a forward delivery sends: the request as received.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundPayload {
    /// The request.
    pub request_id: RequestId,
    /// Its source.
    pub source: String,
    /// The scheme that verified it.
    pub verified: String,
    /// Headers as received (secret values redacted, hop-by-hop still present).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
}

/// A forward of a logged request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardRecord {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// The forward endpoint's code.
    pub endpoint: String,
    /// Where it goes.
    pub url: Option<String>,
    /// Its status.
    pub status: DeliveryStatus,
}

/// A logged request.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRecord {
    /// Its id.
    pub id: RequestId,
    /// Its source.
    pub source: String,
    /// Unix ms.
    pub received_at: i64,
    /// What was decided.
    pub status: InboundStatus,
    /// Why it was rejected (or what it duplicates).
    pub reason: Option<String>,
    /// The caller's address.
    pub client_ip: Option<String>,
    /// The deduplication key.
    pub dedupe_key: Option<String>,
    /// Body length in bytes.
    pub body_size: usize,
    /// The scheme that verified it.
    pub verified: Option<String>,
    /// The published event.
    pub event_id: Option<String>,
    /// Its forwards.
    pub forwards: Vec<ForwardRecord>,
    /// Headers (detail only).
    pub headers: Option<Vec<(String, String)>>,
    /// The raw body (detail only).
    pub body: Option<Bytes>,
}

/// Shared, so a job cloned into the schedule does not copy the body.
pub type SharedPayload = Arc<InboundPayload>;
