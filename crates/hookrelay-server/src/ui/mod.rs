//! The dashboard: server-rendered HTML under `/ui`, served by the same process as the API.
//!
//! # Layout
//! - [`login`]: `GET/POST /ui/login`, `POST /ui/logout` (the token is checked by
//!   [`crate::auth::authenticate`], exactly as a bearer token is).
//! - [`session`]: in-memory sessions behind the `hookrelay_session` cookie, and the
//!   [`session::UiSession`] extractor that sends anyone without one to the login page.
//! - [`csrf`]: the per-session form token and the `Origin` check on every POST.
//! - [`overview`]: `GET /ui/overview`, the home page: attempts per hour over 24 h,
//!   failing endpoints, the oldest pending delivery, inbound requests.
//! - [`endpoints`]: `GET /ui/endpoints` (a scope's endpoints, state, success rate) and
//!   [`endpoint_actions`]: enable, disable, rotate the secret, send a test event, whose
//!   payload comes from [`example`].
//! - [`deliveries`]: `GET /ui/deliveries` (filtered, paginated log).
//! - [`delivery`]: `GET /ui/deliveries/{id}` and its actions: retry now, and recover the
//!   endpoint's failures since a time.
//! - [`events`]: `GET /ui/events` (filtered, paginated log; find by id or idempotency key).
//! - [`event`]: `GET /ui/events/{id}` (payload and deliveries).
//! - [`catalog`]: `GET /ui/catalog` and `GET /ui/catalog/{code}` (event types, their
//!   schemas and generated example payloads).
//! - [`inbound`]: `GET /ui/inbound` (sources; every inbound page is admin-only).
//! - [`inbound_requests`]: `GET /ui/inbound/{source}` (a source's request log).
//! - [`inbound_request`]: `GET /ui/inbound/{source}/{id}` (headers and body).
//! - [`html`]: escaping, the page shell and HTML error pages.
//! - [`params`]: reading query strings and form fields (blank means any, times).
//! - [`links`]: path segments and the next-page links of cursor-paginated lists.
//! - [`json`]: JSON indented for reading.
//!
//! Reads and actions go through the same [`hookrelay_store::Store`] calls and scope rules
//! as the API, so the dashboard never shows or changes more than the token could.

pub mod catalog;
pub mod csrf;
pub mod deliveries;
pub mod delivery;
pub mod endpoint_actions;
pub mod endpoints;
pub mod event;
pub mod events;
pub mod example;
pub mod history;
pub mod html;
pub mod inbound;
pub mod inbound_request;
pub mod inbound_requests;
pub mod json;
pub mod links;
pub mod login;
pub mod overview;
pub mod params;
pub mod session;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// The dashboard's routes, merged into [`crate::http::router::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(home))
        .route("/ui/", get(home))
        .route("/ui/login", get(login::form).post(login::login))
        .route("/ui/logout", post(login::logout))
        .route("/ui/overview", get(overview::show))
        .route("/ui/endpoints", get(endpoints::list))
        .route(
            "/ui/endpoints/{scope}/{code}/enabled",
            post(endpoint_actions::set_enabled),
        )
        .route(
            "/ui/endpoints/{scope}/{code}/rotate",
            post(endpoint_actions::rotate),
        )
        .route(
            "/ui/endpoints/{scope}/{code}/test",
            post(endpoint_actions::test),
        )
        .route("/ui/deliveries", get(deliveries::list))
        .route("/ui/deliveries/{id}", get(delivery::detail))
        .route("/ui/deliveries/{id}/retry", post(delivery::retry))
        .route("/ui/deliveries/{id}/recover", post(delivery::recover))
        .route("/ui/events", get(events::list))
        .route("/ui/events/{id}", get(event::detail))
        .route("/ui/catalog", get(catalog::list))
        .route("/ui/catalog/{code}", get(catalog::detail))
        .route("/ui/inbound", get(inbound::list))
        .route("/ui/inbound/{source}", get(inbound_requests::list))
        .route("/ui/inbound/{source}/{id}", get(inbound_request::detail))
        .layer(axum::middleware::map_response(protect))
}

/// Headers on every dashboard answer: no page may be framed by another site
/// (clickjacking a retry or a rotation), no answer is sniffed as another type, and
/// nothing is kept by caches or the back button (pages show request bodies, headers
/// and secrets).
async fn protect(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::HeaderValue;
    use axum::http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
        X_FRAME_OPTIONS,
    };
    let headers = response.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `/ui`: the overview is the home page (which sends anyone logged out to log in).
async fn home() -> axum::response::Response {
    session::see_other("/ui/overview")
}
