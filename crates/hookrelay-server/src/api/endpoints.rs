//! `/api/v1/scopes/{scope}/endpoints`: endpoints, their signing secret and recovery.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::balance::{Strategy, Target};
use hookrelay_core::clock::{now_ms, parse_rfc3339, to_rfc3339};
use hookrelay_core::endpoint::{OutboundAuth, validate_code, validate_headers};
use hookrelay_signature::{Signer, SignerKind};
use hookrelay_store::model::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, Page};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::destination;
use crate::app::AppState;
use crate::http::error::{ApiError, Detail};
use crate::http::extract::{ApiJson, ApiQuery, Paging};
use crate::openapi::doc;
use crate::ssrf::refusal;
use crate::tenancy::{ScopePath, endpoint_not_found};
use hookrelay_core::REDACTED;

/// An endpoint as the API shows it: credentials and header values redacted.
#[derive(Serialize, ToSchema)]
#[schema(as = Endpoint)]
pub struct EndpointView {
    /// Its id.
    id: String,
    /// The scope it belongs to.
    scope: String,
    /// Its code, unique in the scope.
    code: String,
    /// A human name.
    name: String,
    /// Where it sends (the first target's URL with targets).
    url: String,
    /// With several destinations: each target.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<doc::Target>>)]
    targets: Option<Vec<Target>>,
    /// With targets: how deliveries are spread over them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<doc::Strategy>)]
    strategy: Option<Strategy>,
    /// A disabled endpoint gets no new deliveries.
    enabled: bool,
    /// Why it was disabled, e.g. `gone (410)`.
    disabled_reason: Option<String>,
    /// Custom headers sent with each delivery (values redacted).
    headers: BTreeMap<String, String>,
    /// Credentials sent with each delivery (secrets redacted).
    #[schema(value_type = Option<doc::OutboundAuth>)]
    auth: Option<Value>,
    /// Per-attempt timeout.
    timeout_ms: Option<u32>,
    /// Deliveries per second at most.
    rate_limit: Option<u32>,
    /// The event type patterns it receives.
    subscriptions: Vec<String>,
    /// Consecutive failed attempts.
    failure_streak: u32,
    /// When the current run of failures began.
    #[schema(format = DateTime)]
    failing_since: Option<String>,
    /// The circuit breaker: `closed`, `open` (deliveries wait) or `half_open` (probing).
    circuit: &'static str,
    /// How deliveries are signed: `hmac` (`v1`) or `ed25519` (`v1a`).
    key_type: &'static str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl EndpointView {
    /// The view of a stored endpoint, with its live circuit state.
    pub fn new(state: &AppState, r: EndpointRecord) -> Self {
        let circuit = state.circuit_state(&r);
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
                .map(|k| (k, REDACTED.to_owned()))
                .collect(),
            auth: r.auth.map(|a| match a {
                OutboundAuth::Bearer { .. } => json!({ "type": "bearer", "token": REDACTED }),
                OutboundAuth::Basic { username, .. } => {
                    json!({ "type": "basic", "username": username, "password": REDACTED })
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EndpointInput)]
pub struct EndpointBody {
    /// Its code, unique in the scope.
    #[schema(value_type = doc::EndpointCode)]
    code: String,
    /// A human name; the code when absent (or blank).
    #[serde(default)]
    name: Option<String>,
    /// Where to send (`http` or `https`); give this or `targets`.
    #[serde(default)]
    #[schema(value_type = Option<doc::EndpointUrl>)]
    url: Option<String>,
    /// Several destinations (1 to 16, each URL once); give this or `url`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<doc::TargetInput>>, min_items = 1, max_items = 16)]
    targets: Option<Vec<Target>>,
    /// With targets: `random`, `weighted_round_robin` (default) or `failover`.
    #[serde(default)]
    #[schema(value_type = Option<doc::Strategy>)]
    strategy: Option<String>,
    /// A disabled endpoint gets no new deliveries.
    #[serde(default = "yes")]
    #[schema(default = true)]
    enabled: bool,
    /// Custom headers sent with each delivery.
    #[serde(default)]
    #[schema(value_type = BTreeMap<doc::HeaderName, doc::HeaderValue>)]
    headers: BTreeMap<String, String>,
    /// Credentials sent with each delivery.
    #[serde(default)]
    #[schema(value_type = Option<doc::OutboundAuth>)]
    auth: Option<OutboundAuth>,
    /// Per-attempt timeout, 1 to 300000.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 300000)]
    timeout_ms: Option<u32>,
    /// Deliveries per second at most (at least 1; leave it out for no limit).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4294967295_u32, format = Int64)]
    rate_limit: Option<u32>,
    /// A `whsec_…` or `whsk_…` signing secret; generated when absent.
    #[serde(default)]
    #[schema(value_type = Option<doc::SigningSecret>)]
    secret: Option<String>,
    /// The kind of secret to generate when `secret` is absent: `hmac` (default) or
    /// `ed25519`; not together with `secret`.
    #[serde(default)]
    #[schema(value_type = Option<doc::KeyType>)]
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
        if let Some(Err(e)) = self.auth.as_ref().map(OutboundAuth::validate) {
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

/// `POST /scopes/{scope}/endpoints`: 201, or 409 when the code is taken.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/endpoints", tag = "endpoints",
    summary = "Create an endpoint",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`")),
    request_body = EndpointBody,
    responses(
        (status = 201, description = "Created", body = EndpointView),
        (status = 403, description = "The token may not act on this scope"),
        (status = 409, description = "The code is taken")))]
pub async fn create(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
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
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/endpoints", tag = "endpoints",
    summary = "List a scope's endpoints",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), Paging),
    responses(
        (status = 200, description = "A page of endpoints", body = doc::EndpointPage),
        (status = 403, description = "The token may not act on this scope")))]
pub async fn list(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<Page<EndpointView>>, ApiError> {
    let page = state.store().list_endpoints(&scope, paging.page()?).await?;
    Ok(Json(page.map(|r| EndpointView::new(&state, r))))
}

/// `GET /scopes/{scope}/endpoints/{code}`.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/endpoints/{code}", tag = "endpoints",
    summary = "Get an endpoint",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn get(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
) -> Result<Json<EndpointView>, ApiError> {
    let found = state.store().get_endpoint(&scope, &code).await?;
    found
        .map(|e| Json(EndpointView::new(&state, e)))
        .ok_or_else(|| endpoint_not_found(&scope, &code))
}

/// Present-but-null means "clear"; absent means "leave as it is".
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The body of `PATCH`.
/// Absent fields are left as they are; `null` clears `auth`, `timeout_ms`, `rate_limit`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EndpointPatch)]
pub struct PatchBody {
    /// A human name (not blank).
    #[serde(default)]
    #[schema(value_type = Option<doc::NonBlank>)]
    name: Option<String>,
    /// A new single destination (replaces targets); not together with `targets`.
    #[serde(default)]
    #[schema(value_type = Option<doc::EndpointUrl>)]
    url: Option<String>,
    /// New destinations (replace the url): 1 to 16, each URL once.
    #[serde(default)]
    #[schema(value_type = Option<Vec<doc::TargetInput>>, min_items = 1, max_items = 16)]
    targets: Option<Vec<Target>>,
    /// With targets: how deliveries are spread (only together with `targets`).
    #[serde(default)]
    #[schema(value_type = Option<doc::Strategy>)]
    strategy: Option<String>,
    /// `false` disables, `true` re-enables.
    #[serde(default)]
    enabled: Option<bool>,
    /// Replaces the custom headers.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<doc::HeaderName, doc::HeaderValue>>)]
    headers: Option<BTreeMap<String, String>>,
    /// New credentials; `null` removes them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<doc::OutboundAuth>)]
    auth: Option<Option<OutboundAuth>>,
    /// Per-attempt timeout, 1 to 300000; `null` restores the default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 300000)]
    timeout_ms: Option<Option<u32>>,
    /// Deliveries per second, at least 1; `null` removes the limit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 4294967295_u32, format = Int64)]
    rate_limit: Option<Option<u32>>,
}

/// `PATCH /scopes/{scope}/endpoints/{code}`: `{"enabled":false}` disables.
#[utoipa::path(patch, path = "/api/v1/scopes/{scope}/endpoints/{code}", tag = "endpoints",
    summary = "Change an endpoint",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    request_body = PatchBody,
    responses(
        (status = 200, description = "The changed endpoint", body = EndpointView),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn update(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<EndpointView>, ApiError> {
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
    if let Some(Some(Err(e))) = body
        .auth
        .as_ref()
        .map(|auth| auth.as_ref().map(OutboundAuth::validate))
    {
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
#[utoipa::path(delete, path = "/api/v1/scopes/{scope}/endpoints/{code}", tag = "endpoints",
    summary = "Delete an endpoint",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    responses(
        (status = 204, description = "Deleted; its delivery history stays"),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn delete(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let existing = state.store().get_endpoint(&scope, &code).await?;
    if state.store().delete_endpoint(&scope, &code).await? {
        if let (Some(d), Some(e)) = (state.dispatcher(), existing) {
            d.forget_endpoint(&e.id);
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(endpoint_not_found(&scope, &code))
    }
}

/// What `PUT /scopes/{scope}/endpoints` answers: what changed, and the result.
#[derive(Serialize, ToSchema)]
#[schema(as = EndpointsApplied)]
pub struct ApplyView {
    #[serde(flatten)]
    #[schema(value_type = doc::ApplyReport)]
    report: ApplyReport,
    /// The scope's endpoints now.
    data: Vec<EndpointView>,
}

/// `PUT /scopes/{scope}/endpoints` with a bare array: the scope's endpoints become
/// exactly this list.
#[utoipa::path(put, path = "/api/v1/scopes/{scope}/endpoints", tag = "endpoints",
    summary = "Apply a scope's endpoints",
    description = "The scope's endpoints become exactly this list: created, updated, deleted.",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`")),
    request_body = Vec<EndpointBody>,
    responses(
        (status = 200, description = "What changed, and the endpoints now", body = ApplyView),
        (status = 403, description = "The token may not act on this scope")))]
pub async fn apply(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    ApiJson(bodies): ApiJson<Vec<EndpointBody>>,
) -> Result<Json<ApplyView>, ApiError> {
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Recover)]
pub struct RecoverBody {
    /// An RFC 3339 time, or a duration ago such as `2h`.
    #[schema(value_type = doc::Since)]
    since: String,
}

/// `POST /scopes/{scope}/endpoints/{code}/recover`: re-queues the endpoint's failed
/// deliveries created since a time.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/endpoints/{code}/recover", tag = "endpoints",
    summary = "Re-queue an endpoint's failed deliveries",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`"), ("code" = doc::EndpointCode, Path, description = "The endpoint's code")),
    request_body = RecoverBody,
    responses(
        (status = 202, description = "Re-queued", body = doc::Recovered),
        (status = 403, description = "The token may not act on this scope"),
        (status = 404, description = "No such endpoint")))]
pub async fn recover(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    Path((_, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<RecoverBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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

/// `now` less a duration such as `2h`; a duration longer than time itself reaches back
/// to the earliest time rather than wrapping around.
fn humantime_ago(s: &str, now: i64) -> Option<i64> {
    let d = humantime::parse_duration(s.trim()).ok()?;
    Some(now.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::humantime_ago;

    #[test]
    fn durations_reach_back_without_overflowing() {
        assert_eq!(
            humantime_ago("2h", 10_000_000),
            Some(10_000_000 - 7_200_000)
        );
        assert_eq!(
            humantime_ago("18446744073709551615s", 1_000),
            Some(1_000 - i64::MAX)
        );
        assert_eq!(humantime_ago("soon", 1_000), None);
    }
}
