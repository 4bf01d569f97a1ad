//! `/api/v1/events`: publishing and the event log.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookrelay_core::clock::{now_ms, parse_rfc3339, to_rfc3339};
use hookrelay_core::ids::EventId;
use hookrelay_core::scope::Scope;
use hookrelay_store::model::{EventFilter, EventRecord, IdempotencyKey, NewEvent, Page};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::{ApiError, Detail};
use crate::http::extract::{ApiQuery, Paging, parse_json_verbatim, read_body, text_param};
use crate::openapi::doc;
use crate::publishing::{self, TypeCheck};
use crate::tenancy;

/// The longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 256;

/// The body of `POST /events`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PublishInput)]
pub struct PublishBody {
    /// A registered, non-archived event type code (not one of the operational types).
    #[serde(rename = "type")]
    #[schema(value_type = doc::EventTypeCode)]
    event_type: String,
    /// The scopes to deliver to (endpoints of these scopes that subscribe); name at
    /// least one here or in `scope`.
    #[serde(default)]
    #[schema(value_type = Vec<doc::Scope>)]
    scopes: Vec<String>,
    /// One scope, for convenience; merged into `scopes`.
    #[serde(default)]
    #[schema(value_type = Option<doc::Scope>)]
    scope: Option<String>,
    /// The payload: any JSON value that matches the type's schema (a type without a
    /// schema takes any). `{}` when absent or `null`.
    #[serde(default)]
    #[schema(value_type = Value)]
    data: Option<Box<RawValue>>,
    /// The same key again returns the same event and queues nothing (or use the
    /// `Idempotency-Key` header); at most 256 characters, and an empty one is none.
    #[serde(default)]
    #[schema(max_length = 256)]
    idempotency_key: Option<String>,
}

/// `POST /events`: 202 `{"id","deliveries"}` once the event and its deliveries are on
/// disk; 200 with `"duplicate":true` for a used idempotency key.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    summary = "Publish an event",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 256, pattern = r"^[\t\x20-\x7e]*$", description = "Instead of `idempotency_key` in the body: visible ASCII, at most 256 characters")),
    request_body = PublishBody,
    responses(
        (status = 200, description = "A repeated idempotency key: the original event, nothing queued", body = doc::Published),
        (status = 202, description = "Stored and queued", body = doc::Published),
        (status = 403, description = "The token may not publish to a scope"),
        (status = 507, description = "The database is full (disk or HOOKRELAY_MAX_DATABASE_SIZE): nothing was kept")))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let header_key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be ASCII"))
        })
        .transpose()?;
    let bytes = read_body(req, &state).await?;
    let body: PublishBody = parse_json_verbatim(&bytes)?;

    let mut details = Vec::new();
    let mut scopes: Vec<String> = Vec::new();
    for s in body.scopes.iter().chain(body.scope.iter()) {
        match Scope::parse(s) {
            Ok(scope) if !caller.may_see(scope.as_str()) => {
                return Err(ApiError::forbidden(format!(
                    "this token cannot publish to scope {scope}"
                )));
            }
            Ok(scope) => {
                if !scopes.iter().any(|x| x == scope.as_str()) {
                    scopes.push(scope.as_str().to_owned());
                }
            }
            Err(e) => details.push(Detail {
                field: "scopes".to_owned(),
                message: e.message,
            }),
        }
    }
    if scopes.is_empty() && details.is_empty() {
        details.push(Detail {
            field: "scopes".to_owned(),
            message: "name at least one scope".to_owned(),
        });
    }
    let idempotency_key = header_key
        .or(body.idempotency_key)
        .filter(|k| !k.is_empty());
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.chars().count() > MAX_IDEMPOTENCY_KEY)
    {
        details.push(Detail {
            field: "idempotency_key".to_owned(),
            message: format!("at most {MAX_IDEMPOTENCY_KEY} characters"),
        });
    }
    match publishing::event_type(&state, &body.event_type).await? {
        TypeCheck::Refused(detail) => details.push(detail),
        // The data is checked only once everything else is right.
        TypeCheck::Publishable(schema) if details.is_empty() => {
            let text = body.data.as_ref().map_or("{}", |d| d.get());
            // The body parsed already, so the only failure left is nesting deeper than
            // the parser's limit (128 levels), which no schema or filter could read.
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => {
                    details.extend(publishing::data(&body.event_type, schema.as_ref(), &value))
                }
                Err(_) => details.push(Detail {
                    field: "data".to_owned(),
                    message: "nests deeper than 128 levels".to_owned(),
                }),
            }
        }
        TypeCheck::Publishable(_) => {}
    }
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }

    let event = NewEvent {
        id: EventId::generate(),
        event_type: body.event_type,
        scopes,
        data: body
            .data
            .map_or_else(|| "{}".to_owned(), |d| d.get().to_owned()),
        idempotency_key: idempotency_key.map(|key| IdempotencyKey {
            namespace: caller.idempotency_namespace(),
            key,
        }),
        created_at: now_ms(),
        only_endpoint: None,
    };
    let outcome = state.store().publish(event).await?;
    let status = if outcome.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut answer = json!({ "id": outcome.event_id, "deliveries": outcome.deliveries });
    if outcome.duplicate {
        answer["duplicate"] = json!(true);
    }
    Ok((status, Json(answer)).into_response())
}

/// An event as the log shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    /// `evt_…`.
    id: String,
    /// The event type's code.
    #[serde(rename = "type")]
    event_type: String,
    /// The scopes it was published to, as far as the token may see them.
    scopes: Vec<String>,
    /// The payload as published (any JSON value).
    #[schema(value_type = Value)]
    data: Box<RawValue>,
    /// The idempotency key it was published with.
    idempotency_key: Option<String>,
    /// When it was published.
    #[schema(format = DateTime)]
    timestamp: String,
}

impl EventView {
    /// The event as `caller` sees it: a scoped token is not told the other scopes an
    /// event went to (they name other tenants).
    pub fn seen_by(r: EventRecord, caller: &Caller) -> Self {
        Self {
            id: r.id.to_string(),
            event_type: r.event_type,
            scopes: r.scopes.into_iter().filter(|s| caller.may_see(s)).collect(),
            data: RawValue::from_string(r.data).unwrap_or_else(|_| {
                RawValue::from_string("null".to_owned()).expect("null is JSON")
            }),
            idempotency_key: r.idempotency_key,
            timestamp: to_rfc3339(r.created_at),
        }
    }
}

/// Filters of `GET /events`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only events published to this scope.
    #[param(value_type = Option<doc::Scope>)]
    scope: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(min_length = 1)]
    event_type: Option<String>,
    /// Published at or after this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Published before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only the event published with this idempotency key.
    #[param(min_length = 1)]
    idempotency_key: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    paging: Paging,
}

/// An optional RFC 3339 query parameter as unix ms; 422 naming it when unreadable.
pub(crate) fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            parse_rfc3339(v).ok_or_else(|| ApiError::invalid_field(name, "use an RFC 3339 time"))
        })
        .transpose()
}

/// `GET /events`: newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    summary = "List events, newest first",
    params(ListQuery, Paging),
    responses((status = 200, description = "A page of events", body = doc::EventPage)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<EventView>>, ApiError> {
    if let Some(scope) = &q.scope {
        tenancy::scope(&caller, scope)?;
    }
    text_param("type", q.event_type.as_deref())?;
    text_param("idempotency_key", q.idempotency_key.as_deref())?;
    let filter = EventFilter {
        scope: q.scope,
        event_type: q.event_type,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        idempotency_key: q.idempotency_key,
        allowed_scopes: caller.scopes.clone(),
    };
    let page = state.store().list_events(filter, q.paging.page()?).await?;
    Ok(Json(page.map(|e| EventView::seen_by(e, &caller))))
}

/// `GET /events/{id}`.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    summary = "Get an event",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 404, description = "No such event (or not in the token's scopes)")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EventView>, ApiError> {
    let event = tenancy::event(&state, &caller, &id).await?;
    Ok(Json(EventView::seen_by(event, &caller)))
}
