//! `/api/v1/event-types`: the registry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::event_type::{EventTypeDef, Registry, validate_code};
use hookrelay_core::operational;
use hookrelay_store::model::{EventTypeRecord, Page, SyncReport};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Paging};
use crate::app::AppState;
use crate::auth::Caller;

/// An event type as the API shows it.
#[derive(Serialize)]
pub struct EventTypeView {
    code: String,
    name: String,
    description: Option<String>,
    schema: Option<serde_json::Value>,
    archived: bool,
    created_at: String,
    updated_at: String,
}

impl From<EventTypeRecord> for EventTypeView {
    fn from(r: EventTypeRecord) -> Self {
        Self {
            code: r.code,
            name: r.name,
            description: r.description,
            schema: r.schema,
            archived: r.archived,
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
        }
    }
}

/// The body of `PUT /event-types/{code}` (the code comes from the path).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    #[serde(default)]
    code: Option<String>,
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    schema: Option<serde_json::Value>,
}

/// `?include_archived=true` and paging.
#[derive(Deserialize)]
pub struct ListQuery {
    include_archived: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /event-types`.
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<EventTypeView>>, ApiError> {
    let include_archived = super::extract::flag("include_archived", q.include_archived.as_deref())?;
    let page = state
        .store()
        .list_event_types(include_archived, q.paging.page()?)
        .await?;
    Ok(Json(page.map(EventTypeView::from)))
}

/// `GET /event-types/{code}`.
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<EventTypeView>, ApiError> {
    let found = state.store().get_event_type(&code).await?;
    found
        .map(|t| Json(t.into()))
        .ok_or_else(|| ApiError::not_found(format!("event type {code:?} not found")))
}

/// `PUT /event-types/{code}`: 201 when created, 200 when replaced.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<PutBody>,
) -> Result<(StatusCode, Json<EventTypeView>), ApiError> {
    caller.require_admin()?;
    validate_code(&code)?;
    refuse_builtin(&code)?;
    if body.code.as_ref().is_some_and(|c| *c != code) {
        return Err(ApiError::invalid_field(
            "code",
            "the body's code differs from the path's",
        ));
    }
    let def = EventTypeDef {
        name: body.name.unwrap_or_else(|| code.clone()),
        code,
        description: body.description,
        schema: body.schema,
    };
    def.validate()?;
    let (record, created) = state.store().put_event_type(def).await?;
    state.registry().clear();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record.into())))
}

/// `DELETE /event-types/{code}`: archives it (kept for history, no longer publishable).
pub async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    refuse_builtin(&code)?;
    let archived = state.store().archive_event_type(&code).await?;
    state.registry().clear();
    if archived {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "event type {code:?} not found"
        )))
    }
}

/// The operational event types belong to Hookrelay: 409 on any change.
fn refuse_builtin(code: &str) -> Result<(), ApiError> {
    if operational::is_builtin(code) {
        return Err(ApiError::conflict(format!(
            "{code:?} is a built-in operational event type; it cannot be changed or archived"
        )));
    }
    Ok(())
}

/// `?dry_run=true`.
#[derive(Deserialize)]
pub struct SyncQuery {
    dry_run: Option<String>,
}

/// `PUT /event-types`: the registry becomes exactly the listed types.
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SyncQuery>,
    ApiJson(registry): ApiJson<Registry>,
) -> Result<Json<SyncReport>, ApiError> {
    caller.require_admin()?;
    if registry.version != 1 {
        return Err(ApiError::invalid_field("version", "only version 1 exists"));
    }
    let mut details = Vec::new();
    for (i, def) in registry.events.iter().enumerate() {
        if let Err(e) = def.validate() {
            details.push(super::error::Detail {
                field: format!("events[{i}].{}", e.field),
                message: e.message,
            });
        }
        if registry.events[..i].iter().any(|d| d.code == def.code) {
            details.push(super::error::Detail {
                field: format!("events[{i}].code"),
                message: format!("{:?} is listed twice", def.code),
            });
        }
    }
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    // A registry file exported from GET /event-types lists the operational types too;
    // they are Hookrelay's own, so they are left as they are.
    let mut registry = registry;
    registry
        .events
        .retain(|d| !operational::is_builtin(&d.code));
    let dry_run = super::extract::flag("dry_run", q.dry_run.as_deref())?;
    let report = state
        .store()
        .sync_event_types(registry.events, dry_run)
        .await?;
    state.registry().clear();
    Ok(Json(report))
}
