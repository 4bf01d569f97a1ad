//! `/api/v1/scopes/{scope}/subscriptions`: which event types each endpoint receives.
//!
//! The body maps endpoint codes to patterns: `{"webhook1":["*"],"webhook2":["order.*"]}`.
//! `PUT` is declarative: an endpoint left out loses its subscription.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use hookrelay_core::subscription::{Subscription, SubscriptionSpec};
use hookrelay_store::model::{ApplyReport, SubscriptionRecord};
use serde::Serialize;

use crate::app::AppState;
use crate::http::error::{ApiError, Detail};
use crate::http::extract::ApiJson;
use crate::openapi::doc;
use crate::tenancy::ScopePath;

fn to_map(records: Vec<SubscriptionRecord>) -> BTreeMap<String, SubscriptionSpec> {
    records
        .into_iter()
        .map(|r| {
            let spec = match r.filter {
                Some(filter) => SubscriptionSpec::Detailed {
                    events: r.events,
                    filter: Some(filter),
                },
                None => SubscriptionSpec::List(r.events),
            };
            (r.endpoint, spec)
        })
        .collect()
}

/// `GET`: the same map `PUT` takes.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/subscriptions", tag = "subscriptions",
    summary = "Get a scope's subscriptions",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`")),
    responses(
        (status = 200, description = "Patterns keyed by endpoint code", body = doc::Subscriptions),
        (status = 403, description = "The token may not act on this scope")))]
pub async fn get(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
) -> Result<Json<BTreeMap<String, SubscriptionSpec>>, ApiError> {
    Ok(Json(to_map(
        state.store().list_subscriptions(&scope).await?,
    )))
}

/// What `PUT` answers: what changed, and the subscriptions now in force.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SubscriptionsApplied)]
pub struct ApplyView {
    #[serde(flatten)]
    #[schema(value_type = doc::ApplyReport)]
    report: ApplyReport,
    /// The subscriptions now in force.
    #[schema(value_type = doc::Subscriptions)]
    data: BTreeMap<String, SubscriptionSpec>,
}

/// `PUT`: the scope's subscriptions become exactly this map.
#[utoipa::path(put, path = "/api/v1/scopes/{scope}/subscriptions", tag = "subscriptions",
    summary = "Apply a scope's subscriptions",
    description = "`{\"webhook1\":[\"*\"],\"webhook2\":{\"events\":[\"order.*\"],\"filter\":{}}}`; an endpoint left out loses its subscription.",
    params(("scope" = doc::Scope, Path, description = "The scope, e.g. `biz:biz1`")),
    request_body = doc::Subscriptions,
    responses(
        (status = 200, description = "What changed, and the subscriptions now", body = ApplyView),
        (status = 403, description = "The token may not act on this scope")))]
pub async fn apply(
    State(state): State<AppState>,
    ScopePath { scope, .. }: ScopePath,
    ApiJson(body): ApiJson<BTreeMap<String, SubscriptionSpec>>,
) -> Result<Json<ApplyView>, ApiError> {
    let mut details = Vec::new();
    let mut records = Vec::with_capacity(body.len());
    for (endpoint, spec) in body {
        let (events, filter) = match spec {
            SubscriptionSpec::List(events) => (events, None),
            SubscriptionSpec::Detailed { events, filter } => (events, filter),
        };
        if let Err(e) = Subscription::parse(&events).and_then(|s| s.with_filter(filter.as_ref())) {
            let field = if e.field == "events" {
                format!("{endpoint}.events")
            } else if e.field.is_empty() {
                format!("{endpoint}.filter")
            } else {
                format!("{endpoint}.filter.{}", e.field)
            };
            details.push(Detail {
                field,
                message: e.message,
            });
        }
        records.push(SubscriptionRecord {
            endpoint,
            events,
            filter,
        });
    }
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    let report = state.store().apply_subscriptions(&scope, records).await?;
    let data = to_map(state.store().list_subscriptions(&scope).await?);
    Ok(Json(ApplyView { report, data }))
}
