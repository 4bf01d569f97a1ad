//! Reading a request: the deduplication key, the event type to publish, and the headers
//! as they will be logged and forwarded.

use axum::http::HeaderMap;
use hookrelay_core::source::{Dedupe, Publish, Verify};
use serde_json::Value;

use hookrelay_core::REDACTED;

/// A dot path (`data.object.id`) into a JSON document, as text (numbers too).
pub fn json_path(body: &Value, path: &str) -> Option<String> {
    let mut at = body;
    for part in path.split('.') {
        at = match at {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The request's deduplication key (`None`: the request carries none, so it is never a
/// duplicate).
pub fn dedupe_key(dedupe: &Dedupe, headers: &HeaderMap, json: Option<&Value>) -> Option<String> {
    match (&dedupe.header, &dedupe.json_path) {
        (Some(h), _) => header(headers, h),
        (None, Some(path)) => json.and_then(|j| json_path(j, path)),
        (None, None) => None,
    }
}

/// The event type a request is published as.
pub fn event_type(
    publish: &Publish,
    headers: &HeaderMap,
    json: Option<&Value>,
) -> Result<String, String> {
    let value = match (&publish.type_header, &publish.type_path) {
        (Some(h), _) => header(headers, h)
            .ok_or_else(|| format!("the {h} header naming the event type is missing"))?,
        (None, Some(path)) => json
            .and_then(|j| json_path(j, path))
            .ok_or_else(|| format!("the body has no {path:?} naming the event type"))?,
        (None, None) => return Err("the source does not say where the event type is".to_owned()),
    };
    Ok(format!("{}{value}", publish.type_prefix))
}

/// The headers in order, names lowercased, credential values (basic auth, API keys)
/// replaced by [`REDACTED`]: what is logged and what forwards start from.
pub fn captured_headers(verify: &Verify, headers: &HeaderMap) -> Vec<(String, String)> {
    let secret = verify.secret_headers();
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = if secret.contains(&name) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_reach_nested_values() {
        let body = json!({"id": "evt_1", "data": {"object": {"n": 7, "list": ["a", "b"]}}});
        assert_eq!(json_path(&body, "id").as_deref(), Some("evt_1"));
        assert_eq!(json_path(&body, "data.object.n").as_deref(), Some("7"));
        assert_eq!(json_path(&body, "data.object.list.1").as_deref(), Some("b"));
        assert_eq!(json_path(&body, "data.missing"), None);
        assert_eq!(json_path(&body, "data"), None, "objects are no key");
    }

    #[test]
    fn credentials_are_redacted_and_the_rest_kept_in_order() {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "k".parse().unwrap());
        h.insert("x-github-event", "push".parse().unwrap());
        let v = Verify::ApiKey {
            header: "X-Api-Key".into(),
            values: vec!["k".into()],
        };
        assert_eq!(
            captured_headers(&v, &h),
            vec![
                ("x-api-key".to_owned(), REDACTED.to_owned()),
                ("x-github-event".to_owned(), "push".to_owned())
            ]
        );
    }
}
