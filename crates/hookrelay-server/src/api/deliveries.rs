//! `/api/v1/deliveries`: the delivery log, attempts, and manual resend.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_store::model::{
    AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, Page, TargetFailure,
};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, Paging, text_param};
use crate::openapi::doc;
use crate::tenancy;

/// A delivery as the log shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryView {
    /// `dlv_…`.
    id: String,
    /// The event delivered.
    event_id: String,
    /// Its type.
    event_type: String,
    /// The receiving endpoint's scope.
    scope: String,
    /// The receiving endpoint's code.
    endpoint: String,
    #[schema(value_type = doc::DeliveryStatus)]
    status: DeliveryStatus,
    /// Attempts made so far.
    attempt_count: u32,
    /// When a pending delivery is tried next.
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    /// The last attempt's failure.
    last_error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Every attempt, in order (`GET /deliveries/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<Vec<AttemptView>>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(r: DeliveryRecord) -> Self {
        let pending = r.status == DeliveryStatus::Pending;
        Self {
            id: r.id.to_string(),
            event_id: r.event_id.to_string(),
            event_type: r.event_type,
            scope: r.scope,
            endpoint: r.endpoint,
            status: r.status,
            attempt_count: r.attempts,
            next_attempt_at: r.next_attempt_at.filter(|_| pending).map(to_rfc3339),
            last_error: r.last_error,
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
            attempts: None,
        }
    }
}

/// One attempt as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Attempt)]
pub struct AttemptView {
    /// 1 for the first attempt.
    n: u32,
    /// When it was made.
    #[schema(format = DateTime)]
    at: String,
    /// Where it was sent.
    url: String,
    /// The answer's status; `null` on a network error.
    status_code: Option<u16>,
    /// How long it took.
    duration_ms: u64,
    /// What failed.
    error: Option<String>,
    /// The request's headers (credentials redacted).
    request_headers: std::collections::BTreeMap<String, String>,
    /// The answer's headers.
    response_headers: std::collections::BTreeMap<String, String>,
    /// The start of the answer's body.
    response_body: Option<String>,
    /// Targets a failover endpoint tried first in this attempt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<doc::TargetFailure>, required = false)]
    failed_over: Vec<TargetFailure>,
}

impl From<AttemptRecord> for AttemptView {
    fn from(a: AttemptRecord) -> Self {
        Self {
            n: a.n,
            at: to_rfc3339(a.at),
            url: a.url,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error,
            request_headers: a.request_headers,
            response_headers: a.response_headers,
            response_body: a.response_body,
            failed_over: a.failed_over,
        }
    }
}

/// Filters of `GET /deliveries`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only deliveries to this scope.
    #[param(value_type = Option<doc::Scope>)]
    scope: Option<String>,
    /// Only deliveries to this endpoint code.
    #[param(min_length = 1)]
    endpoint: Option<String>,
    /// Only deliveries of this event (also `event_id`).
    #[serde(alias = "event_id")]
    #[param(min_length = 1)]
    event: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    #[param(value_type = Option<doc::DeliveryStatus>)]
    status: Option<String>,
    /// Only deliveries of events of this type.
    #[serde(rename = "type")]
    #[param(min_length = 1)]
    event_type: Option<String>,
    /// Created at or after this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Created before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    paging: Paging,
}

/// `GET /deliveries`: newest first.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries",
    summary = "List deliveries, newest first",
    params(ListQuery, Paging),
    responses((status = 200, description = "A page of deliveries", body = doc::DeliveryPage)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    if let Some(scope) = &q.scope {
        tenancy::scope(&caller, scope)?;
    }
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_field("status", "use pending, succeeded or failed")
            })
        })
        .transpose()?;
    text_param("endpoint", q.endpoint.as_deref())?;
    text_param("event", q.event.as_deref())?;
    text_param("type", q.event_type.as_deref())?;
    let filter = DeliveryFilter {
        scope: q.scope,
        endpoint: q.endpoint,
        event_id: q.event,
        status,
        event_type: q.event_type,
        since: super::events::time_param("since", q.since.as_deref())?,
        until: super::events::time_param("until", q.until.as_deref())?,
        allowed_scopes: caller.scopes.clone(),
    };
    let page = state
        .store()
        .list_deliveries(filter, q.paging.page()?)
        .await?;
    Ok(Json(page.map(DeliveryView::from)))
}

/// `GET /deliveries/{id}`: the delivery and every attempt, in order.
#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "deliveries",
    summary = "Get a delivery with its attempts",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery and every attempt", body = DeliveryView),
        (status = 404, description = "No such delivery (or not in the token's scopes)")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let (delivery, attempts) = tenancy::delivery(&state, &caller, &id).await?;
    let mut view = DeliveryView::from(delivery);
    view.attempts = Some(attempts.into_iter().map(AttemptView::from).collect());
    Ok(Json(view))
}

/// `POST /deliveries/{id}/retry`: one more attempt, now.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries",
    summary = "Retry a delivery now",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Queued for one more attempt", body = DeliveryView),
        (status = 404, description = "No such delivery (or not in the token's scopes)")))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let (delivery, _) = tenancy::delivery(&state, &caller, &id).await?;
    let now = now_ms();
    let record = state.store().retry_delivery(&delivery.id, now).await?;
    state.schedule(vec![record.id.clone()], now);
    Ok((StatusCode::ACCEPTED, Json(record.into())))
}
