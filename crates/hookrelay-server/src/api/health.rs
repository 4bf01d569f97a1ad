//! `GET /health`: is the process up and does the database answer.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::error::ApiError;

/// `200 {"status":"ok","version","retention"}`, or 503 when the database does not
/// answer.
#[utoipa::path(get, path = "/health", tag = "meta",
    summary = "Is the process up and does the database answer",
    responses(
        (status = 200, description = "Up", body = crate::openapi::doc::Health),
        (status = 503, description = "The database does not answer")))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store().ping().await.map_err(ApiError::unavailable)?;
    let config = state.config();
    let history = match config.retention.trim() {
        "off" | "never" => None,
        text => Some(text.to_owned()),
    };
    Ok(Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "retention": {"history": history, "payload": config.payload_retention},
    })))
}
