//! Schemas of the types the API reads and writes that live in `hookrelay-core` and
//! `hookrelay-store`. Those crates stay free of the documentation dependency (the
//! signature crate is published for receivers, the store knows nothing of HTTP), so the
//! shapes are restated here; the snapshot test shows any drift in review.

use std::collections::BTreeMap;

use utoipa::ToSchema;

use super::answers::TokenView;
use super::text;
use crate::api::deliveries::DeliveryView;
use crate::api::endpoints::EndpointView;
use crate::api::event_types::EventTypeView;
use crate::api::events::EventView;
use crate::api::sources::{RequestView, SourceView};

/// A page of a list: `{"data":[…],"next_cursor":…}` (one schema per item type, so each
/// list names what it holds).
macro_rules! page {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(ToSchema)]
        pub struct $name {
            /// The items, in list order.
            pub data: Vec<$item>,
            /// Pass as `cursor` to read on; `null` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

page!(EventTypePage, EventTypeView, "event types");
page!(EndpointPage, EndpointView, "endpoints");
page!(EventPage, EventView, "events");
page!(DeliveryPage, DeliveryView, "deliveries");
page!(SourcePage, SourceView, "sources");
page!(RequestPage, RequestView, "logged inbound requests");
page!(TokenPage, TokenView, "tokens");

/// What a declarative `PUT` of endpoints or subscriptions changed.
#[derive(ToSchema)]
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

/// What `PUT /event-types` changed (or would change, with `?dry_run=true`).
#[derive(ToSchema)]
pub struct SyncReport {
    /// Codes that did not exist before.
    pub created: Vec<String>,
    /// Codes whose name, description, schema or archived flag changed.
    pub updated: Vec<String>,
    /// Codes left out of the list, now archived.
    pub archived: Vec<String>,
    /// Codes that were already as listed.
    pub unchanged: Vec<String>,
}

/// One entry of the registry as a user writes it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeDef {
    /// The code publishers use, e.g. `order.paid`; each code once in the list.
    #[schema(value_type = text::EventTypeCode)]
    pub code: String,
    /// A human name.
    #[schema(value_type = text::NonBlank)]
    pub name: String,
    /// What the event means.
    pub description: Option<String>,
    /// A JSON Schema (draft 2020-12) for the event's `data`.
    #[schema(value_type = Option<text::EventSchema>)]
    pub schema: Option<serde_json::Value>,
}

/// The whole registry, as in `webhook_events.yaml`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Format version; only `1` exists.
    #[schema(minimum = 1, maximum = 1)]
    pub version: u32,
    /// Every type that should be publishable; unlisted ones are archived.
    pub events: Vec<EventTypeDef>,
}

/// One destination of an endpoint, as a client writes it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// Where to send; each URL once in the list.
    #[schema(value_type = text::EndpointUrl)]
    pub url: String,
    /// Share of the traffic for `random` and `weighted_round_robin`, 1 to 1000.
    #[schema(default = 1, minimum = 1, maximum = 1000, required = false)]
    pub weight: u32,
}

/// One destination of an endpoint.
#[derive(ToSchema)]
pub struct Target {
    /// Where to send.
    pub url: String,
    /// Share of the traffic for `random` and `weighted_round_robin`.
    #[schema(default = 1)]
    pub weight: Option<u32>,
}

/// How an endpoint spreads deliveries over its targets.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each attempt goes to a target picked at random, in proportion to the weights.
    Random,
    /// Targets take turns in proportion to their weights (the default).
    WeightedRoundRobin,
    /// The first target; on no answer or a 5xx, the next one within the same attempt.
    Failover,
}

/// Credentials Hookrelay sends with every delivery to an endpoint.
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum OutboundAuth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        #[schema(value_type = text::Credential)]
        token: String,
    },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name.
        #[schema(value_type = text::BasicUsername)]
        username: String,
        /// The password.
        #[schema(value_type = text::BasicPassword)]
        password: String,
    },
}

/// An endpoint's subscription: a list of event type patterns, or patterns with a
/// payload filter.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum SubscriptionSpec {
    /// `["*"]`, `["order.*"]`.
    List(Vec<text::EventPattern>),
    /// `{"events": […], "filter": {…}}`.
    Detailed {
        /// Patterns.
        events: Vec<text::EventPattern>,
        /// A filter on the payload.
        filter: Option<text::Filter>,
    },
}

/// The subscriptions of a scope, keyed by the code of an endpoint of the scope.
#[derive(ToSchema)]
pub struct Subscriptions(pub BTreeMap<text::EndpointCode, SubscriptionSpec>);

/// Where a delivery stands.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or in flight).
    Pending,
    /// A 2xx was received.
    Succeeded,
    /// Retries exhausted, or the endpoint is gone.
    Failed,
}

/// A target a failover endpoint tried first within an attempt.
#[derive(ToSchema)]
pub struct TargetFailure {
    /// The target.
    pub url: String,
    /// Its status, or the network error.
    pub error: String,
}

/// What became of a logged inbound request.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboundStatus {
    /// Verified and stored; forwarded / published.
    Accepted,
    /// Refused (signature, address, …); never forwarded.
    Rejected,
    /// Verified, but its deduplication key was seen within the window.
    Duplicate,
}

/// One forward of an inbound request.
#[derive(ToSchema)]
pub struct ForwardRecord {
    /// The delivery.
    pub delivery_id: String,
    /// The forward endpoint's code.
    pub endpoint: String,
    /// Where it goes.
    pub url: Option<String>,
    /// Its status.
    pub status: DeliveryStatus,
}

/// The kind of signing key: `hmac` (`whsec_`, `v1` signatures) or `ed25519` (`whsk_`,
/// `v1a`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// HMAC-SHA256 with a `whsec_` secret.
    Hmac,
    /// ed25519 with a `whsk_` signing key.
    Ed25519,
}
