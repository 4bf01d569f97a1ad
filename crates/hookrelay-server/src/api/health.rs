//! `GET /health`: is the process up, does the database answer, and can it grow.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::error::ApiError;

/// `200 {"status":"ok","version","retention","storage"}`, or 503 when the database
/// does not answer. While the database cannot grow, the status is `"storage_full"`
/// (still 200: reads and accepted deliveries go on) and `storage` says since when.
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
    let full_since = state.store().full_since();
    let storage = match full_since {
        Some(since) => json!({
            "full": true,
            "since": hookrelay_core::clock::to_rfc3339(since),
            "detail": "the database cannot grow (disk full or HOOKRELAY_MAX_DATABASE_SIZE): publishes and inbound requests get 507 until retention or an operator frees space",
            "max_size": config.max_database_size,
        }),
        None => json!({"full": false, "max_size": config.max_database_size}),
    };
    Ok(Json(json!({
        "status": if full_since.is_some() { "storage_full" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "retention": {"history": history, "payload": config.payload_retention},
        "storage": storage,
    })))
}
