//! The HTTP API: `/api/v1/…`, `/health`, `/metrics` (served by [`crate::metrics`]),
//! `/openapi.json`, `/docs`, and the dashboard's `/ui/…` routes (built in [`crate::ui`]).
//!
//! # Layout
//! One module per resource: [`event_types`], [`endpoints`] (with recovery; [`destination`]
//! validates `url`/`targets`), [`secrets`] (signing secret and rotation), [`subscriptions`], [`events`] (publishing), [`deliveries`], [`tokens`],
//! [`health`], [`openapi`] (the document and its page), [`sources`] (the inbound gateway's configuration and request log; the
//! gateway itself is [`crate::inbound`]). Policy lives in [`extract`] (JSON bodies, paging) and
//! [`crate::auth::Caller`] (tokens, scopes); [`error`] is the one error type.

pub mod deliveries;
pub mod destination;
pub mod endpoints;
pub mod error;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod secrets;
pub mod sources;
pub mod subscriptions;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::metrics;
use error::ApiError;

/// Every route.
pub fn router(state: AppState) -> Router {
    let limit = state.config().max_payload_bytes;
    let v1 = Router::new()
        .route(
            "/event-types",
            get(event_types::list).put(event_types::sync),
        )
        .route(
            "/event-types/{code}",
            get(event_types::get)
                .put(event_types::put)
                .delete(event_types::archive),
        )
        .route(
            "/scopes/{scope}/endpoints",
            get(endpoints::list)
                .post(endpoints::create)
                .put(endpoints::apply),
        )
        .route(
            "/scopes/{scope}/endpoints/{code}",
            get(endpoints::get)
                .patch(endpoints::update)
                .delete(endpoints::delete),
        )
        .route(
            "/scopes/{scope}/endpoints/{code}/secret",
            get(secrets::secret),
        )
        .route(
            "/scopes/{scope}/endpoints/{code}/recover",
            post(endpoints::recover),
        )
        .route(
            "/scopes/{scope}/endpoints/{code}/secret/rotate",
            post(secrets::rotate_secret),
        )
        .route(
            "/scopes/{scope}/subscriptions",
            get(subscriptions::get).put(subscriptions::apply),
        )
        .route(
            "/events",
            get(events::list)
                .post(events::publish)
                .layer(from_fn_with_state(state.clone(), metrics::publishes::count)),
        )
        .route("/events/{id}", get(events::get))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/sources", get(sources::list))
        .route(
            "/sources/{name}",
            get(sources::get).put(sources::put).delete(sources::delete),
        )
        .route("/sources/{name}/requests", get(sources::requests))
        .route("/sources/{name}/requests/{id}", get(sources::request))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke));
    Router::new()
        .nest("/api/v1", v1)
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::scrape::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::page::docs))
        .route(
            "/in/{name}",
            axum::routing::post(crate::inbound::gateway::receive),
        )
        .merge(crate::ui::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The routes of a worker process: it delivers and answers `/health` and `/metrics`,
/// nothing else.
pub fn worker_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::scrape::metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
