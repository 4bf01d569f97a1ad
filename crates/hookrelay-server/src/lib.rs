//! Hookrelay's server: the HTTP API and the delivery dispatcher.
//!
//! # Layout
//! - [`startup`]: [`Server::build`] opens the store, creates the admin token, binds the
//!   socket and starts the dispatcher; [`Server::run_until_stopped`] serves until the
//!   shutdown future resolves, then drains deliveries in flight.
//! - [`config`]: the settings.
//! - [`master_key`]: where the key that seals credentials at rest comes from (the
//!   setting, or a key file next to the database).
//! - [`app`]: the handlers' shared state.
//! - [`auth`]: bearer tokens and the [`auth::Caller`] extractor.
//! - [`http`]: what every HTTP surface shares: the error type, the extractors, and the
//!   router that assembles [`api`], [`ui`] and [`inbound`] (siblings that never import
//!   each other).
//! - [`api`]: one module per resource under `/api/v1`.
//! - [`tenancy`]: which scopes a caller reaches: the `{scope}` extractor and the reads
//!   by id that never load another tenant's row.
//! - [`publishing`]: whether an event may be published (type, registry, schema), for the
//!   API, the inbound gateway and the dashboard alike.
//! - [`openapi`]: `GET /openapi.json` and `GET /docs`.
//! - [`registry_cache`]: which event types are publishable, cached briefly.
//! - [`retention`]: the background task that prunes old history and payloads.
//! - [`ssrf`]: the guard that keeps deliveries out of private and reserved networks.
//! - [`tls`]: HTTPS for the API (certificate and key loading, the TLS listener).
//! - [`serve_conn`]: the connection loop (plain or TLS): hyper's HTTP/1.1 builder with a
//!   header read timeout, the caller's address per request, graceful shutdown.
//! - [`inbound`]: the inbound gateway, `POST /in/{source}`: verify, deduplicate, record,
//!   answer; forwards go through the dispatcher.
//! - [`dispatch`]: the in-memory schedule, signing, sending and the retry decision.
//! - [`metrics`]: `GET /metrics` (Prometheus text), one recorder per [`Server`].
//! - [`ui`]: the dashboard under `/ui` (login, deliveries, retry), server-rendered HTML.

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod dispatch;
pub mod http;
pub mod inbound;
pub mod master_key;
pub mod metrics;
pub mod openapi;
pub mod publishing;
pub mod registry_cache;
pub mod retention;
pub mod serve_conn;
pub mod ssrf;
pub mod startup;
pub mod tenancy;
pub mod tls;
pub mod ui;

pub use config::{Config, Role};
pub use startup::Server;

/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("Hookrelay/", env!("CARGO_PKG_VERSION"));
