use std::collections::BTreeMap;

use hookrelay_core::balance::Targets;
use hookrelay_core::endpoint::OutboundAuth;
use hookrelay_core::ids::EndpointId;
use serde::Serialize;

/// A validated endpoint as the API hands it to the store (create or apply).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointInput {
    /// Unique within the scope.
    pub code: String,
    /// A human name.
    pub name: String,
    /// Where deliveries go (the first target when `targets` is set).
    pub url: String,
    /// Several destinations and how to pick them, instead of `url`.
    pub targets: Option<Targets>,
    /// Disabled endpoints get no new deliveries.
    pub enabled: bool,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Credentials sent with each delivery.
    pub auth: Option<OutboundAuth>,
    /// Per-attempt timeout; the server default when `None`.
    pub timeout_ms: Option<u32>,
    /// Deliveries per second; unlimited when `None`.
    pub rate_limit: Option<u32>,
    /// `whsec_…` given by the user; kept as it is on update when `None`.
    pub secret: Option<String>,
    /// The secret a newly created endpoint gets when `secret` is `None`.
    pub generated_secret: String,
}

/// A partial update (`PATCH`): `None` leaves a field as it is; for the nullable
/// fields `Some(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointPatch {
    /// New name.
    pub name: Option<String>,
    /// New URL.
    pub url: Option<String>,
    /// Replace the targets (`Some(None)`: back to the single `url`).
    pub targets: Option<Option<Targets>>,
    /// Enable or disable; disabling records `disabled_reason`.
    pub enabled: Option<bool>,
    /// Replace the custom headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// Replace or clear the auth.
    pub auth: Option<Option<OutboundAuth>>,
    /// Replace or clear the timeout.
    pub timeout_ms: Option<Option<u32>>,
    /// Replace or clear the rate limit.
    pub rate_limit: Option<Option<u32>>,
}

/// A stored endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    /// Stable id.
    pub id: EndpointId,
    /// Its scope.
    pub scope: String,
    /// Unique within the scope.
    pub code: String,
    /// A human name.
    pub name: String,
    /// Where deliveries go (the first target when `targets` is set).
    pub url: String,
    /// Several destinations and how to pick them, instead of `url`.
    pub targets: Option<Targets>,
    /// Whether new deliveries are created for it.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Outbound credentials.
    pub auth: Option<OutboundAuth>,
    /// Per-attempt timeout.
    pub timeout_ms: Option<u32>,
    /// Deliveries per second.
    pub rate_limit: Option<u32>,
    /// The signing secret.
    pub secret: String,
    /// The secret a rotation replaced, and until when (unix ms) it still signs.
    pub previous_secret: Option<(String, i64)>,
    /// Consecutive failed attempts so far.
    pub failure_streak: u32,
    /// When the current run of failures began (unix ms).
    pub failing_since: Option<i64>,
    /// The subscribed patterns (empty: none).
    pub subscriptions: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// One endpoint's subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionRecord {
    /// The endpoint's code.
    pub endpoint: String,
    /// Patterns.
    pub events: Vec<String>,
    /// A payload filter.
    pub filter: Option<serde_json::Value>,
}

/// What a declarative apply changed, by code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApplyReport {
    /// New.
    pub created: Vec<String>,
    /// Changed.
    pub updated: Vec<String>,
    /// Removed because they were left out.
    pub deleted: Vec<String>,
    /// Already as listed.
    pub unchanged: Vec<String>,
}
