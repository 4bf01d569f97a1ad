//! `GET /metrics`: refreshes the gauges that are read rather than counted (the queue in
//! the store, the dispatcher's circuits, the store's group-commit counters), then
//! renders everything. No token, like `/health`: it holds counts, never names of
//! endpoints or payloads (sources are named, as the operator configured them).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hookrelay_core::clock::now_ms;

use super::{ENDPOINT_CIRCUITS, OLDEST_PENDING_AGE, PENDING, STORE_TRANSACTIONS, STORE_WRITES};
use crate::app::AppState;

/// The media type of Prometheus' text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of this server's metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = state.metrics();
    match state.store().pending_stats().await {
        Ok(stats) => {
            let age_ms = stats.oldest_created_at.map_or(0, |t| (now_ms() - t).max(0));
            metrics.with(|| {
                metrics::gauge!(PENDING).set(stats.count as f64);
                metrics::gauge!(OLDEST_PENDING_AGE).set(age_ms as f64 / 1000.0);
            });
        }
        // The counters are still worth a scrape; the gauges keep their last reading.
        Err(e) => tracing::warn!(error = %e, "/metrics could not read the pending deliveries"),
    }
    if let Some(dispatcher) = state.dispatcher() {
        let counts = dispatcher.circuit_counts();
        metrics.with(|| {
            for (state, n) in ["closed", "open", "half_open"].into_iter().zip(counts) {
                metrics::gauge!(ENDPOINT_CIRCUITS, "state" => state).set(n as f64);
            }
        });
    }
    if let Some(stats) = state.store().write_stats() {
        // Only backends that batch writes have these, so they are registered here.
        metrics.with(|| {
            metrics::counter!(STORE_TRANSACTIONS).absolute(stats.transactions);
            metrics::counter!(STORE_WRITES).absolute(stats.writes);
        });
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()).into_response()
}
