//! `GET /docs`: a self-contained page (inline script and style, nothing fetched but
//! `/openapi.json`) that lists the routes and webhooks, so the docs work offline and
//! behind a firewall.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page, compiled in.
const PAGE: &str = include_str!("docs.html");

/// Only this origin, so the page can never pull in anything from elsewhere.
const CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";

/// `GET /docs`: no token needed.
#[utoipa::path(get, path = "/docs", tag = "meta",
    summary = "A readable list of the routes and webhooks",
    responses((status = 200, description = "An HTML page that renders /openapi.json", content_type = "text/html", body = String)))]
pub async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        PAGE,
    )
        .into_response()
}
