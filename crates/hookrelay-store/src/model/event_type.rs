use serde::Serialize;

/// A registered event type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTypeRecord {
    /// The code publishers use.
    pub code: String,
    /// A human name.
    pub name: String,
    /// What it means.
    pub description: Option<String>,
    /// JSON Schema for `data`.
    pub schema: Option<serde_json::Value>,
    /// Archived types are kept for history and can no longer be published.
    pub archived: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What a declarative sync of the registry changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Codes that did not exist before.
    pub created: Vec<String>,
    /// Codes whose name, description, schema or archived flag changed.
    pub updated: Vec<String>,
    /// Codes left out of the list, now archived.
    pub archived: Vec<String>,
    /// Codes that were already as listed.
    pub unchanged: Vec<String>,
}
