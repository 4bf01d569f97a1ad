//! JSON shown for reading: payloads, schemas and request bodies, indented.
//!
//! These return plain text; callers escape it into a `<pre>` like any other value.

use serde_json::Value;

/// `text` indented when it is a JSON object or array; anything else as it came (a
/// form-encoded or plain-text body stays readable).
pub fn pretty_text(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .map(|v| pretty(&v))
        .unwrap_or_else(|| text.to_owned())
}

/// A value indented, two spaces per level.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `<pre>` of pretty-printed JSON text, escaped.
pub fn pre(text: &str) -> String {
    format!("<pre>{}</pre>", super::html::escape(&pretty_text(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_indented_and_other_text_kept() {
        assert_eq!(pretty_text(r#"{"a":[1]}"#), "{\n  \"a\": [\n    1\n  ]\n}");
        assert_eq!(pretty_text("a=1&b=2"), "a=1&b=2");
        assert_eq!(pretty_text("42"), "42");
        assert_eq!(pre("<b>"), "<pre>&lt;b&gt;</pre>");
    }
}
