//! `/api/v1/tokens`: tokens limited to some scopes; listed without their value, revoked.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::scope::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{Caller, generate_token, hash_token};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::openapi::doc;

/// The body: the scopes the token may act on.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TokenInput)]
pub struct CreateBody {
    /// At least one scope, e.g. `biz:biz1`.
    #[schema(value_type = Vec<doc::Scope>, min_items = 1)]
    scopes: Vec<String>,
    /// A label; `scoped` when absent.
    #[serde(default)]
    name: Option<String>,
}

/// Mints a scoped token (admin only). Its value is shown once; only its hash is kept.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    summary = "Mint a scoped token (admin)",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The token, shown this once", body = doc::TokenCreated),
        (status = 403, description = "Not the admin token")))]
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

/// `GET /tokens` (admin only): live tokens, without their values.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    summary = "List tokens (admin)",
    responses(
        (status = 200, description = "Live tokens, without their values", body = doc::TokenPage),
        (status = 403, description = "Not the admin token")))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let tokens = state.store().list_tokens().await?;
    let data: Vec<Value> = tokens
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "admin": t.scopes.is_none(),
                "scopes": t.scopes,
                "created_at": to_rfc3339(t.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data, "next_cursor": null })))
}

/// `DELETE /tokens/{id}` (admin only): the token stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    summary = "Revoke a token (admin)",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such token")))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let revoked = state.store().revoke_token(&id).await?;
    state.tokens().clear();
    if revoked {
        tracing::info!(token = %id, "token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("token {id:?} not found")))
    }
}
