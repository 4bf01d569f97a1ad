//! Event types: the registry of what can be published.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Checks an event type code such as `template_update` or `order.paid`:
/// 1 to 128 of `[A-Za-z0-9._:-]`, not starting with a dot.
pub fn validate_code(code: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= 128
        && !code.starts_with('.')
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "code",
            format!(
                "invalid event type code {code:?}: use 1 to 128 characters of A-Z a-z 0-9 . _ : -"
            ),
        ))
    }
}

/// One entry of the registry as a user writes it (API body or YAML file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeDef {
    /// The code publishers use, e.g. `order.paid`.
    pub code: String,
    /// A human name.
    pub name: String,
    /// What the event means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema (draft 2020-12) for the event's `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
}

impl EventTypeDef {
    /// Checks the code and the name.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_code(&self.code)?;
        if self.name.trim().is_empty() {
            return Err(FieldError::new("name", "name must not be empty"));
        }
        if let Some(schema) = &self.schema {
            if !(schema.is_object() || schema.is_boolean()) {
                return Err(FieldError::new(
                    "schema",
                    "schema must be a JSON object or boolean",
                ));
            }
            crate::schema::DataSchema::compile(schema)?;
        }
        Ok(())
    }
}

/// The whole registry, as in `webhook_events.yaml`: `version: 1` and the list of types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Every type that should be publishable.
    pub events: Vec<EventTypeDef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(validate_code("template_update").is_ok());
        assert!(validate_code("order.paid").is_ok());
        assert!(validate_code("order.*").is_err());
        assert!(validate_code("").is_err());
        assert!(validate_code(".x").is_err());
    }

    #[test]
    fn schema_must_be_an_object() {
        let def = EventTypeDef {
            code: "a".into(),
            name: "A".into(),
            description: None,
            schema: Some(serde_json::json!(3)),
        };
        assert_eq!(def.validate().unwrap_err().field, "schema");
    }
}
