//! Payload filters (`hookrelay_core::filter::Filter`): `Filter::parse` on arbitrary JSON,
//! then `matches` against arbitrary JSON data, and through a subscription
//! (`Subscription::with_filter` / `accepts`), as the API and the fan-out use them.
//! The input is JSON: `[filter, data]`, or one value used as both.
#![no_main]

use hookrelay_core::filter::Filter;
use hookrelay_core::subscription::Subscription;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let (filter, payload) = match &value {
        Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
        v => (v, v),
    };
    let Ok(parsed) = Filter::parse(filter) else {
        let sub = Subscription::parse(&["*".to_owned()]).unwrap();
        assert!(sub.with_filter(Some(filter)).is_err());
        return;
    };
    let matched = parsed.matches(payload);
    assert_eq!(
        Filter::Not(Box::new(parsed.clone())).matches(payload),
        !matched
    );
    // Evaluating twice gives the same answer (no hidden state).
    assert_eq!(parsed.matches(payload), matched);
    let _ = parsed.matches(filter);

    let sub = Subscription::parse(&["*".to_owned()])
        .unwrap()
        .with_filter(Some(filter))
        .expect("the filter parsed above");
    assert_eq!(sub.accepts("order.paid", || Some(payload)), matched);
    assert!(!sub.accepts("order.paid", || None));
});
