//! The delivery body (`hookrelay_core::envelope::render`) with arbitrary id, type,
//! timestamp, scope and data text: when `data` is JSON the body must be JSON whose fields
//! are exactly the inputs, and `data` must be carried byte for byte.
#![no_main]

use arbitrary::Arbitrary;
use hookrelay_core::envelope::render;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    id: &'a str,
    event_type: &'a str,
    timestamp: &'a str,
    scope: &'a str,
    data: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let body = render(
        input.id,
        input.event_type,
        input.timestamp,
        input.scope,
        input.data,
    );
    let text = std::str::from_utf8(&body).expect("the body is UTF-8");
    let tail = format!(",\"data\":{}}}", input.data);
    assert!(text.ends_with(&tail), "data is carried byte for byte");

    let Ok(data) = serde_json::from_str::<Value>(input.data) else {
        return;
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        // `data` one level below serde_json's nesting limit: the body is one level deeper.
        Err(e) if e.to_string().contains("recursion limit") => return,
        Err(e) => panic!("the body is not JSON: {e}: {text}"),
    };
    assert_eq!(parsed["id"], input.id);
    assert_eq!(parsed["type"], input.event_type);
    assert_eq!(parsed["timestamp"], input.timestamp);
    assert_eq!(parsed["scope"], input.scope);
    assert_eq!(parsed["data"], data);
    assert_eq!(parsed.as_object().map(|o| o.len()), Some(5));
});
