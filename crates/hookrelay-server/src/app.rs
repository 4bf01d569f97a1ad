//! Shared state of the HTTP handlers: a cheap clone of one `Arc`.

use std::sync::Arc;

use hookrelay_store::Store;

use crate::auth::TokenCache;
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::inbound::client::TrustedProxies;
use crate::metrics::Metrics;
use crate::registry_cache::RegistryCache;
use crate::ssrf::Guard;

/// What the handlers share.
pub struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) dispatcher: Option<Dispatcher>,
    pub(crate) config: Config,
    pub(crate) admin_hash: Option<String>,
    pub(crate) tokens: TokenCache,
    pub(crate) registry: RegistryCache,
    pub(crate) guard: Guard,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) metrics: Metrics,
    pub(crate) ui_sessions: crate::ui::session::Sessions,
}

/// The handlers' state.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<App>);

impl AppState {
    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }
    /// The settings.
    pub fn config(&self) -> &Config {
        &self.0.config
    }
    /// The hash of the configured admin token, if one was configured.
    pub fn admin_hash(&self) -> Option<&str> {
        self.0.admin_hash.as_deref()
    }
    /// Known token hashes.
    pub fn tokens(&self) -> &TokenCache {
        &self.0.tokens
    }
    /// The SSRF guard.
    pub fn guard(&self) -> &Guard {
        &self.0.guard
    }
    /// Publishable event types, cached briefly.
    pub fn registry(&self) -> &RegistryCache {
        &self.0.registry
    }
    /// Proxies whose `X-Forwarded-For` names the inbound caller.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.0.trusted_proxies
    }
    /// This server's metrics (its own recorder: see [`crate::metrics`]).
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
    /// The dashboard's logged-in sessions.
    pub fn ui_sessions(&self) -> &crate::ui::session::Sessions {
        &self.0.ui_sessions
    }
    /// The dispatcher, when this process delivers.
    pub fn dispatcher(&self) -> Option<&Dispatcher> {
        self.0.dispatcher.as_ref()
    }
    /// An endpoint's circuit breaker as this process sees it: `closed`, `open` or
    /// `half_open`. The API and the dashboard both show it.
    pub fn circuit_state(&self, r: &hookrelay_store::model::EndpointRecord) -> &'static str {
        self.dispatcher()
            .and_then(|d| d.circuit_state(&r.id))
            .unwrap_or(if r.failure_streak >= self.config().circuit_threshold {
                // Not used since the start: it resumes open, and the next delivery probes.
                "open"
            } else {
                "closed"
            })
    }
    /// Schedules deliveries for an attempt at `due` (when this process delivers).
    pub fn schedule(&self, ids: Vec<hookrelay_core::ids::DeliveryId>, due: i64) {
        if let Some(d) = &self.0.dispatcher {
            d.schedule(ids, due);
        }
    }
}
