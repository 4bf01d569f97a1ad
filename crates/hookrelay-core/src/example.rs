//! Example payloads generated from an event type's JSON Schema, so the catalog can
//! show integrators what `data` looks like before any event is published.
//!
//! The generator is deterministic (the same schema always gives the same example) and
//! prefers what the schema's author wrote: `examples`, `example`, `default`, `const`,
//! then the first `enum` value. Otherwise it builds a placeholder from `type` and
//! `format`: every object property, one item per array, a fixed time for `date-time`.
//! Local `$ref`s (`#/$defs/…`) are followed; recursion stops at [`MAX_DEPTH`], so a
//! self-referencing schema still gives a finite example, and one example holds at most
//! [`MAX_VALUES`] generated values, so it stays small too.

use std::cell::Cell;

use serde_json::{Map, Value, json};

/// How deep the generator descends (nested properties, items and `$ref`s) before it
/// answers `null` instead.
pub const MAX_DEPTH: usize = 8;

/// The most values the generator makes for one example; past it, it answers `null` (so
/// the objects under way keep all their keys). Without it, an object whose properties
/// refer back to it (`{"properties": {"a": {"$ref": "#"}, "b": {"$ref": "#"}, …}}`) gives an example
/// exponential in [`MAX_DEPTH`]: 24 such properties (438 bytes) made 8 million values.
pub const MAX_VALUES: usize = 10_000;

/// The longest string placeholder: a larger `minLength` is not padded up to.
pub const MAX_STRING_CHARS: u64 = 1_024;

/// The fixed time every `date-time` placeholder shows.
pub const EXAMPLE_TIME: &str = "2026-01-01T12:00:00Z";

/// An example value for `schema` (a draft 2020-12 JSON Schema).
pub fn example(schema: &Value) -> Value {
    Generator {
        root: schema,
        budget: Cell::new(MAX_VALUES),
    }
    .value(schema, 0)
}

struct Generator<'a> {
    /// The whole schema, where local `$ref`s point into.
    root: &'a Value,
    /// Values still to be made (see [`MAX_VALUES`]).
    budget: Cell<usize>,
}

impl<'a> Generator<'a> {
    fn value(&self, schema: &'a Value, depth: usize) -> Value {
        // Every call counts, the `null`s past the depth limit too.
        let Some(left) = self.budget.get().checked_sub(1) else {
            return Value::Null;
        };
        self.budget.set(left);
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        // `true`, `false` and anything not an object constrain nothing we can show.
        let Some(obj) = schema.as_object() else {
            return Value::Null;
        };
        if let Some(given) = authored(obj) {
            return given;
        }
        if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
            return match self.resolve(target) {
                Some(s) => self.value(s, depth + 1),
                None => Value::Null,
            };
        }
        let all_of = obj.get("allOf").and_then(Value::as_array);
        if let Some(all) = all_of.filter(|a| !a.is_empty()) {
            return self.all_of(obj, all, depth);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = obj
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return self.value(first, depth + 1);
            }
        }
        match type_of(obj) {
            Some("object") => self.object(obj, depth),
            Some("array") => self.array(obj, depth),
            Some("string") => string(obj),
            Some("integer") => json!(number(obj).round() as i64),
            Some("number") => json!(number(obj)),
            Some("boolean") => json!(true),
            _ => Value::Null,
        }
    }

    /// A local JSON pointer (`#`, `#/$defs/x`); remote references are never fetched.
    fn resolve(&self, target: &str) -> Option<&'a Value> {
        let pointer = target.strip_prefix('#')?;
        self.root.pointer(pointer)
    }

    /// Objects of every branch (and the schema's own `properties`) merged, the usual
    /// "base plus extension" use; otherwise the first branch's example.
    fn all_of(&self, obj: &'a Map<String, Value>, all: &'a [Value], depth: usize) -> Value {
        let mut parts: Vec<Value> = all.iter().map(|s| self.value(s, depth + 1)).collect();
        if obj.contains_key("properties") {
            parts.insert(0, self.object(obj, depth));
        }
        if !parts.iter().all(Value::is_object) {
            return parts.into_iter().next().unwrap_or(Value::Null);
        }
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(map) = part {
                merged.extend(map);
            }
        }
        Value::Object(merged)
    }

    fn object(&self, obj: &'a Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (name, prop) in props {
                out.insert(name.clone(), self.value(prop, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&self, obj: &'a Map<String, Value>, depth: usize) -> Value {
        if let Some(Value::Array(prefix)) = obj.get("prefixItems") {
            return prefix.iter().map(|s| self.value(s, depth + 1)).collect();
        }
        match obj.get("items") {
            Some(items @ Value::Object(_)) => Value::Array(vec![self.value(items, depth + 1)]),
            _ => Value::Array(Vec::new()),
        }
    }
}

/// What the schema's author gave as an example, default or only value.
fn authored(obj: &Map<String, Value>) -> Option<Value> {
    if let Some(first) = obj
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return Some(first.clone());
    }
    for key in ["example", "default", "const"] {
        if let Some(v) = obj.get(key) {
            return Some(v.clone());
        }
    }
    obj.get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
}

/// The schema's type: the first one that is not `null` when several are allowed, or
/// what `properties` / `items` imply when `type` is absent.
fn type_of(obj: &Map<String, Value>) -> Option<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(types)) => {
            let names = || types.iter().filter_map(Value::as_str);
            names().find(|t| *t != "null").or_else(|| names().next())
        }
        _ if obj.contains_key("properties") => Some("object"),
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => Some("array"),
        _ => None,
    }
}

/// A placeholder that fits the `format`, padded to `minLength`.
fn string(obj: &Map<String, Value>) -> Value {
    let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
    let mut text = match format {
        "date-time" => EXAMPLE_TIME,
        "date" => "2026-01-01",
        "time" => "12:00:00Z",
        "duration" => "PT1H",
        "email" | "idn-email" => "user@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "uri" | "iri" | "uri-reference" | "iri-reference" | "url" => "https://example.com/",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        _ => "string",
    }
    .to_owned();
    let min = obj
        .get("minLength")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(MAX_STRING_CHARS);
    let short = min.saturating_sub(text.chars().count() as u64);
    text.extend(std::iter::repeat_n('x', short as usize));
    if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
        text = text.chars().take(max as usize).collect();
    }
    Value::String(text)
}

/// Zero, moved into `minimum` / `maximum` (and past exclusive bounds) when they exclude it.
fn number(obj: &Map<String, Value>) -> f64 {
    let bound = |key: &str| obj.get(key).and_then(Value::as_f64);
    let mut n = 0.0_f64;
    if let Some(min) = bound("minimum") {
        n = n.max(min);
    }
    if let Some(min) = bound("exclusiveMinimum")
        && n <= min
    {
        n = min + 1.0;
    }
    if let Some(max) = bound("maximum") {
        n = n.min(max);
    }
    if let Some(max) = bound("exclusiveMaximum")
        && n >= max
    {
        n = max - 1.0;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operational::builtin_types;
    use crate::schema::DataSchema;

    #[test]
    fn authored_values_win_in_order() {
        let s = json!({"type": "string", "examples": ["a"], "example": "b", "default": "c"});
        assert_eq!(example(&s), json!("a"));
        assert_eq!(example(&json!({"example": 5, "default": 6})), json!(5));
        assert_eq!(example(&json!({"type": "integer", "default": 6})), json!(6));
        assert_eq!(example(&json!({"const": "fixed"})), json!("fixed"));
        assert_eq!(
            example(&json!({"enum": ["paid", "refunded"]})),
            json!("paid")
        );
    }

    #[test]
    fn placeholders_follow_type_and_format() {
        let s = json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "at": {"type": "string", "format": "date-time"},
                "email": {"type": "string", "format": "email"},
                "count": {"type": "integer", "minimum": 3},
                "ratio": {"type": "number", "exclusiveMaximum": 0},
                "ok": {"type": "boolean"},
                "note": {"type": ["string", "null"]},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 8}},
                "pair": {"prefixItems": [{"type": "integer"}, {"type": "boolean"}]},
                "nested": {"properties": {"deep": {"type": "null"}}}
            }
        });
        assert_eq!(
            example(&s),
            json!({
                "id": "00000000-0000-4000-8000-000000000000",
                "at": EXAMPLE_TIME,
                "email": "user@example.com",
                "count": 3,
                "ratio": -1.0,
                "ok": true,
                "note": "string",
                "tags": ["stringxx"],
                "pair": [0, true],
                "nested": {"deep": null}
            })
        );
    }

    #[test]
    fn references_and_combinations_are_followed() {
        let s = json!({
            "$defs": {"money": {"type": "object", "properties": {"cents": {"type": "integer"}}}},
            "type": "object",
            "properties": {
                "price": {"$ref": "#/$defs/money"},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "both": {"allOf": [
                    {"properties": {"a": {"const": 1}}},
                    {"properties": {"b": {"const": 2}}}
                ]},
                "remote": {"$ref": "https://example.com/schema.json"}
            }
        });
        assert_eq!(
            example(&s),
            json!({
                "price": {"cents": 0},
                "either": "string",
                "both": {"a": 1, "b": 2},
                "remote": null
            })
        );
    }

    #[test]
    fn a_schema_that_refers_to_itself_ends() {
        let s = json!({
            "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"
        });
        let mut v = &example(&s);
        let mut levels = 0;
        while let Some(child) = v.get("child") {
            v = child;
            levels += 1;
        }
        assert!(v.is_null(), "{v}");
        assert!(levels <= MAX_DEPTH, "{levels}");
        assert_eq!(example(&s), example(&s), "deterministic");
    }

    #[test]
    fn examples_of_the_operational_types_match_their_schemas() {
        for def in builtin_types() {
            let schema = def.schema.expect("a schema");
            let checked = DataSchema::compile(&schema).unwrap();
            let data = example(&schema);
            assert!(checked.check(&data).is_ok(), "{}: {data}", def.code);
        }
    }

    #[test]
    fn self_references_and_long_strings_stay_small() {
        // Found with fuzz/fuzz_targets/schema.rs: 24 properties referring back to the root
        // gave 24^5 values (2 GB, 52 s), and a minLength of 2,000,000 was padded one char
        // at a time, recounting the text each time (minutes); u64::MAX never ended.
        fn count(v: &Value) -> usize {
            1 + match v {
                Value::Object(m) => m.values().map(count).sum(),
                Value::Array(a) => a.iter().map(count).sum(),
                _ => 0,
            }
        }
        let props: Map<String, Value> = (0..24)
            .map(|i| (i.to_string(), json!({"$ref": "#"})))
            .collect();
        let v = example(&json!({ "properties": props }));
        // The budget, and the `null`s that fill the objects under way when it runs out.
        assert!(
            count(&v) <= MAX_VALUES + (MAX_DEPTH + 1) * 24,
            "{}",
            count(&v)
        );
        assert_eq!(v.as_object().map(Map::len), Some(24));

        for min in [2_000_000, u64::MAX] {
            let s = json!({"type": "string", "minLength": min});
            let text = example(&s);
            assert_eq!(text.as_str().map(str::len), Some(1_024));
        }
        let s = json!({"type": "string", "format": "date", "minLength": 12, "maxLength": 11});
        assert_eq!(example(&s), json!("2026-01-01x"));
    }

    #[test]
    fn schemas_that_say_nothing_give_null() {
        assert_eq!(example(&json!(true)), Value::Null);
        assert_eq!(example(&json!({})), Value::Null);
    }
}
