//! Inbound source configuration (`hookrelay_core::source`): a `PUT /sources/{name}` body
//! deserialized as `SourceSpec` (every `verify` scheme, dedupe, publish, allowed_ips,
//! response), then `validate`, `effective_dedupe`, `Verify::{name, default_dedupe,
//! secret_headers}` and `allows` for a few addresses. A spec must survive the store's
//! round trip (spec without `verify` as JSON, `verify` sealed separately, joined on read:
//! hookrelay-store rows.rs `split_source` / `source`) unchanged.
#![no_main]

use std::net::IpAddr;

use hookrelay_core::source::{SourceSpec, Verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<SourceSpec>(data) else {
        // A bare `verify` object is parsed on its own too.
        if let Ok(verify) = serde_json::from_slice::<Verify>(data) {
            let _ = (
                verify.name(),
                verify.default_dedupe(),
                verify.secret_headers(),
            );
        }
        return;
    };
    let valid = spec.validate().is_ok();
    let _ = spec.effective_dedupe();
    let _ = (spec.verify.name(), spec.verify.secret_headers());
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "::1",
        "2002:7f00:1::1",
        "::ffff:192.30.253.9",
    ] {
        let ip: IpAddr = ip.parse().unwrap();
        let _ = spec.allows(ip);
    }

    // The store's round trip.
    let mut plain = serde_json::to_value(&spec).expect("a spec serializes");
    plain.as_object_mut().expect("an object").remove("verify");
    let sealed = serde_json::to_string(&spec.verify).expect("verify serializes");
    let mut back: serde_json::Value = serde_json::from_str(&plain.to_string()).unwrap();
    back["verify"] =
        serde_json::to_value(serde_json::from_str::<Verify>(&sealed).expect("verify reads back"))
            .unwrap();
    let back: SourceSpec = serde_json::from_value(back).expect("the spec reads back");
    assert_eq!(back, spec);
    assert_eq!(back.validate().is_ok(), valid);
});
