//! Identifiers and codes from URLs and request bodies: event type codes
//! (`event_type::validate_code`), endpoint codes (`endpoint::validate_code`), scopes
//! (`Scope::parse`), source names (`source::validate_name`), the prefixed ids
//! (`EventId::parse`, …, and `time_bound`), built-in type names, balancing strategies
//! (`Strategy::parse`) and signer kinds. An event type code is also a valid endpoint
//! code; whatever parses keeps its text.
#![no_main]

use hookrelay_core::balance::Strategy;
use hookrelay_core::ids::{DeliveryId, EndpointId, EventId, RequestId, TokenId};
use hookrelay_core::scope::Scope;
use hookrelay_core::{endpoint, event_type, operational, source};
use hookrelay_signature::SignerKind;
use libfuzzer_sys::fuzz_target;

macro_rules! id_round_trip {
    ($ty:ty, $text:expr, $ms:expr) => {{
        if let Some(id) = <$ty>::parse($text) {
            assert_eq!(id.as_str(), $text);
            assert_eq!(id.to_string(), $text);
        }
        let bound = <$ty>::time_bound($ms);
        assert!(<$ty>::parse(&bound).is_some(), "{bound}");
    }};
}

fuzz_target!(|data: &[u8]| {
    let ms = data
        .get(..8)
        .map_or(0, |b| i64::from_le_bytes(b.try_into().unwrap()));
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let event_ok = event_type::validate_code(text).is_ok();
    let endpoint_ok = endpoint::validate_code(text).is_ok();
    if event_ok {
        assert!(endpoint_ok);
    }
    if let Ok(scope) = Scope::parse(text) {
        assert_eq!(scope.as_str(), text);
        assert_eq!(scope.to_string(), text);
    }
    let _ = source::validate_name(text);
    let _ = operational::is_builtin(text);
    if let Ok(s) = Strategy::parse(text) {
        assert_eq!(serde_json::to_value(s).unwrap(), text);
    }
    if let Some(kind) = SignerKind::parse(text) {
        assert_eq!(kind.name(), text);
    }
    id_round_trip!(EventId, text, ms);
    id_round_trip!(DeliveryId, text, ms);
    id_round_trip!(EndpointId, text, ms);
    id_round_trip!(TokenId, text, ms);
    id_round_trip!(RequestId, text, ms);
});
