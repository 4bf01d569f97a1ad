//! The static part of the document: every route's operation, collected from the
//! handlers' `#[utoipa::path]` attributes, and the conventions every operation shares
//! (bearer security, the error body), applied once here rather than restated on each
//! handler.

use utoipa::openapi::path::{Operation, OperationBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, HttpMethod, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};

use super::answers::ErrorBody;
use super::doc;
use crate::api::{
    deliveries, endpoints, event_types, events, health, secrets, sources, subscriptions, tokens,
};

/// The name of the security scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";

/// Routes that need no token. `/metrics` (Prometheus) has no `#[utoipa::path]` handler
/// in this API, so `Conventions` adds its operation by hand.
pub const PUBLIC_PATHS: &[&str] = &[
    "/health",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/in/{name}",
];

/// The document of every route, without the registry-driven `webhooks`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookrelay",
        description = "Webhook delivery (Standard Webhooks), an event type registry and an inbound gateway. \
Everything under `/api/v1` takes `Authorization: Bearer <token>`; lists answer `{\"data\":[…],\"next_cursor\":…}` \
and take `?limit=&cursor=`. The `webhooks` section lists the registered event types as they are delivered."
    ),
    paths(
        event_types::list, event_types::sync, event_types::get, event_types::put,
        event_types::archive,
        endpoints::list, endpoints::create, endpoints::apply, endpoints::get,
        endpoints::update, endpoints::delete, endpoints::recover,
        secrets::secret, secrets::rotate_secret,
        subscriptions::get, subscriptions::apply,
        events::list, events::publish, events::get,
        deliveries::list, deliveries::get, deliveries::retry,
        sources::list, sources::get, sources::put, sources::delete, sources::requests,
        sources::request,
        tokens::list, tokens::create, tokens::revoke,
        health::health,
        crate::inbound::gateway::receive,
        super::document, super::page::docs,
    ),
    // The named forms path parameters take (bodies register theirs themselves).
    components(schemas(
        ErrorBody,
        doc::Scope,
        doc::EndpointCode,
        doc::EventTypeCode,
        doc::SourceName
    )),
    modifiers(&Conventions),
    tags(
        (name = "event-types", description = "The event type registry"),
        (name = "endpoints", description = "Where a scope's webhooks go, their signing secrets and recovery"),
        (name = "subscriptions", description = "Which event types each endpoint receives"),
        (name = "events", description = "Publishing and the event log"),
        (name = "deliveries", description = "The delivery log, attempts and manual resend"),
        (name = "sources", description = "The inbound gateway's sources and request log"),
        (name = "tokens", description = "Tokens limited to some scopes"),
        (name = "inbound", description = "The inbound gateway"),
        (name = "meta", description = "Health, metrics and this document"),
        (name = "webhooks", description = "What Hookrelay delivers to endpoints"),
    )
)]
pub struct ApiDoc;

/// Bearer security, public routes, the shared error answers and `/metrics`.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "The admin token, or a token minted with POST /api/v1/tokens for some scopes"
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
        doc.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);

        doc.paths.paths.insert(
            "/metrics".to_owned(),
            PathItem::new(HttpMethod::Get, metrics()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC_PATHS.contains(&path.as_str());
            for op in operations_mut(item) {
                qualify_operation_id(op);
                if public {
                    // An empty list overrides the document's bearer requirement.
                    op.security = Some(Vec::new());
                } else {
                    add_error(op, "401", "No token, or an unknown or revoked one");
                    add_error(op, "503", "The database is unavailable; try again");
                }
                if op.request_body.is_some() && !public {
                    add_error(op, "400", "The body is not JSON");
                    add_error(op, "413", "The body is over HOOKRELAY_MAX_PAYLOAD_BYTES");
                    add_error(op, "422", "A field is invalid; `details` names it");
                }
                if has_query(op) {
                    add_error(
                        op,
                        "422",
                        "A query parameter is invalid, empty or given more than once; `details` names it",
                    );
                }
                optional_body_is_never_null(op);
                error_bodies(op);
            }
        }
    }
}

/// Every operation of a path item.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Whether the operation takes query parameters (each is checked: 422 names it).
fn has_query(op: &Operation) -> bool {
    op.parameters.iter().flatten().any(|p| match p {
        utoipa::openapi::RefOr::T(p) => p.parameter_in == ParameterIn::Query,
        utoipa::openapi::RefOr::Ref(_) => false,
    })
}

/// Handlers in different modules share names (`list`, `get`), and operation ids must
/// be unique: `event_types.list`, `endpoints.get`.
fn qualify_operation_id(op: &mut Operation) {
    let tag = op
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .map(|t| t.replace('-', "_"));
    if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
        *id = format!("{tag}.{id}");
    }
}

/// An optional body (`Option<T>` in the handler's attribute) may be left out; when it
/// is sent it is a `T`, never `null`. utoipa writes `oneOf: [T, null]`; this keeps `T`.
fn optional_body_is_never_null(op: &mut Operation) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    if body.required == Some(utoipa::openapi::Required::True) {
        return;
    }
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else {
            continue;
        };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
            let not_null: Vec<_> = one_of
                .items
                .iter()
                .filter(|item| !is_null(item))
                .cloned()
                .collect();
            if let [only] = not_null.as_slice() {
                content.schema = Some(only.clone());
            }
        }
    }
}

/// Whether a schema is `{"type": "null"}`.
fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// Adds an error answer unless the handler documents that status itself.
fn add_error(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| Response::new(description).into());
}

/// Gives every 4xx/5xx answer without content the shared error body.
fn error_bodies(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, utoipa::openapi::RefOr::T(response)) = (is_error, response)
            && response.content.is_empty()
        {
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))).into(),
            );
        }
    }
}

/// `GET /metrics`: Prometheus text exposition.
fn metrics() -> Operation {
    OperationBuilder::new()
        .tag("meta")
        .summary(Some("Prometheus metrics"))
        .operation_id(Some("metrics"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Metrics in the Prometheus text format")
                .content("text/plain", Content::new(None::<Ref>)),
        )
        .build()
}
