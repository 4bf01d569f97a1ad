//! Rules that span fields, written into the serialized document: `url` or `targets`,
//! `secret` or `key_type`, a source that sends its requests somewhere, the payload
//! filter language. They need JSON Schema keywords that utoipa's schema model lacks
//! (`not`, `const`, `patternProperties`-like maps, recursion by name), so they are
//! added to the component schemas the derives produced, each beside the handler check
//! it restates (named in its comment).

use serde_json::{Value, json};

/// `required` and a type for each named property: "present and not `null`".
fn given(fields: &[(&str, &str)]) -> Value {
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), json!({ "type": kind })))
        .collect();
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    json!({ "required": required, "properties": properties })
}

/// Exactly one of the two properties is given (present and not `null`).
fn exactly_one(a: (&str, &str), b: (&str, &str)) -> Value {
    json!({ "oneOf": [given(&[a]), given(&[b])] })
}

/// Not both properties are given.
fn not_both(a: (&str, &str), b: (&str, &str)) -> Value {
    json!({ "not": given(&[a, b]) })
}

/// When `a` is given, `b` is given too.
fn needs(a: (&str, &str), b: (&str, &str)) -> Value {
    json!({ "anyOf": [{ "not": given(&[a]) }, given(&[b])] })
}

/// The rules of each component schema, by name.
fn rules() -> Vec<(&'static str, Vec<Value>)> {
    let url = ("url", "string");
    let targets = ("targets", "array");
    let strategy = ("strategy", "string");
    let secret = ("secret", "string");
    let key_type = ("key_type", "string");
    vec![
        // api/destination.rs: one of url and targets; a strategy only with targets.
        // api/endpoints.rs: a secret or the key type to generate, not both.
        (
            "EndpointInput",
            vec![
                exactly_one(url, targets),
                needs(strategy, targets),
                not_both(secret, key_type),
            ],
        ),
        // The same, where leaving both out leaves the destination as it is.
        (
            "EndpointPatch",
            vec![not_both(url, targets), needs(strategy, targets)],
        ),
        // api/secrets.rs.
        ("Rotate", vec![not_both(secret, key_type)]),
        // api/events.rs: at least one scope, in `scopes` or `scope`.
        (
            "PublishInput",
            vec![json!({ "anyOf": [
                { "required": ["scopes"], "properties": { "scopes": { "minItems": 1 } } },
                given(&[("scope", "string")]),
            ] })],
        ),
        // hookrelay-core source.rs (SourceSpec::validate): forward_to and/or publish;
        // `dedupe: true` only for a scheme whose requests carry an id.
        (
            "SourceInput",
            vec![
                json!({ "anyOf": [
                    { "required": ["forward_to"], "properties": { "forward_to": { "minItems": 1 } } },
                    given(&[("publish", "object")]),
                ] }),
                json!({ "anyOf": [
                    { "not": { "required": ["dedupe"], "properties": { "dedupe": { "const": true } } } },
                    { "properties": { "verify": { "properties": { "type": {
                        "enum": ["github", "stripe", "shopify", "standard"]
                    } } } } },
                ] }),
            ],
        ),
        (
            "Dedupe",
            vec![exactly_one(("header", "string"), ("json_path", "string"))],
        ),
        (
            "Publish",
            vec![exactly_one(
                ("type_header", "string"),
                ("type_path", "string"),
            )],
        ),
    ]
}

/// The payload filter language (hookrelay-core filter.rs): keys are dot paths into
/// `data` or the combinators `$and`, `$or`, `$not`; a path maps to a value (equality)
/// or to an object of operators.
fn filter_schemas() -> Vec<(&'static str, Value)> {
    let filter = "#/components/schemas/Filter";
    let ordered = json!({ "type": ["number", "string"] });
    vec![
        (
            "Filter",
            json!({
                "type": "object",
                "description": "A payload filter: each key is a dot path into `data` (`customer.country`, `items.0.sku`) or a combinator (`$and`, `$or`: arrays of filters; `$not`: a filter); every key must hold. A path maps to a value (equality) or to an object of operators.",
                "propertyNames": { "pattern": r"^(?:\$and|\$or|\$not|[^$.][^.]*(?:\.[^.]+)*)$" },
                "properties": {
                    "$and": { "type": "array", "items": { "$ref": filter } },
                    "$or": { "type": "array", "items": { "$ref": filter } },
                    "$not": { "$ref": filter },
                },
                "additionalProperties": { "$ref": "#/components/schemas/FilterCondition" },
            }),
        ),
        (
            "FilterCondition",
            json!({
                "description": "What the value at a path must be: a value it equals (an object whose keys do not start with `$` included), or an object of operators.",
                "anyOf": [
                    { "not": { "type": "object" } },
                    { "type": "object", "propertyNames": { "not": { "pattern": r"^\$" } } },
                    { "$ref": "#/components/schemas/FilterOperators" },
                ],
            }),
        ),
        (
            "FilterOperators",
            json!({
                "type": "object",
                "description": "Operators on the value at a path; all must hold. `$gt`, `$gte`, `$lt`, `$lte` compare numbers or strings; `$in`, `$nin` take a list; `$exists` true or false.",
                "minProperties": 1,
                "additionalProperties": false,
                "properties": {
                    "$eq": {}, "$ne": {},
                    "$gt": ordered, "$gte": ordered, "$lt": ordered, "$lte": ordered,
                    "$in": { "type": "array" }, "$nin": { "type": "array" },
                    "$exists": { "type": "boolean" },
                },
            }),
        ),
    ]
}

/// Tagged enums whose variants take no other fields (`deny_unknown_fields`, which the
/// derive writes for structs but not for an enum's variants).
const CLOSED_VARIANTS: &[&str] = &["VerifyInput", "OutboundAuth"];

/// Lists whose items must differ: an endpoint's targets (api/destination.rs refuses a
/// URL listed twice; the rule the schema can state is that no target is repeated).
const DISTINCT_TARGETS: &[&str] = &["EndpointInput", "EndpointPatch"];

/// Adds the rules to `doc` (the serialized document).
pub fn apply(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, schema) in filter_schemas() {
        schemas.insert(name.to_owned(), schema);
    }
    for name in CLOSED_VARIANTS {
        let variants = schemas
            .get_mut(*name)
            .and_then(|s| s.get_mut("oneOf"))
            .and_then(Value::as_array_mut);
        for variant in variants.into_iter().flatten() {
            if let Some(variant) = variant.as_object_mut() {
                variant.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
        }
    }
    for name in DISTINCT_TARGETS {
        if let Some(targets) = schemas
            .get_mut(*name)
            .and_then(|s| s.pointer_mut("/properties/targets"))
            .and_then(Value::as_object_mut)
        {
            targets.insert("uniqueItems".to_owned(), Value::Bool(true));
        }
    }
    for (name, rules) in rules() {
        if let Some(schema) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            match schema.get_mut("allOf").and_then(Value::as_array_mut) {
                Some(all) => all.extend(rules),
                None => {
                    schema.insert("allOf".to_owned(), Value::Array(rules));
                }
            }
        }
    }
}
