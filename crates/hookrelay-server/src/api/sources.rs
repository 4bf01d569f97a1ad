//! `/api/v1/sources`: the inbound gateway's configuration (admin only) and each
//! source's request log. A source's `forward_to` URLs become the endpoints `forward-1`,
//! `forward-2`, … of the scope `inbound:{name}`, so forwards get the delivery engine's
//! retries, history, circuit breaker and recovery.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::scope::Scope;
use hookrelay_core::source::{SourceSpec, Verify, validate_name};
use hookrelay_signature::{Signer, SignerKind};
use hookrelay_store::model::{
    EndpointInput, ForwardRecord, InboundRecord, InboundStatus, Page, SourceRecord,
};
use hookrelay_store::sqlite::forward_scope;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, Detail};
use super::extract::{ApiJson, ApiQuery, Paging};
use crate::app::AppState;
use crate::auth::Caller;
use crate::inbound::REDACTED;

/// A source as the API shows it: every secret redacted.
#[derive(Serialize)]
pub struct SourceView {
    name: String,
    #[serde(flatten)]
    spec: Value,
    /// Where requests are received.
    url_path: String,
    created_at: String,
    updated_at: String,
}

/// `verify` with secret values replaced.
fn redacted(verify: &Verify) -> Value {
    let mut v = serde_json::to_value(verify).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        for key in ["secrets", "values"] {
            if let Some(Value::Array(items)) = map.get_mut(key) {
                for item in items {
                    // A Standard Webhooks public key is not secret; show it.
                    let public = item.as_str().is_some_and(|s| {
                        s.starts_with(hookrelay_signature::asymmetric::PUBLIC_PREFIX)
                    });
                    if !public {
                        *item = json!(REDACTED);
                    }
                }
            }
        }
        if map.contains_key("password") {
            map.insert("password".to_owned(), json!(REDACTED));
        }
    }
    v
}

impl From<SourceRecord> for SourceView {
    fn from(r: SourceRecord) -> Self {
        let mut spec = serde_json::to_value(&r.spec).unwrap_or_default();
        spec["verify"] = redacted(&r.spec.verify);
        spec["dedupe"] = json!(r.spec.effective_dedupe());
        Self {
            url_path: format!("/in/{}", r.name),
            name: r.name,
            spec,
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
        }
    }
}

fn invalid(errors: Vec<hookrelay_core::FieldError>) -> ApiError {
    ApiError::invalid(
        errors
            .into_iter()
            .map(|e| Detail {
                field: e.field,
                message: e.message,
            })
            .collect(),
    )
}

fn forward_endpoints_scope(name: &str) -> Result<Scope, ApiError> {
    Ok(Scope::parse(&forward_scope(name))?)
}

/// `PUT /sources/{name}`: 201 created, 200 replaced.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<(StatusCode, Json<SourceView>), ApiError> {
    caller.require_admin()?;
    validate_name(&name)?;
    spec.validate().map_err(invalid)?;
    let urls: Vec<(String, &str)> = spec
        .forward_to
        .iter()
        .enumerate()
        .map(|(i, u)| (format!("forward_to[{i}]"), u.as_str()))
        .collect();
    super::endpoints::guard_urls(&state, &urls).await?;
    let inputs = spec
        .forward_to
        .iter()
        .enumerate()
        .map(|(i, url)| EndpointInput {
            code: format!("forward-{}", i + 1),
            name: format!("{name} forward {}", i + 1),
            url: hookrelay_core::endpoint::parse_url(url)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| url.clone()),
            targets: None,
            enabled: true,
            headers: Default::default(),
            auth: None,
            timeout_ms: None,
            rate_limit: None,
            secret: None,
            generated_secret: Signer::generate(SignerKind::Hmac).to_text(),
        })
        .collect();
    let (record, created) = state.store().put_source(&name, spec).await?;
    let scope = forward_endpoints_scope(&name)?;
    state.store().apply_endpoints(&scope, inputs).await?;
    forget_forward_endpoints(&state, &scope).await?;
    tracing::info!(source = %name, created, "source saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record.into())))
}

/// New URLs apply to the next forward.
async fn forget_forward_endpoints(state: &AppState, scope: &Scope) -> Result<(), ApiError> {
    if let Some(d) = state.dispatcher() {
        let page = state
            .store()
            .list_endpoints(
                scope,
                hookrelay_store::model::PageRequest {
                    limit: 100,
                    cursor: None,
                },
            )
            .await?;
        for e in page.data {
            d.forget_endpoint(&e.id);
        }
    }
    Ok(())
}

/// `GET /sources`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<Page<SourceView>>, ApiError> {
    caller.require_admin()?;
    let page = state.store().list_sources(paging.page()?).await?;
    Ok(Json(page.map(SourceView::from)))
}

async fn find(state: &AppState, name: &str) -> Result<SourceRecord, ApiError> {
    state
        .store()
        .get_source(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("source {name:?} not found")))
}

/// `GET /sources/{name}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<SourceView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(find(&state, &name).await?.into()))
}

/// `DELETE /sources/{name}`: 204; its request log and forward history stay.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    if !state.store().delete_source(&name).await? {
        return Err(ApiError::not_found(format!("source {name:?} not found")));
    }
    let scope = forward_endpoints_scope(&name)?;
    forget_forward_endpoints(&state, &scope).await?;
    state.store().apply_endpoints(&scope, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A logged request.
#[derive(Serialize)]
pub struct RequestView {
    id: String,
    received_at: String,
    status: InboundStatus,
    reason: Option<String>,
    client_ip: Option<String>,
    dedupe_key: Option<String>,
    body_size: usize,
    verified: Option<String>,
    event_id: Option<String>,
    forwards: Vec<ForwardRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    /// Set when the body is not UTF-8: `body` is then base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    body_encoding: Option<&'static str>,
}

impl From<InboundRecord> for RequestView {
    fn from(r: InboundRecord) -> Self {
        let (body, body_encoding) = match r.body {
            None => (None, None),
            Some(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => (Some(text.to_owned()), None),
                Err(_) => (
                    Some(base64::engine::general_purpose::STANDARD.encode(&bytes)),
                    Some("base64"),
                ),
            },
        };
        Self {
            id: r.id.to_string(),
            received_at: to_rfc3339(r.received_at),
            status: r.status,
            reason: r.reason,
            client_ip: r.client_ip,
            dedupe_key: r.dedupe_key,
            body_size: r.body_size,
            verified: r.verified,
            event_id: r.event_id,
            forwards: r.forwards,
            headers: r.headers.map(|pairs| {
                let mut map = serde_json::Map::new();
                for (name, value) in pairs {
                    map.insert(name, json!(value));
                }
                map
            }),
            body,
            body_encoding,
        }
    }
}

/// Filters of the request log.
#[derive(Deserialize)]
pub struct RequestQuery {
    status: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /sources/{name}/requests`: newest first; `?status=accepted|rejected|duplicate`.
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> Result<Json<Page<RequestView>>, ApiError> {
    caller.require_admin()?;
    find(&state, &name).await?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(InboundStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_field("status", "status is accepted, rejected or duplicate")
        })?),
    };
    let page = state
        .store()
        .list_inbound(&name, status, q.paging.page()?)
        .await?;
    Ok(Json(page.map(RequestView::from)))
}

/// `GET /sources/{name}/requests/{id}`: with headers (credentials redacted) and body.
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<RequestView>, ApiError> {
    caller.require_admin()?;
    state
        .store()
        .get_inbound(&name, &id)
        .await?
        .map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::not_found(format!("request {id:?} of source {name:?} not found")))
}
