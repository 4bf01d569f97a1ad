//! Known-answer vectors from `shared/conformance/vectors.json`, which sits beside the
//! repository (as it does in CI).

use hookrelay_signature::{Secret, VerifyError, sign, verify};

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors.json")).expect("valid JSON")
}

#[test]
fn standard_webhooks_vectors_sign_and_verify() {
    let v = vectors();
    let cases = v["standard_webhooks_v1"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let secret = Secret::parse(case["secret"].as_str().unwrap()).unwrap();
        let id = case["id"].as_str().unwrap();
        let ts = case["timestamp"].as_i64().unwrap();
        let body = case["body"].as_str().unwrap().as_bytes();
        let expected = case["signature"].as_str().unwrap();
        assert_eq!(sign(&secret, id, ts, body), expected);
        assert_eq!(
            verify(
                std::slice::from_ref(&secret),
                id,
                ts,
                body,
                expected,
                ts,
                300
            ),
            Ok(())
        );
        // One changed byte in the body must not verify.
        let mut tampered = body.to_vec();
        tampered[0] ^= 1;
        assert_eq!(
            verify(&[secret], id, ts, &tampered, expected, ts, 300),
            Err(VerifyError::Mismatch)
        );
    }
}

#[test]
fn any_secret_and_any_entry_may_match() {
    let old = Secret::generate();
    let new = Secret::generate();
    let header = format!(
        "{} {}",
        sign(&old, "evt_1", 10, b"{}"),
        sign(&new, "evt_1", 10, b"{}")
    );
    assert_eq!(
        verify(
            std::slice::from_ref(&new),
            "evt_1",
            10,
            b"{}",
            &header,
            10,
            300
        ),
        Ok(())
    );
    assert_eq!(verify(&[old], "evt_1", 10, b"{}", &header, 10, 300), Ok(()));
    assert_eq!(
        verify(&[Secret::generate()], "evt_1", 10, b"{}", &header, 10, 300),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let s = Secret::generate();
    let sig = sign(&s, "evt_1", 1000, b"{}");
    assert!(matches!(
        verify(
            std::slice::from_ref(&s),
            "evt_1",
            1000,
            b"{}",
            &sig,
            1301,
            300
        ),
        Err(VerifyError::StaleTimestamp { .. })
    ));
    assert!(matches!(
        verify(
            std::slice::from_ref(&s),
            "evt_1",
            1000,
            b"{}",
            &sig,
            699,
            300
        ),
        Err(VerifyError::StaleTimestamp { .. })
    ));
    assert_eq!(
        verify(&[s], "evt_1", 1000, b"{}", "v1a,abc", 1000, 300),
        Err(VerifyError::NoV1Signature)
    );
}
