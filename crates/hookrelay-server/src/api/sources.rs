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

use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::{ApiError, Detail};
use crate::http::extract::{ApiJson, ApiQuery, Paging};
use crate::openapi::doc;
use hookrelay_core::REDACTED;

/// A source as the API shows it: every secret redacted.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Source)]
pub struct SourceView {
    /// Its name.
    name: String,
    /// Its settings, secrets redacted.
    #[serde(flatten)]
    #[schema(value_type = doc::SourceSpec)]
    spec: Value,
    /// Where requests are received.
    url_path: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
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

/// A Standard Webhooks source's `whsec_` secrets and `whpk_` public keys must parse
/// (a `whpk_` must be a valid ed25519 key): one that does not would fail every request
/// with a 401 that blames the sender.
fn check_standard_keys(verify: &Verify) -> Result<(), hookrelay_core::FieldError> {
    let Verify::Standard { secrets, .. } = verify else {
        return Ok(());
    };
    for (i, s) in secrets.iter().enumerate() {
        let problem = if s.starts_with(hookrelay_signature::asymmetric::PUBLIC_PREFIX) {
            hookrelay_signature::PublicKey::parse(s)
                .err()
                .map(|e| e.to_string())
        } else {
            hookrelay_signature::Secret::parse(s)
                .err()
                .map(|e| e.to_string())
        };
        if let Some(problem) = problem {
            return Err(hookrelay_core::FieldError::new(
                format!("verify.secrets[{i}]"),
                problem,
            ));
        }
    }
    Ok(())
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

/// The body as a source. serde refuses unknown fields in every `verify` scheme but
/// `none`, whose variant has no fields to check them against, so `none` is checked here:
/// `{"type": "none", "secrets": […]}` is a mistake, not a source that verifies.
fn read_spec(body: Value) -> Result<SourceSpec, ApiError> {
    if let Some(verify) = body.get("verify").and_then(Value::as_object)
        && verify.get("type").and_then(Value::as_str) == Some("none")
        && let Some(extra) = verify.keys().find(|k| *k != "type")
    {
        return Err(ApiError::invalid_field(
            format!("verify.{extra}"),
            "the scheme none takes no other fields",
        ));
    }
    crate::http::extract::from_value(body)
}

fn forward_endpoints_scope(name: &str) -> Result<Scope, ApiError> {
    Ok(Scope::parse(&forward_scope(name))?)
}

/// `PUT /sources/{name}`: 201 created, 200 replaced.
#[utoipa::path(put, path = "/api/v1/sources/{name}", tag = "sources",
    summary = "Create or replace an inbound source (admin)",
    params(("name" = doc::SourceName, Path, description = "The source's name")),
    request_body = doc::SourceInput,
    responses(
        (status = 200, description = "Replaced", body = SourceView),
        (status = 201, description = "Created", body = SourceView),
        (status = 403, description = "Not the admin token")))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<SourceView>), ApiError> {
    caller.require_admin()?;
    validate_name(&name)?;
    let spec = read_spec(body)?;
    spec.validate().map_err(invalid)?;
    check_standard_keys(&spec.verify).map_err(|e| invalid(vec![e]))?;
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
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    summary = "List inbound sources (admin)",
    params(Paging),
    responses(
        (status = 200, description = "A page of sources", body = doc::SourcePage),
        (status = 403, description = "Not the admin token")))]
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
#[utoipa::path(get, path = "/api/v1/sources/{name}", tag = "sources",
    summary = "Get an inbound source (admin)",
    params(("name" = doc::SourceName, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The source, secrets redacted", body = SourceView),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such source")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<SourceView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(find(&state, &name).await?.into()))
}

/// `DELETE /sources/{name}`: 204; its request log and forward history stay.
#[utoipa::path(delete, path = "/api/v1/sources/{name}", tag = "sources",
    summary = "Delete an inbound source (admin)",
    params(("name" = doc::SourceName, Path, description = "The source's name")),
    responses(
        (status = 204, description = "Deleted; its request log and forward history stay"),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such source")))]
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InboundRequest)]
pub struct RequestView {
    /// Its id.
    id: String,
    /// When it arrived.
    #[schema(format = DateTime)]
    received_at: String,
    #[schema(value_type = doc::InboundStatus)]
    status: InboundStatus,
    /// Why it was rejected.
    reason: Option<String>,
    /// The caller's address.
    client_ip: Option<String>,
    /// Its deduplication key.
    dedupe_key: Option<String>,
    /// Bytes received.
    body_size: usize,
    /// The scheme that verified it.
    verified: Option<String>,
    /// The event it was published as.
    event_id: Option<String>,
    /// Where it was forwarded.
    #[schema(value_type = Vec<doc::ForwardRecord>)]
    forwards: Vec<ForwardRecord>,
    /// Its headers, credentials redacted (`GET …/requests/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    headers: Option<serde_json::Map<String, Value>>,
    /// Its body (`GET …/requests/{id}` only).
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
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// `accepted`, `rejected` or `duplicate`.
    #[param(value_type = Option<doc::InboundStatus>)]
    status: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    paging: Paging,
}

/// `GET /sources/{name}/requests`: newest first; `?status=accepted|rejected|duplicate`.
#[utoipa::path(get, path = "/api/v1/sources/{name}/requests", tag = "sources",
    summary = "A source's request log, newest first (admin)",
    params(("name" = doc::SourceName, Path, description = "The source's name"), RequestQuery, Paging),
    responses(
        (status = 200, description = "A page of logged requests", body = doc::RequestPage),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such source")))]
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> Result<Json<Page<RequestView>>, ApiError> {
    caller.require_admin()?;
    find(&state, &name).await?;
    let status = match q.status.as_deref() {
        None => None,
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
#[utoipa::path(get, path = "/api/v1/sources/{name}/requests/{id}", tag = "sources",
    summary = "A logged request with its headers and body (admin)",
    params(("name" = doc::SourceName, Path, description = "The source's name"), ("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such request")))]
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
