//! The payload of a test event: an example made from the type's schema.

use hookrelay_core::example::example;

/// The example payload as JSON text (`{}` without a schema).
pub fn payload(schema: Option<&serde_json::Value>) -> String {
    schema.map_or_else(|| "{}".to_owned(), |s| example(s).to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payload_follows_the_schema() {
        assert_eq!(payload(None), "{}");
        let schema =
            json!({"type": "object", "properties": {"order": {"type": "integer", "example": 7}}});
        let value: serde_json::Value = serde_json::from_str(&payload(Some(&schema))).unwrap();
        assert_eq!(value["order"], 7);
    }
}
