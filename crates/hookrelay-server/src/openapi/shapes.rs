//! Arrays where the document says objects. serde reads a struct, and a tagged enum,
//! from a JSON array too, field by field in order: `"auth": ["bearer", "t0k3n"]` would
//! be read as `{"type": "bearer", "token": "t0k3n"}` and `"targets": [["https://…",
//! 2]]` as a target of weight 2. The API documents objects, and a client sending an
//! array has made a mistake, so before a body is read into its type, every place where
//! the operation's request body schema allows only an object is checked: an array
//! there is a 422 naming it. (The top level is [`crate::http::body_shape`]'s; this is
//! every level, found from the document, which the snapshot and the API fuzzing keep
//! true to the handlers.)

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::http::error::ApiError;

/// Each operation's request body schema, by method and route (split into segments),
/// with the components its references name.
struct Bodies {
    schemas: BTreeMap<String, Vec<(Vec<String>, Value)>>,
    components: Map<String, Value>,
}

impl Bodies {
    /// The body schema of `method` on a concrete `path`: the documented route whose
    /// segments match (`{name}` matches any one segment).
    fn find(&self, method: &str, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.split('/').collect();
        self.schemas
            .get(&method.to_ascii_lowercase())?
            .iter()
            .find(|(route, _)| {
                route.len() == segments.len()
                    && route.iter().zip(&segments).all(|(r, s)| {
                        r == s || (r.starts_with('{') && r.ends_with('}') && !s.is_empty())
                    })
            })
            .map(|(_, schema)| schema)
    }
}

static BODIES: LazyLock<Bodies> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(&*super::STATIC_DOC).unwrap_or_default();
    super::rules::apply(&mut doc);
    let mut schemas: BTreeMap<String, Vec<(Vec<String>, Value)>> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            {
                let route = path.split('/').map(str::to_owned).collect();
                schemas
                    .entry(method.clone())
                    .or_default()
                    .push((route, schema.clone()));
            }
        }
    }
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Bodies {
        schemas,
        components,
    }
});

/// Refuses an array wherever the request body schema of `method` on `path` (e.g.
/// `/api/v1/scopes/biz:biz1/endpoints`) allows only an object. A route the document
/// does not describe is not checked.
pub fn check(method: &str, path: &str, body: &Value) -> Result<(), ApiError> {
    let bodies = &*BODIES;
    let Some(schema) = bodies.find(method, path) else {
        return Ok(());
    };
    let walk = Walk {
        components: &bodies.components,
    };
    match walk.misplaced_array(&[schema], body, "") {
        Some(field) => Err(ApiError::invalid_field(
            if field.is_empty() {
                "body".to_owned()
            } else {
                field
            },
            "expected a JSON object, found an array",
        )),
        None => Ok(()),
    }
}

struct Walk<'a> {
    components: &'a Map<String, Value>,
}

impl<'a> Walk<'a> {
    /// The schema a `$ref` names (followed to the end), or the schema itself.
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(name) = schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                break;
            };
            match self.components.get(name) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// Where a child's schema may come from besides the schema's own `properties`: its
    /// alternatives (`oneOf`, `anyOf`), and the parts it is made of (`allOf`) when it
    /// has no shape of its own. An `allOf` beside `properties` holds rules across fields
    /// ([`super::rules`]), which constrain values and add no places.
    fn parts(&self, schema: &'a Value) -> impl Iterator<Item = &'a Value> {
        let composed = schema.get("type").is_none() && schema.get("properties").is_none();
        ["oneOf", "anyOf", "allOf"]
            .into_iter()
            .filter(move |k| *k != "allOf" || composed)
            .filter_map(move |k| schema.get(k).and_then(Value::as_array))
            .flatten()
            .map(|s| self.resolve(s))
    }

    /// Whether a schema lets an array through: its `type` names `array`, or it names
    /// no type and some alternative does (or it has none: any value).
    fn allows_array(&self, schema: &'a Value, depth: usize) -> bool {
        let schema = self.resolve(schema);
        if depth > 32 {
            return true;
        }
        match schema.get("type") {
            Some(Value::String(t)) => return t == "array",
            Some(Value::Array(types)) => return types.iter().any(|t| t == "array"),
            _ => {}
        }
        let alternatives: Vec<&Value> = ["oneOf", "anyOf"]
            .into_iter()
            .filter_map(|k| schema.get(k).and_then(Value::as_array))
            .flatten()
            .collect();
        if !alternatives.is_empty() {
            return alternatives.iter().any(|s| self.allows_array(s, depth + 1));
        }
        schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_none_or(|parts| parts.iter().all(|s| self.allows_array(s, depth + 1)))
    }

    /// The schemas the value under `key` of an object may follow.
    fn children(&self, schema: &'a Value, key: &str, out: &mut Vec<&'a Value>, depth: usize) {
        let schema = self.resolve(schema);
        if depth > 32 {
            return;
        }
        if let Some(child) = schema.pointer(&format!("/properties/{}", escape(key))) {
            out.push(child);
        } else if let Some(child) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            out.push(child);
        }
        for part in self.parts(schema) {
            self.children(part, key, out, depth + 1);
        }
    }

    /// The schemas the items of an array may follow.
    fn items(&self, schema: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
        let schema = self.resolve(schema);
        if depth > 32 {
            return;
        }
        if let Some(items) = schema.get("items") {
            out.push(items);
        }
        for part in self.parts(schema) {
            self.items(part, out, depth + 1);
        }
    }

    /// The first place in `value` holding an array where none of `schemas` allows one.
    fn misplaced_array(&self, schemas: &[&'a Value], value: &Value, at: &str) -> Option<String> {
        if schemas.is_empty() {
            // Nothing documented here (an unknown field): serde has the last word.
            return None;
        }
        match value {
            Value::Array(items) => {
                if !schemas.iter().any(|s| self.allows_array(s, 0)) {
                    return Some(at.to_owned());
                }
                let mut inner = Vec::new();
                for s in schemas {
                    self.items(s, &mut inner, 0);
                }
                items
                    .iter()
                    .enumerate()
                    .find_map(|(i, item)| self.misplaced_array(&inner, item, &format!("{at}[{i}]")))
            }
            Value::Object(map) => map.iter().find_map(|(key, child)| {
                let mut inner = Vec::new();
                for s in schemas {
                    self.children(s, key, &mut inner, 0);
                }
                let here = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                self.misplaced_array(&inner, child, &here)
            }),
            _ => None,
        }
    }
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    fn field(method: &str, route: &str, body: serde_json::Value) -> Option<String> {
        check(method, route, &body)
            .err()
            .map(|e| e.message().to_owned())
    }

    #[test]
    fn arrays_are_refused_where_objects_are_documented() {
        let endpoints = "/api/v1/scopes/s/endpoints";
        assert!(
            field(
                "POST",
                endpoints,
                json!({"code": "e", "url": "https://a.example/"})
            )
            .is_none()
        );
        let targets = field(
            "POST",
            endpoints,
            json!({"code": "e", "targets": [["https://a.example/", 2]]}),
        );
        assert!(targets.is_some_and(|m| m.starts_with("targets[0]:")));
        let auth = field(
            "PATCH",
            "/api/v1/scopes/s/endpoints/e",
            json!({"auth": ["bearer", "t"]}),
        );
        assert!(auth.is_some_and(|m| m.starts_with("auth:")));
        let item = field("PUT", endpoints, json!([["e", null, "https://a.example/"]]));
        assert!(item.is_some_and(|m| m.starts_with("[0]:")), "apply's items");
        let registry = field(
            "PUT",
            "/api/v1/event-types",
            json!({"version": 1, "events": [["a", "A"]]}),
        );
        assert!(registry.is_some_and(|m| m.starts_with("events[0]:")));
        let sources = "/api/v1/sources/github";
        for (key, value) in [
            ("verify", json!(["none"])),
            ("dedupe", json!(["x-id", null, 60])),
            ("publish", json!([null, "type", "", ["s"]])),
            ("response", json!([200, "ok", "text/plain"])),
        ] {
            let mut body =
                json!({"verify": {"type": "none"}, "forward_to": ["https://a.example/"]});
            body[key] = value;
            let refused = field("PUT", sources, body);
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|m| m.starts_with(&format!("{key}:"))),
                "{key}: {refused:?}"
            );
        }
    }

    #[test]
    fn documented_arrays_and_free_values_pass() {
        assert!(field(
            "PUT",
            "/api/v1/scopes/s/subscriptions",
            json!({"e": ["*"], "f": {"events": ["a.*"], "filter": {"tags": ["x", "y"], "$or": [{"n": {"$in": [1, 2]}}]}}})
        )
        .is_none());
        assert!(
            field(
                "PUT",
                "/api/v1/event-types/a.b",
                json!({"name": "A", "schema": {"enum": [[1, 2]], "prefixItems": [{}]}})
            )
            .is_none()
        );
        assert!(
            field(
                "POST",
                "/api/v1/tokens",
                json!({"scopes": ["a", "b"], "unknown": [1]})
            )
            .is_none()
        );
        assert!(field("GET", "/nowhere", json!([[1]])).is_none());
    }
}
