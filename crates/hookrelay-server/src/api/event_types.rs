//! `/api/v1/event-types`: the registry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::event_type::{EventTypeDef, Registry, validate_code};
use hookrelay_core::operational;
use hookrelay_store::model::{EventTypeRecord, Page, SyncReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, Paging};
use crate::openapi::doc;

/// An event type as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = EventType)]
pub struct EventTypeView {
    /// The code publishers use, e.g. `order.paid`.
    code: String,
    /// A human name.
    name: String,
    /// What the event means.
    description: Option<String>,
    /// A JSON Schema (draft 2020-12) that published `data` must match.
    schema: Option<serde_json::Value>,
    /// Kept for history, no longer publishable.
    archived: bool,
    /// One of Hookrelay's own types (`delivery.failed`, `endpoint.*`): published only by
    /// Hookrelay, never changed or archived by a registry sync.
    operational: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<EventTypeRecord> for EventTypeView {
    fn from(r: EventTypeRecord) -> Self {
        Self {
            operational: operational::is_builtin(&r.code),
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EventTypeInput)]
pub struct PutBody {
    /// The code is the path's; a body may repeat it (an exported registry entry), and
    /// one that differs is a 422. Clients leave it out.
    #[serde(default)]
    #[schema(read_only, value_type = Option<doc::EventTypeCode>)]
    code: Option<String>,
    /// A human name; the code when absent.
    #[schema(value_type = Option<doc::NonBlank>)]
    name: Option<String>,
    /// What the event means.
    #[serde(default)]
    description: Option<String>,
    /// A JSON Schema (draft 2020-12) for the event's `data`.
    #[serde(default)]
    #[schema(value_type = Option<doc::EventSchema>)]
    schema: Option<serde_json::Value>,
}

/// `?include_archived=true` and paging.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true` lists archived types too.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    paging: Paging,
}

/// `GET /event-types`.
#[utoipa::path(get, path = "/api/v1/event-types", tag = "event-types",
    summary = "List event types",
    params(ListQuery, Paging),
    responses((status = 200, description = "A page of event types", body = doc::EventTypePage)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<EventTypeView>>, ApiError> {
    let include_archived =
        crate::http::extract::bool_param("include_archived", q.include_archived.as_deref())?;
    let page = state
        .store()
        .list_event_types(include_archived, q.paging.page()?)
        .await?;
    Ok(Json(page.map(EventTypeView::from)))
}

/// `GET /event-types/{code}`.
#[utoipa::path(get, path = "/api/v1/event-types/{code}", tag = "event-types",
    summary = "Get an event type",
    params(("code" = doc::EventTypeCode, Path, description = "The event type's code")),
    responses(
        (status = 200, description = "The event type", body = EventTypeView),
        (status = 404, description = "No such event type")))]
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
#[utoipa::path(put, path = "/api/v1/event-types/{code}", tag = "event-types",
    summary = "Create or replace an event type (admin)",
    params(("code" = doc::EventTypeCode, Path, description = "The event type's code")),
    request_body = PutBody,
    responses(
        (status = 200, description = "Replaced", body = EventTypeView),
        (status = 201, description = "Created", body = EventTypeView),
        (status = 403, description = "Not the admin token"),
        (status = 409, description = "A built-in operational type")))]
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
#[utoipa::path(delete, path = "/api/v1/event-types/{code}", tag = "event-types",
    summary = "Archive an event type (admin)",
    description = "Archiving is not deleting: the type is kept for the history that names it and stays readable (`GET /event-types/{code}` answers it with `archived: true`, `GET /event-types?include_archived=true` lists it); it is no longer publishable and leaves the `webhooks` section. `PUT /event-types/{code}` makes it live again.",
    params(("code" = doc::EventTypeCode, Path, description = "The event type's code")),
    responses(
        (status = 204, description = "Archived (archiving an archived type again is a 204 too)"),
        (status = 403, description = "Not the admin token"),
        (status = 404, description = "No such event type"),
        (status = 409, description = "A built-in operational type")))]
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
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// `true` reports what would change and changes nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// `PUT /event-types`: the registry becomes exactly the listed types.
#[utoipa::path(put, path = "/api/v1/event-types", tag = "event-types",
    summary = "Sync the whole registry (admin)",
    description = "Listed types are created or updated, unlisted ones archived; the operational types are left as they are.",
    params(SyncQuery),
    request_body = doc::Registry,
    responses(
        (status = 200, description = "What changed", body = doc::SyncReport),
        (status = 403, description = "Not the admin token")))]
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
            details.push(crate::http::error::Detail {
                field: format!("events[{i}].{}", e.field),
                message: e.message,
            });
        }
        if registry.events[..i].iter().any(|d| d.code == def.code) {
            details.push(crate::http::error::Detail {
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
    let dry_run = crate::http::extract::bool_param("dry_run", q.dry_run.as_deref())?;
    let report = state
        .store()
        .sync_event_types(registry.events, dry_run)
        .await?;
    state.registry().clear();
    Ok(Json(report))
}
