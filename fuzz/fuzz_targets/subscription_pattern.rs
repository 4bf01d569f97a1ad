//! Subscriptions (`hookrelay_core::subscription`): a body of
//! `PUT /scopes/{s}/subscriptions` (`SubscriptionSpec`, JSON) goes through
//! `Subscription::parse` + `with_filter` as the API does; any other input is lines: the
//! first an event type code, the rest patterns for `Pattern::parse`. A parsed pattern
//! prints back to itself, and matches as its kind says.
#![no_main]

use hookrelay_core::event_type::validate_code;
use hookrelay_core::subscription::{Pattern, Subscription, SubscriptionSpec};
use libfuzzer_sys::fuzz_target;

fn check_pattern(text: &str, code: &str) {
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    assert_eq!(pattern.as_text(), text);
    assert_eq!(Pattern::parse(&pattern.as_text()).as_ref(), Ok(&pattern));
    let matched = pattern.matches(code);
    match &pattern {
        Pattern::All => assert!(matched),
        Pattern::Exact(c) => {
            assert_eq!(matched, c == code);
            assert!(validate_code(c).is_ok());
        }
        Pattern::Prefix(p) => {
            assert_eq!(matched, code.starts_with(p.as_str()));
            assert!(p.ends_with('.'));
            assert!(pattern.matches(&format!("{p}x")));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = serde_json::from_slice::<SubscriptionSpec>(data) {
        let (events, filter) = match spec {
            SubscriptionSpec::List(events) => (events, None),
            SubscriptionSpec::Detailed { events, filter } => (events, filter),
        };
        if let Ok(sub) = Subscription::parse(&events).and_then(|s| s.with_filter(filter.as_ref())) {
            assert_eq!(sub.to_texts(), events);
            let null = serde_json::Value::Null;
            for code in events.iter().take(16) {
                let _ = sub.accepts(code, || Some(&null));
            }
        }
        return;
    }
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let code = lines.next().unwrap_or_default();
    if validate_code(code).is_ok() {
        assert_eq!(Pattern::parse(code), Ok(Pattern::Exact(code.to_owned())));
    }
    check_pattern(code, code);
    let patterns: Vec<String> = lines.map(str::to_owned).collect();
    for p in patterns.iter().take(64) {
        check_pattern(p, code);
    }
    if let Ok(sub) = Subscription::parse(&patterns) {
        assert_eq!(sub.to_texts(), patterns);
        assert_eq!(
            sub.matches(code),
            sub.patterns.iter().any(|p| p.matches(code))
        );
    }
});
