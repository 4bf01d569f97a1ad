//! The `webhooks` section, built per request from the live event type registry: one
//! POST per registered (non-archived) type, keyed by its code, whose body is the
//! delivered envelope and whose headers are the Standard Webhooks ones.
//!
//! A type's own JSON Schema is spliced into the serialized document as it is stored:
//! utoipa's schema model holds the OpenAPI subset of JSON Schema, and a round trip
//! through it would drop keywords a registry schema may use (`$defs`, `if`, …).

use hookrelay_store::model::{EventTypeRecord, PageRequest};
use serde_json::Value;
use utoipa::openapi::path::{Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    Content, HttpMethod, KnownFormat, ObjectBuilder, PathItem, Paths, PathsBuilder, Required,
    ResponseBuilder, SchemaFormat, Type, schema::SchemaType,
};

use crate::app::AppState;
use crate::http::error::ApiError;

/// The headers every delivery carries (see DESIGN.md, "Wire format").
const HEADERS: &[(&str, &str, &str)] = &[
    (
        "webhook-id",
        "The event id; the same on every retry and every endpoint, so receivers can deduplicate",
        "evt_01JD6ZP3TZ6K2M4Q8V0X5Y7W9A",
    ),
    (
        "webhook-timestamp",
        "Unix seconds of this attempt",
        "1732356000",
    ),
    (
        "webhook-signature",
        "`v1,<base64 HMAC-SHA256(secret, \"{id}.{timestamp}.{body}\")>` (`v1a,` with an ed25519 key); a space-separated list while a rotated secret is in its grace period",
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    ),
];

/// Every live event type, in code order.
pub async fn live_types(state: &AppState) -> Result<Vec<EventTypeRecord>, ApiError> {
    let mut types = Vec::new();
    let mut page = PageRequest {
        limit: 1000,
        cursor: None,
    };
    loop {
        let p = state.store().list_event_types(false, page.clone()).await?;
        types.extend(p.data);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    types.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(types)
}

/// The `webhooks` section for `types` (schemas of `data` still to [`embed_schemas`]).
pub fn paths(types: &[EventTypeRecord]) -> Paths {
    types
        .iter()
        .fold(PathsBuilder::new(), |paths, t| {
            paths.path(
                t.code.clone(),
                PathItem::new(HttpMethod::Post, operation(t)),
            )
        })
        .build()
}

/// Puts each type's JSON Schema under `data` of its envelope in the serialized `doc`.
pub fn embed_schemas(doc: &mut Value, types: &[EventTypeRecord]) {
    for t in types {
        let Some(schema) = &t.schema else { continue };
        let pointer = format!(
            "/webhooks/{}/post/requestBody/content/application~1json/schema/properties/data",
            t.code.replace('~', "~0").replace('/', "~1")
        );
        if let Some(data) = doc.pointer_mut(&pointer) {
            *data = schema.clone();
        }
    }
}

fn operation(t: &EventTypeRecord) -> Operation {
    let body = RequestBodyBuilder::new()
        .description(Some("The delivered envelope; `data` is what was published"))
        .required(Some(Required::True))
        .content("application/json", Content::new(Some(envelope(&t.code))))
        .build();
    OperationBuilder::new()
        .tag("webhooks")
        .operation_id(Some(format!("webhooks.{}", t.code)))
        .summary(Some(t.name.clone()))
        .description(t.description.clone())
        .parameters(Some(HEADERS.iter().map(|(name, description, example)| {
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(*description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .example(Some(Value::from(*example)))
        })))
        .request_body(Some(body))
        .response(
            "2XX",
            ResponseBuilder::new().description("Any 2xx: delivered; redirects are not followed"),
        )
        .response(
            "410",
            ResponseBuilder::new().description("Gone: Hookrelay disables the endpoint"),
        )
        .response(
            "default",
            ResponseBuilder::new().description(
                "Anything else, or no answer in time: retried on the schedule (`Retry-After` is honoured)",
            ),
        )
        // Receivers check the signature headers; the API's bearer token is not sent.
        .securities(Some(Vec::new()))
        .build()
}

/// `{"id","type","timestamp","scope","data"}`, with `type` fixed to `code`.
fn envelope(code: &str) -> ObjectBuilder {
    let string = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("id", string("The event id, as in `webhook-id`"))
        .property(
            "type",
            string("The event type's code").enum_values(Some([code])),
        )
        .property(
            "timestamp",
            string("When the event was published")
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property("scope", string("The receiving endpoint's scope"))
        .property(
            "data",
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some(
                    "The payload as published: this type has no schema, so any JSON value",
                )),
        )
        .required("id")
        .required("type")
        .required("timestamp")
        .required("scope")
        .required("data")
}
