//! The payload of a test event: an example made from the type's schema.

/// The example payload as JSON text (`{}` without a schema).
pub fn payload(schema: Option<&serde_json::Value>) -> String {
    // PLACEHOLDER-UNTIL-MERGE
    let _ = schema;
    "{}".to_owned()
}
