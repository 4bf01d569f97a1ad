//! `POST /api/v1/tokens`: tokens limited to some scopes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::scope::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::ApiJson;
use crate::app::AppState;
use crate::auth::{Caller, generate_token, hash_token};

/// The body: the scopes the token may act on.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    scopes: Vec<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Mints a scoped token (admin only). Its value is shown once; only its hash is kept.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    if body.scopes.is_empty() {
        return Err(ApiError::invalid_field("scopes", "name at least one scope"));
    }
    let scopes = body
        .scopes
        .iter()
        .map(|s| Scope::parse(s).map(|s| s.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let token = generate_token();
    let name = body.name.unwrap_or_else(|| "scoped".to_owned());
    let record = state
        .store()
        .create_token(&name, &hash_token(&token), Some(scopes))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "name": record.name,
            "scopes": record.scopes,
            "token": token,
            "created_at": to_rfc3339(record.created_at),
        })),
    ))
}
