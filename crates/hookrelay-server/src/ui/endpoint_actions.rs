//! The endpoint actions of the dashboard, each a CSRF-checked POST that does what the
//! API's call does: `…/enabled` (enable or disable), `…/rotate` (the new secret is shown once)
//! and `…/test` (one event of a chosen type, to this endpoint only).

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::EventId;
use hookrelay_core::scope::Scope;
use hookrelay_signature::{Signer, SignerKind};
use hookrelay_store::model::{EndpointPatch, EndpointRecord, NewEvent};

use super::csrf::{self, UiForm};
use super::html::{UiError, escape, page, query_value, time};
use super::session::{UiSession, see_other};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::publishing;
use crate::tenancy;
use hookrelay_core::endpoint::DEFAULT_GRACE_PERIOD_S;

/// What every action checks first: the form's CSRF token, then that the session may see
/// the scope and the endpoint exists. `Err` is the page to answer with instead.
async fn checked(
    state: &AppState,
    session: &UiSession,
    headers: &HeaderMap,
    form: &UiForm,
    (scope, code): (&str, &str),
) -> Result<(Scope, EndpointRecord), Response> {
    if let Err(refused) = csrf::check(headers, form, &session.session.csrf) {
        return Err(refused.into_response());
    }
    let found = async {
        let scope = tenancy::scope(&session.session.caller, scope)?;
        let endpoint = tenancy::endpoint(state, &scope, code).await?;
        Ok::<_, UiError>((scope, endpoint))
    };
    found.await.map_err(IntoResponse::into_response)
}

fn back(scope: &str, done: &str, code: &str) -> Response {
    see_other(&format!(
        "/ui/endpoints?scope={}&done={done}&endpoint={}",
        query_value(scope),
        query_value(code)
    ))
}

/// `POST /ui/endpoints/{scope}/{code}/enabled` with `enabled=true|false`: what the API's
/// `PATCH {"enabled": …}` does.
pub async fn set_enabled(
    State(state): State<AppState>,
    session: UiSession,
    Path((scope, code)): Path<(String, String)>,
    headers: HeaderMap,
    form: UiForm,
) -> Result<Response, UiError> {
    let (scope, endpoint) = match checked(&state, &session, &headers, &form, (&scope, &code)).await
    {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let enabled = match form.get("enabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(ApiError::invalid_field("enabled", "enabled is true or false").into()),
    };
    let patch = EndpointPatch {
        enabled: Some(enabled),
        ..EndpointPatch::default()
    };
    let record = state
        .store()
        .update_endpoint(&scope, &endpoint.code, patch)
        .await?;
    if let Some(d) = state.dispatcher() {
        // As after the API's PATCH: a re-enabled endpoint starts afresh.
        d.forget_endpoint(&record.id);
    }
    tracing::info!(scope = %scope, endpoint = %code, enabled, "endpoint changed from the dashboard");
    Ok(back(
        scope.as_str(),
        if enabled { "enabled" } else { "disabled" },
        &record.code,
    ))
}

/// `POST /ui/endpoints/{scope}/{code}/rotate`: a new secret of the same kind; the old
/// one keeps signing for the API's default grace period. The answer is the only place
/// the dashboard shows the secret, and it is not cached.
pub async fn rotate(
    State(state): State<AppState>,
    session: UiSession,
    Path((scope, code)): Path<(String, String)>,
    headers: HeaderMap,
    form: UiForm,
) -> Result<Response, UiError> {
    let (scope, current) = match checked(&state, &session, &headers, &form, (&scope, &code)).await {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let kind = Signer::parse(&current.secret).map_or(SignerKind::Hmac, |s| s.kind());
    let secret = Signer::generate(kind).to_text();
    let until = now_ms() + (DEFAULT_GRACE_PERIOD_S as i64) * 1000;
    let record = state
        .store()
        .rotate_secret(&scope, &current.code, &secret, Some(until))
        .await?;
    tracing::info!(scope = %scope, endpoint = %code, "signing secret rotated from the dashboard");
    // What receivers verify with: the public key for ed25519, the secret itself for HMAC.
    let verify_with = Signer::parse(&record.secret)
        .ok()
        .and_then(|s| s.public_key())
        .map_or_else(|| record.secret.clone(), |k| k.to_text());
    let body = format!(
        "<h1>New signing secret for {scope} / {code}</h1>\
         <p role=\"status\">Copy it now: this page is the only time the dashboard shows it.</p>\
         <p><label for=\"secret\">Verification secret</label>\
         <input id=\"secret\" class=\"secret\" readonly value=\"{secret}\" size=\"60\"></p>\
         <p>The previous secret keeps signing too until {until}, so receivers can switch over.</p>\
         <p><a href=\"/ui/endpoints?scope={scope_q}\">Back to the endpoints</a></p>",
        scope = escape(scope.as_str()),
        code = escape(&record.code),
        secret = escape(&verify_with),
        until = time(until),
        scope_q = escape(&query_value(scope.as_str())),
    );
    let mut response = Html(page("New secret", Some(&session.session.csrf), &body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /ui/endpoints/{scope}/{code}/test`: publishes one event of the chosen type, with
/// an example payload made from its schema, to this endpoint only; then shows its delivery.
pub async fn test(
    State(state): State<AppState>,
    session: UiSession,
    Path((scope, code)): Path<(String, String)>,
    headers: HeaderMap,
    form: UiForm,
) -> Result<Response, UiError> {
    let (scope, endpoint) = match checked(&state, &session, &headers, &form, (&scope, &code)).await
    {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let event_type = form.get("type").unwrap_or("").trim();
    let schema = state
        .store()
        .get_event_type(event_type)
        .await?
        .and_then(|t| t.schema);
    let data = super::example::payload(schema.as_ref());
    let value: serde_json::Value = serde_json::from_str(&data).map_err(ApiError::internal)?;
    publishing::check(&state, event_type, &value).await?;
    let outcome = state
        .store()
        .publish(NewEvent {
            id: EventId::generate(),
            event_type: event_type.to_owned(),
            scopes: vec![scope.as_str().to_owned()],
            data,
            idempotency_key: None,
            created_at: now_ms(),
            only_endpoint: Some(endpoint.code.clone()),
        })
        .await?;
    if outcome.deliveries == 0 {
        return Err(ApiError::conflict(format!(
            "endpoint {:?} got no delivery: it must be enabled and subscribed",
            endpoint.code
        ))
        .into());
    }
    tracing::info!(scope = %scope, endpoint = %code, event = %outcome.event_id, "test event sent from the dashboard");
    Ok(see_other(&format!(
        "/ui/deliveries?event={}",
        query_value(outcome.event_id.as_str())
    )))
}
