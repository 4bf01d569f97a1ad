//! Counts `POST /api/v1/events` by its answer, as a layer on that route, so the
//! handler's many early refusals need no counting calls of their own: 202 is a new
//! event, 200 a duplicate (its idempotency key was used), any 4xx a rejection
//! (invalid, unauthorized, forbidden, too large). A 5xx is the server's failure, not
//! the request's, and is not counted.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::Outcome;
use crate::app::AppState;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The layer sits on the route's every method; only publishing is counted.
    let publishing = request.method() == Method::POST;
    let response = next.run(request).await;
    if publishing {
        let outcome = match response.status() {
            StatusCode::ACCEPTED => Some(Outcome::Accepted),
            StatusCode::OK => Some(Outcome::Duplicate),
            s if s.is_client_error() => Some(Outcome::Rejected),
            _ => None,
        };
        if let Some(outcome) = outcome {
            state.metrics().published(outcome);
        }
    }
    response
}
