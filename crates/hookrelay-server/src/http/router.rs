//! The router of a process: every surface's routes, the shared fallback and body limit.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::http::body_deadline;
use crate::http::error::ApiError;
use crate::{api, inbound, metrics, openapi, ui};

/// Every route of a process that serves the API (roles `all` and `api`).
pub fn router(state: AppState) -> Router {
    let limit = state.config().max_payload_bytes;
    let body_deadline = Duration::from_millis(state.config().body_read_timeout_ms.max(1));
    Router::new()
        .nest("/api/v1", api::routes(state.clone()))
        .route("/health", get(api::health::health))
        .route("/metrics", get(metrics::scrape::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::page::docs))
        .merge(ui::routes())
        // The routes above; the gateway times its bodies itself, with its own setting.
        .layer(from_fn_with_state(body_deadline, body_deadline::layer))
        .route("/in/{name}", post(inbound::gateway::receive))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The routes of a worker process: it delivers and answers `/health` and `/metrics`,
/// nothing else.
pub fn worker_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(api::health::health))
        .route("/metrics", get(metrics::scrape::metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
