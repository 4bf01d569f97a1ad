//! `/api/v1/scopes/{scope}/endpoints`: endpoints, their signing secret and recovery.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::balance::{Strategy, Target};
use hookrelay_core::clock::{now_ms, parse_rfc3339, to_rfc3339};
use hookrelay_core::endpoint::{OutboundAuth, validate_code, validate_headers};
use hookrelay_core::scope::Scope;
use hookrelay_signature::{Signer, SignerKind};
use hookrelay_store::model::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, Page};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::destination;
use super::error::{ApiError, Detail};
use super::extract::{ApiJson, ApiQuery, Paging};
use crate::app::AppState;
use crate::auth::Caller;
use crate::dispatch::REDACTED_VALUE;
use crate::ssrf::refusal;

/// An endpoint as the API shows it: credentials and header values redacted.
#[derive(Serialize)]
pub struct EndpointView {
    id: String,
    scope: String,
    code: String,
    name: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<Target>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<Strategy>,
    enabled: bool,
    disabled_reason: Option<String>,
    headers: BTreeMap<String, String>,
    auth: Option<Value>,
    timeout_ms: Option<u32>,
    rate_limit: Option<u32>,
    subscriptions: Vec<String>,
    /// Consecutive failed attempts.
    failure_streak: u32,
    /// When the current run of failures began.
    failing_since: Option<String>,
    /// The circuit breaker: `closed`, `open` (deliveries wait) or `half_open` (probing).
    circuit: &'static str,
    /// How deliveries are signed: `hmac` (`v1`) or `ed25519` (`v1a`).
    key_type: &'static str,
    created_at: String,
    updated_at: String,
}

impl EndpointView {
    /// The view of a stored endpoint, with its live circuit state.
    pub fn new(state: &AppState, r: EndpointRecord) -> Self {
        let circuit = state
            .dispatcher()
            .and_then(|d| d.circuit_state(&r.id))
            .unwrap_or(if r.failure_streak >= state.config().circuit_threshold {
                // Not used since the start: it resumes open, and the next delivery probes.
                "open"
            } else {
                "closed"
            });
        Self {
            id: r.id.to_string(),
            scope: r.scope,
            code: r.code,
            name: r.name,
            url: r.url,
            strategy: r.targets.as_ref().map(|t| t.strategy),
            targets: r.targets.map(|t| t.targets),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            headers: r
                .headers
                .into_keys()
                .map(|k| (k, REDACTED_VALUE.to_owned()))
                .collect(),
            auth: r.auth.map(|a| match a {
                OutboundAuth::Bearer { .. } => json!({ "type": "bearer", "token": REDACTED_VALUE }),
                OutboundAuth::Basic { username, .. } => {
                    json!({ "type": "basic", "username": username, "password": REDACTED_VALUE })
                }
            }),
            timeout_ms: r.timeout_ms,
            rate_limit: r.rate_limit,
            subscriptions: r.subscriptions,
            failure_streak: r.failure_streak,
            failing_since: r.failing_since.map(to_rfc3339),
            circuit,
            key_type: if r
                .secret
                .starts_with(hookrelay_signature::asymmetric::SIGNING_PREFIX)
            {
                SignerKind::Ed25519.name()
            } else {
                SignerKind::Hmac.name()
            },
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
        }
    }
}

/// An endpoint as a client writes it (`POST`, and each item of `PUT`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    code: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    targets: Option<Vec<Target>>,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    auth: Option<OutboundAuth>,
    #[serde(default)]
    timeout_ms: Option<u32>,
    #[serde(default)]
    rate_limit: Option<u32>,
    #[serde(default)]
    secret: Option<String>,
    /// The kind of secret to generate when `secret` is absent: `hmac` (default) or
    /// `ed25519`.
    #[serde(default)]
    key_type: Option<String>,
}

fn yes() -> bool {
    true
}

/// The longest per-attempt timeout an endpoint may ask for.
const MAX_TIMEOUT_MS: u32 = 300_000;

fn check_limits(
    timeout_ms: Option<u32>,
    rate_limit: Option<u32>,
    at: &str,
    details: &mut Vec<Detail>,
) {
    if timeout_ms.is_some_and(|t| t == 0 || t > MAX_TIMEOUT_MS) {
        details.push(Detail {
            field: format!("{at}timeout_ms"),
            message: format!("timeout_ms must be between 1 and {MAX_TIMEOUT_MS}"),
        });
    }
    if rate_limit == Some(0) {
        details.push(Detail {
            field: format!("{at}rate_limit"),
            message: "rate_limit must be at least 1 per second (omit it for no limit)".to_owned(),
        });
    }
}

impl EndpointBody {
    /// Validates into a store input; field errors are prefixed with `at` (`[2].`).
    fn into_input(self, at: &str, details: &mut Vec<Detail>) -> Option<EndpointInput> {
        let before = details.len();
        let mut push = |e: hookrelay_core::FieldError| {
            details.push(Detail {
                field: format!("{at}{}", e.field),
                message: e.message,
            })
        };
        if let Err(e) = validate_code(&self.code) {
            push(e);
        }
        if let Err(e) = validate_headers(&self.headers) {
            push(e);
        }
        if let Some(secret) = &self.secret
            && let Err(e) = Signer::parse(secret)
        {
            push(hookrelay_core::FieldError::new("secret", e.to_string()));
        }
        let kind = match (
            self.key_type.as_deref().map(SignerKind::parse),
            &self.secret,
        ) {
            (None, _) => SignerKind::Hmac,
            (Some(Some(kind)), None) => kind,
            (Some(None), _) => {
                push(hookrelay_core::FieldError::new(
                    "key_type",
                    "key_type is hmac or ed25519",
                ));
                SignerKind::Hmac
            }
            (Some(Some(_)), Some(_)) => {
                push(hookrelay_core::FieldError::new(
                    "key_type",
                    "give either a secret or the key_type to generate, not both",
                ));
                SignerKind::Hmac
            }
        };
        check_limits(self.timeout_ms, self.rate_limit, at, details);
        let destination = destination::parse(
            self.url.as_deref(),
            self.targets,
            self.strategy.as_deref(),
            true,
            at,
            details,
        );
        if details.len() > before {
            return None;
        }
        Some(EndpointInput {
            name: self
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| self.code.clone()),
            code: self.code,
            url: destination.as_ref()?.url.clone(),
            targets: destination?.targets,
            enabled: self.enabled,
            headers: self.headers,
            auth: self.auth,
            timeout_ms: self.timeout_ms,
            rate_limit: self.rate_limit,
            secret: self.secret,
            generated_secret: Signer::generate(kind).to_text(),
        })
    }
}

/// Runs the SSRF guard over `(field, url)` pairs: 422 naming the field, with a message
/// that says how to allow the range.
pub(super) async fn guard_urls(state: &AppState, urls: &[(String, &str)]) -> Result<(), ApiError> {
    let mut details = Vec::new();
    for (field, raw) in urls {
        let Ok(url) = url::Url::parse(raw) else {
            continue;
        };
        if let Err(not_https) = state.guard().check_scheme(&url) {
            details.push(Detail {
                field: field.clone(),
                message: not_https.to_string(),
            });
        } else if let Err(blocked) = state.guard().check_url(&url).await {
            details.push(Detail {
                field: field.clone(),
                message: refusal(raw, &blocked),
            });
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(details))
    }
}

pub(super) fn scope_for(caller: &Caller, scope: &str) -> Result<Scope, ApiError> {
    let scope = Scope::parse(scope)?;
    caller.check_scope(&scope)?;
    Ok(scope)
}

pub(super) fn not_found(scope: &Scope, code: &str) -> ApiError {
    ApiError::not_found(format!("endpoint {code:?} not found in scope {scope}"))
}

/// `POST /scopes/{scope}/endpoints`: 201, or 409 when the code is taken.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(scope): Path<String>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let mut details = Vec::new();
    let input = body
        .into_input("", &mut details)
        .ok_or_else(|| ApiError::invalid(details))?;
    guard_urls(
        &state,
        &destination::urls(&input.url, input.targets.as_ref(), ""),
    )
    .await?;
    let record = state.store().create_endpoint(&scope, input).await?;
    tracing::info!(scope = %scope, endpoint = %record.code, "endpoint created");
    Ok((StatusCode::CREATED, Json(EndpointView::new(&state, record))))
}

/// `GET /scopes/{scope}/endpoints`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(scope): Path<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<Page<EndpointView>>, ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let page = state.store().list_endpoints(&scope, paging.page()?).await?;
    Ok(Json(page.map(|r| EndpointView::new(&state, r))))
}

/// `GET /scopes/{scope}/endpoints/{code}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((scope, code)): Path<(String, String)>,
) -> Result<Json<EndpointView>, ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let found = state.store().get_endpoint(&scope, &code).await?;
    found
        .map(|e| Json(EndpointView::new(&state, e)))
        .ok_or_else(|| not_found(&scope, &code))
}

/// Present-but-null means "clear"; absent means "leave as it is".
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The body of `PATCH`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    targets: Option<Vec<Target>>,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    auth: Option<Option<OutboundAuth>>,
    #[serde(default, deserialize_with = "double_option")]
    timeout_ms: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    rate_limit: Option<Option<u32>>,
}

/// `PATCH /scopes/{scope}/endpoints/{code}`: `{"enabled":false}` disables.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((scope, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<EndpointView>, ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let mut details = Vec::new();
    let destination = destination::parse(
        body.url.as_deref(),
        body.targets,
        body.strategy.as_deref(),
        false,
        "",
        &mut details,
    );
    if let Some(Err(e)) = body.headers.as_ref().map(validate_headers) {
        details.push(Detail {
            field: e.field,
            message: e.message,
        });
    }
    check_limits(
        body.timeout_ms.flatten(),
        body.rate_limit.flatten(),
        "",
        &mut details,
    );
    if body.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        details.push(Detail {
            field: "name".to_owned(),
            message: "name must not be empty".to_owned(),
        });
    }
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    if let Some(d) = &destination {
        guard_urls(&state, &destination::urls(&d.url, d.targets.as_ref(), "")).await?;
    }
    let (url, targets) = match destination {
        Some(d) => (Some(d.url), Some(d.targets)),
        None => (None, None),
    };
    let patch = EndpointPatch {
        name: body.name,
        url,
        targets,
        enabled: body.enabled,
        headers: body.headers,
        auth: body.auth,
        timeout_ms: body.timeout_ms,
        rate_limit: body.rate_limit,
    };
    let record = state.store().update_endpoint(&scope, &code, patch).await?;
    if let Some(d) = state.dispatcher() {
        // New settings (and a re-enabled endpoint's fresh start) apply to the next delivery.
        d.forget_endpoint(&record.id);
    }
    Ok(Json(EndpointView::new(&state, record)))
}

/// `DELETE /scopes/{scope}/endpoints/{code}`: 204; its delivery history stays.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((scope, code)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let existing = state.store().get_endpoint(&scope, &code).await?;
    if state.store().delete_endpoint(&scope, &code).await? {
        if let (Some(d), Some(e)) = (state.dispatcher(), existing) {
            d.forget_endpoint(&e.id);
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&scope, &code))
    }
}

/// What `PUT /scopes/{scope}/endpoints` answers: what changed, and the result.
#[derive(Serialize)]
pub struct ApplyView {
    #[serde(flatten)]
    report: ApplyReport,
    data: Vec<EndpointView>,
}

/// `PUT /scopes/{scope}/endpoints` with a bare array: the scope's endpoints become
/// exactly this list.
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Path(scope): Path<String>,
    ApiJson(bodies): ApiJson<Vec<EndpointBody>>,
) -> Result<Json<ApplyView>, ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let mut details = Vec::new();
    let mut inputs = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let at = format!("[{i}].");
        if let Some(input) = body.into_input(&at, &mut details) {
            if inputs.iter().any(|x: &EndpointInput| x.code == input.code) {
                details.push(Detail {
                    field: format!("{at}code"),
                    message: format!("{:?} is listed twice", input.code),
                });
            }
            inputs.push(input);
        }
    }
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    let urls: Vec<(String, &str)> = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, input)| {
            destination::urls(&input.url, input.targets.as_ref(), &format!("[{i}]."))
        })
        .collect();
    guard_urls(&state, &urls).await?;
    let report = state.store().apply_endpoints(&scope, inputs).await?;
    let mut data = Vec::new();
    let mut page = hookrelay_store::model::PageRequest {
        limit: 1000,
        cursor: None,
    };
    loop {
        let p = state.store().list_endpoints(&scope, page.clone()).await?;
        for record in p.data {
            if let Some(d) = state.dispatcher() {
                d.forget_endpoint(&record.id);
            }
            data.push(EndpointView::new(&state, record));
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(Json(ApplyView { report, data }))
}

/// The body of `recover`: `since` as RFC 3339 or a duration ago (`2h`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    since: String,
}

/// `POST /scopes/{scope}/endpoints/{code}/recover`: re-queues the endpoint's failed
/// deliveries created since a time.
pub async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path((scope, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<RecoverBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let scope = scope_for(&caller, &scope)?;
    let now = now_ms();
    let since = parse_rfc3339(&body.since)
        .or_else(|| humantime_ago(&body.since, now))
        .ok_or_else(|| {
            ApiError::invalid_field("since", "use an RFC 3339 time or a duration such as \"2h\"")
        })?;
    let ids = state
        .store()
        .recover_endpoint(&scope, &code, since, now)
        .await?;
    let count = ids.len();
    state.schedule(ids.clone(), now);
    tracing::info!(scope = %scope, endpoint = %code, count, "failed deliveries re-queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "requeued": count, "delivery_ids": ids })),
    ))
}

fn humantime_ago(s: &str, now: i64) -> Option<i64> {
    let d = humantime::parse_duration(s.trim()).ok()?;
    Some(now - d.as_millis() as i64)
}
