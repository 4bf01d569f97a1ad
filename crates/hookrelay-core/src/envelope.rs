//! The JSON body every delivery carries:
//! `{"id","type","timestamp","scope","data"}`.

/// Renders the delivered body. `data` is the publisher's JSON text, validated when it was
/// published and kept byte for byte, so every attempt of a delivery carries the same body.
pub fn render(
    id: &str,
    event_type: &str,
    timestamp_rfc3339: &str,
    scope: &str,
    data: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + id.len() + event_type.len() + scope.len() + data.len());
    out.extend_from_slice(b"{\"id\":");
    push_json_string(&mut out, id);
    out.extend_from_slice(b",\"type\":");
    push_json_string(&mut out, event_type);
    out.extend_from_slice(b",\"timestamp\":");
    push_json_string(&mut out, timestamp_rfc3339);
    out.extend_from_slice(b",\"scope\":");
    push_json_string(&mut out, scope);
    out.extend_from_slice(b",\"data\":");
    out.extend_from_slice(data.as_bytes());
    out.push(b'}');
    out
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    // Serializing a &str to a Vec cannot fail.
    serde_json::to_writer(&mut *out, s).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_valid_json_with_the_data_untouched() {
        let data = "{\"b\":1,  \"a\":[1,2]}";
        let body = render(
            "evt_1",
            "order.paid",
            "2026-11-23T10:00:00Z",
            "biz:\"x\"",
            data,
        );
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.ends_with("\"data\":{\"b\":1,  \"a\":[1,2]}}"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["scope"], "biz:\"x\"");
        assert_eq!(v["type"], "order.paid");
        assert_eq!(v["id"], "evt_1");
    }
}
