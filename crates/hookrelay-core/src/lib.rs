//! The Hookrelay domain, free of I/O.
//!
//! # Layout
//! - [`ids`]: typed, prefixed identifiers (`evt_…`, `dlv_…`, `ep_…`).
//! - [`scope`]: the owner of endpoints (`biz:biz1`, `tenant-42`).
//! - [`event_type`]: event type codes and their registry entries.
//! - [`endpoint`]: endpoint codes, URLs, outbound auth.
//! - [`balance`]: several `targets` per endpoint and the strategy that picks them.
//! - [`example`]: example payloads generated from an event type's schema.
//! - [`filter`]: payload filters on subscriptions (`$eq`, `$gt`, `$in`, `$and`, …).
//! - [`source`]: inbound sources: verification schemes, deduplication, forwarding and
//!   publishing settings.
//! - [`subscription`]: which event types an endpoint receives.
//! - [`network`]: the SSRF guard's rules (reserved ranges, allowed networks).
//! - [`operational`]: the events Hookrelay publishes about itself (`endpoint.disabled`,
//!   `endpoint.recovered`, `delivery.failed`) into the system scope.
//! - [`retry`]: the retry schedule, jitter and `Retry-After`.
//! - [`schema`]: JSON Schema for event data: compiled at registration, checked on publish.
//! - [`envelope`]: the JSON body every delivery carries.
//! - [`clock`]: millisecond timestamps and their RFC 3339 form.

#![forbid(unsafe_code)]

pub mod balance;
pub mod clock;
pub mod endpoint;
pub mod envelope;
pub mod event_type;
pub mod example;
pub mod filter;
pub mod ids;
pub mod network;
pub mod operational;
pub mod retry;
pub mod schema;
pub mod scope;
pub mod source;
pub mod subscription;

/// A rejected value, with the field it came from, for 422 answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The request field that holds the bad value, e.g. `url` or `type`.
    pub field: String,
    /// What is wrong with it, for a person.
    pub message: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What stands in for a credential wherever one would be shown or stored: recorded
/// delivery headers, the inbound request log, API answers about endpoints and sources.
pub const REDACTED: &str = "[redacted]";
