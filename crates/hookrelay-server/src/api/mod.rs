//! The HTTP API under `/api/v1` (assembled with the other surfaces by
//! [`crate::http::router`]).
//!
//! # Layout
//! One module per resource: [`event_types`], [`endpoints`] (with recovery; [`destination`]
//! validates `url`/`targets`), [`secrets`] (signing secret and rotation),
//! [`subscriptions`], [`events`] (publishing; the rules are [`crate::publishing`]'s),
//! [`deliveries`], [`tokens`], [`health`], [`sources`] (the inbound gateway's
//! configuration and request log; the gateway itself is [`crate::inbound`]). Request
//! policy lives in [`crate::http::extract`], [`crate::auth::Caller`] (tokens) and
//! [`crate::tenancy`] (which scopes a caller reaches).

pub mod deliveries;
pub mod destination;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod health;
pub mod secrets;
pub mod sources;
pub mod subscriptions;
pub mod tokens;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::metrics;

/// The routes under `/api/v1`.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
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
                .layer(from_fn_with_state(state, metrics::publishes::count)),
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
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
}
