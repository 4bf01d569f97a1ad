//! Whether an event may be published: the one rule behind `POST /api/v1/events`, an
//! inbound source's `publish` and the dashboard's test event, so all three refuse the
//! same events with the same words.
//!
//! An event is publishable when its type is a valid code, is not one of Hookrelay's
//! operational types (only Hookrelay reports on its own endpoints and deliveries: a forged
//! alert could make an operator act on something that did not happen), is registered and
//! not archived, and its `data` passes the type's JSON Schema.

use hookrelay_core::event_type::validate_code;
use hookrelay_core::operational;
use hookrelay_core::schema::DataSchema;
use serde_json::Value;

use crate::app::AppState;
use crate::http::error::{ApiError, Detail};
use crate::registry_cache::TypeState;

/// What the registry says of a type code.
pub enum TypeCheck {
    /// Publishable; `data` must pass this schema, if there is one.
    Publishable(Option<DataSchema>),
    /// Not publishable: why, as a 422 detail on the field `type`.
    Refused(Detail),
}

/// Checks the type code: valid, not operational, registered, not archived. An error is
/// the store's (the registry could not be read), never a refusal.
pub async fn event_type(state: &AppState, code: &str) -> Result<TypeCheck, ApiError> {
    let refuse = |message: String| {
        Ok(TypeCheck::Refused(Detail {
            field: "type".to_owned(),
            message,
        }))
    };
    if let Err(e) = validate_code(code) {
        return refuse(e.message);
    }
    if operational::is_builtin(code) {
        return refuse(format!(
            "{code:?} is an operational event type that only Hookrelay publishes"
        ));
    }
    match state.registry().state(state.store(), code).await? {
        TypeState::Live(schema) => Ok(TypeCheck::Publishable(schema)),
        TypeState::Archived => refuse(format!("event type {code:?} is archived")),
        TypeState::Unknown => refuse(format!(
            "unknown event type {code:?}; register it with PUT /api/v1/event-types/{{code}}"
        )),
    }
}

/// The schema's complaints about `data`, each naming the path at fault and the type.
pub fn data(code: &str, schema: Option<&DataSchema>, data: &Value) -> Vec<Detail> {
    match schema.map(|s| s.check(data)) {
        Some(Err(errors)) => errors
            .into_iter()
            .map(|e| Detail {
                field: e.field,
                message: format!("{} (the schema of {code:?})", e.message),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The whole check for one event: `Ok` when `code` may be published with `data`; a 422
/// naming every problem otherwise.
pub async fn check(state: &AppState, code: &str, data_value: &Value) -> Result<(), ApiError> {
    match event_type(state, code).await? {
        TypeCheck::Refused(detail) => Err(ApiError::invalid(vec![detail])),
        TypeCheck::Publishable(schema) => {
            let details = data(code, schema.as_ref(), data_value);
            if details.is_empty() {
                Ok(())
            } else {
                Err(ApiError::invalid(details))
            }
        }
    }
}
