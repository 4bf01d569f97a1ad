//! `/api/v1/deliveries`: the delivery log, attempts, and manual resend.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_core::scope::Scope;
use hookrelay_store::model::{
    AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, Page, TargetFailure,
};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{ApiQuery, Paging};
use crate::app::AppState;
use crate::auth::Caller;

/// A delivery as the log shows it.
#[derive(Serialize)]
pub struct DeliveryView {
    id: String,
    event_id: String,
    event_type: String,
    scope: String,
    endpoint: String,
    status: DeliveryStatus,
    attempt_count: u32,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
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
#[derive(Serialize)]
pub struct AttemptView {
    n: u32,
    at: String,
    url: String,
    status_code: Option<u16>,
    duration_ms: u64,
    error: Option<String>,
    request_headers: std::collections::BTreeMap<String, String>,
    response_headers: std::collections::BTreeMap<String, String>,
    response_body: Option<String>,
    /// Targets a failover endpoint tried first in this attempt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
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
#[derive(Deserialize)]
pub struct ListQuery {
    scope: Option<String>,
    endpoint: Option<String>,
    #[serde(alias = "event_id")]
    event: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /deliveries`: newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    if let Some(scope) = &q.scope {
        caller.check_scope(&Scope::parse(scope)?)?;
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
    let filter = DeliveryFilter {
        scope: q.scope,
        endpoint: q.endpoint,
        event_id: q.event,
        status,
        allowed_scopes: caller.scopes.clone(),
    };
    let page = state
        .store()
        .list_deliveries(filter, q.paging.page()?)
        .await?;
    Ok(Json(page.map(DeliveryView::from)))
}

async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(DeliveryRecord, Vec<AttemptRecord>), ApiError> {
    match state.store().get_delivery(id).await? {
        Some((d, attempts)) if caller.may_see(&d.scope) => Ok((d, attempts)),
        _ => Err(ApiError::not_found(format!("delivery {id:?} not found"))),
    }
}

/// `GET /deliveries/{id}`: the delivery and every attempt, in order.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let (delivery, attempts) = load(&state, &caller, &id).await?;
    let mut view = DeliveryView::from(delivery);
    view.attempts = Some(attempts.into_iter().map(AttemptView::from).collect());
    Ok(Json(view))
}

/// `POST /deliveries/{id}/retry`: one more attempt, now.
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let (delivery, _) = load(&state, &caller, &id).await?;
    let now = now_ms();
    let record = state.store().retry_delivery(&delivery.id, now).await?;
    state.schedule(vec![record.id.clone()], now);
    Ok((StatusCode::ACCEPTED, Json(record.into())))
}
