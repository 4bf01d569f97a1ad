//! JSON Schema (draft 2020-12) for event `data`: checked when a type is registered,
//! enforced on every publish. Remote `$ref`s are never fetched (the crate is built
//! without its HTTP and file resolvers), so a schema that needs one is refused.

use std::sync::Arc;

use serde_json::Value;

use crate::FieldError;

/// A compiled schema, cheap to clone.
#[derive(Clone)]
pub struct DataSchema(Arc<jsonschema::Validator>);

impl std::fmt::Debug for DataSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataSchema")
    }
}

/// The most memory one compiled `pattern` may take (and its lazy DFA's cache), bytes.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The most errors reported for one payload.
const MAX_ERRORS: usize = 10;

impl DataSchema {
    /// Checks `schema` against the draft 2020-12 meta-schema and compiles it.
    pub fn compile(schema: &Value) -> Result<Self, FieldError> {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            return Err(FieldError::new(
                "schema",
                format!(
                    "not a valid JSON Schema (draft 2020-12) at {}: {e}",
                    pointer(e.instance_path().as_str())
                ),
            ));
        }
        // Patterns run on the `regex` engine, which matches in time linear in the text:
        // the default backtracking engine let one registered pattern such as
        // `(?!x)(.*a){20}$` hold a core for 15 s per publish. Lookaround and
        // backreferences, which need backtracking, are refused here instead (422).
        let patterns = jsonschema::PatternOptions::regex()
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT);
        jsonschema::draft202012::options()
            .with_pattern_options(patterns)
            .build(schema)
            .map(|v| Self(Arc::new(v)))
            .map_err(|e| {
                let text = e.to_string();
                // The engine names only the pattern; say why it was refused.
                let hint = if text.contains("regex") {
                    " (patterns run on a linear-time engine: lookahead, lookbehind and backreferences are not supported)"
                } else {
                    ""
                };
                FieldError::new("schema", format!("the schema cannot be used: {text}{hint}"))
            })
    }

    /// Validates `data`; each error names its path, e.g. `data/items/0/price`.
    pub fn check(&self, data: &Value) -> Result<(), Vec<FieldError>> {
        let errors: Vec<FieldError> = self
            .0
            .iter_errors(data)
            .take(MAX_ERRORS)
            .map(|e| {
                let path = e.instance_path().as_str().to_owned();
                FieldError::new(format!("data{path}"), e.to_string())
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn pointer(p: &str) -> &str {
    if p.is_empty() { "the root" } else { p }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order() -> DataSchema {
        DataSchema::compile(&json!({
            "type": "object",
            "required": ["amount"],
            "properties": {
                "amount": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}
            }
        }))
        .unwrap()
    }

    #[test]
    fn valid_data_passes() {
        assert!(
            order()
                .check(&json!({"amount": 5, "items": [{"sku": "a"}]}))
                .is_ok()
        );
    }

    #[test]
    fn errors_name_the_failing_path() {
        let errors = order()
            .check(&json!({"amount": -1, "items": [{"sku": 7}]}))
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"data/amount"), "{fields:?}");
        assert!(fields.contains(&"data/items/0/sku"), "{fields:?}");
        let missing = order().check(&json!({})).unwrap_err();
        assert_eq!(missing[0].field, "data");
        assert!(
            missing[0].message.contains("amount"),
            "{}",
            missing[0].message
        );
    }

    #[test]
    fn patterns_that_need_backtracking_are_refused_and_the_rest_match_linearly() {
        let Err(refused) =
            DataSchema::compile(&json!({"type": "string", "pattern": "(?!x)(.*a){20}$"}))
        else {
            panic!("lookahead needs a backtracking engine: it must be refused");
        };
        assert_eq!(refused.field, "schema");
        assert!(
            refused
                .message
                .contains("lookahead, lookbehind and backreferences"),
            "{}",
            refused.message
        );
        assert!(
            DataSchema::compile(&json!({"pattern": "(a)\\1"})).is_err(),
            "backreference"
        );
        // The same repetition without the lookahead is fine on the linear engine, and a
        // long text that almost matches is an answer, not a stall.
        let heavy =
            DataSchema::compile(&json!({"type": "string", "pattern": "^(.*a){20}$"})).unwrap();
        let text = format!("{}b", "a".repeat(19).repeat(5000));
        assert!(heavy.check(&json!(text)).is_err());
        assert!(heavy.check(&json!("a".repeat(20))).is_ok());
    }

    #[test]
    fn invalid_schemas_are_refused() {
        assert_eq!(
            DataSchema::compile(&json!({"type": "no-such-type"}))
                .unwrap_err()
                .field,
            "schema"
        );
        assert!(DataSchema::compile(&json!({"minimum": "five"})).is_err());
    }

    #[test]
    fn remote_refs_are_not_fetched() {
        let err =
            DataSchema::compile(&json!({"$ref": "https://example.com/schema.json"})).unwrap_err();
        assert_eq!(err.field, "schema");
    }
}
