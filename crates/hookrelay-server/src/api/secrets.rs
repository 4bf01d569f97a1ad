//! An endpoint's signing material: `GET …/secret` and `POST …/secret/rotate`. A secret
//! is a `whsec_` HMAC secret (`v1` signatures) or a `whsk_` ed25519 signing key (`v1a`;
//! the answer then also carries the `whpk_` public key receivers verify with).

use axum::Json;
use axum::extract::{Path, State};
use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_core::endpoint::DEFAULT_GRACE_PERIOD_S;
use hookrelay_signature::{Signer, SignerKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::openapi::doc;
use crate::tenancy::{ScopePath, endpoint_not_found};

/// `{"secret": …}`, plus `public_key` for an ed25519 key.
fn secret_json(secret: &str) -> Value {
    let public = Signer::parse(secret)
        .ok()
        .and_then(|s| s.public_key())
        .map(|k| k.to_text());
    let mut answer = json!({ "secret": secret });
    if let Some(public) = public {
        answer["public_key"] = json!(public);
    }
    answer
}

/// `GET /scopes/{scope}/endpoints/{code}/secret`.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/endpoints/{code}/secret", tag = "endpoints",
    summary = "Get an endpoint's signing secret",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    responses(
        (status = 200, description = "The secret", body = doc::Secret),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn secret(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let found = state.store().get_endpoint(&scope, &code).await?;
    let endpoint = found.ok_or_else(|| endpoint_not_found(&scope, &code))?;
    Ok(Json(secret_json(&endpoint.secret)))
}

/// The body of `secret/rotate`: both fields optional (`{}` generates a secret and keeps
/// the old one signing for 24 h).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Rotate)]
pub struct RotateBody {
    /// The new `whsec_…` or `whsk_…` secret; generated when absent.
    #[serde(default)]
    #[schema(value_type = Option<doc::SigningSecret>)]
    secret: Option<String>,
    /// Generate this kind (`hmac`, `ed25519`) instead of the current one; not together
    /// with `secret`.
    #[serde(default)]
    #[schema(value_type = Option<doc::KeyType>)]
    key_type: Option<String>,
    /// How long the old secret keeps signing too, in seconds (default 24 h, at most 30
    /// days; `0` stops it at once).
    #[serde(default)]
    #[schema(maximum = 2592000)]
    grace_period_s: Option<u64>,
}

/// The longest grace period accepted (30 days).
const MAX_GRACE_S: u64 = 30 * 24 * 3600;

/// `POST /scopes/{scope}/endpoints/{code}/secret/rotate`: a new signing secret; the old
/// one keeps signing (a second signature entry) until the grace period ends.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/endpoints/{code}/secret/rotate", tag = "endpoints",
    summary = "Rotate an endpoint's signing secret",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    request_body(content = Option<RotateBody>, description = "A JSON object, or no body: `{}` or no body generates a secret of the current kind"),
    responses(
        (status = 200, description = "The new secret", body = doc::RotatedSecret),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Result<Json<Value>, ApiError> {
    let route = crate::http::extract::Route::of(&req);
    let bytes = crate::http::extract::read_body(req, &state).await?;
    let body: RotateBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        RotateBody::default()
    } else {
        crate::http::extract::parse_json_for(&route, &bytes)?
    };
    let kind = body
        .key_type
        .as_deref()
        .map(|k| {
            SignerKind::parse(k)
                .ok_or_else(|| ApiError::invalid_field("key_type", "key_type is hmac or ed25519"))
        })
        .transpose()?;
    let secret = match (body.secret, kind) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "key_type",
                "give either a secret or the key_type to generate, not both",
            ));
        }
        (Some(s), None) => Signer::parse(&s)
            .map(|_| s)
            .map_err(|e| ApiError::invalid_field("secret", e.to_string()))?,
        (None, Some(kind)) => Signer::generate(kind).to_text(),
        (None, None) => {
            // A new secret of the same kind as the current one.
            let current = state
                .store()
                .get_endpoint(&scope, &code)
                .await?
                .ok_or_else(|| endpoint_not_found(&scope, &code))?;
            let kind = Signer::parse(&current.secret).map_or(SignerKind::Hmac, |s| s.kind());
            Signer::generate(kind).to_text()
        }
    };
    let grace = body.grace_period_s.unwrap_or(DEFAULT_GRACE_PERIOD_S);
    if grace > MAX_GRACE_S {
        return Err(ApiError::invalid_field(
            "grace_period_s",
            format!("at most {MAX_GRACE_S} seconds (30 days)"),
        ));
    }
    let until = (grace > 0).then(|| now_ms() + (grace as i64) * 1000);
    let record = state
        .store()
        .rotate_secret(&scope, &code, &secret, until)
        .await?;
    tracing::info!(scope = %scope, endpoint = %code, grace_period_s = grace, "signing secret rotated");
    let mut answer = secret_json(&record.secret);
    answer["previous_secret_expires_at"] =
        json!(record.previous_secret.map(|(_, t)| to_rfc3339(t)));
    Ok(Json(answer))
}
