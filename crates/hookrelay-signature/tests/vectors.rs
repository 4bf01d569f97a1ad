//! Known-answer vectors from `tests/vectors.json` (its `_sources` says where each scheme's
//! vectors come from). The file is compiled into the test, so the tests read nothing
//! outside the repository.

use hookrelay_signature::providers::{github, shopify, slack, stripe};
use hookrelay_signature::{
    Keys, ProviderError, PublicKey, Secret, SigningKey, VerifyError, sign, sign_v1a, verify,
    verify_with,
};

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("vectors.json")).expect("valid JSON")
}

fn cases(v: &serde_json::Value, scheme: &str) -> Vec<serde_json::Value> {
    let cases = v[scheme]
        .as_array()
        .unwrap_or_else(|| panic!("{scheme} vectors"));
    assert!(!cases.is_empty(), "{scheme} has no vectors");
    cases.clone()
}

fn text<'a>(case: &'a serde_json::Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {case}"))
}

/// The body with its first byte changed.
fn tampered(body: &[u8]) -> Vec<u8> {
    let mut tampered = body.to_vec();
    tampered[0] ^= 1;
    tampered
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

#[test]
fn github_vectors_verify() {
    for case in cases(&vectors(), "github") {
        assert_eq!(text(&case, "header"), github::HEADER);
        let (secret, body, value) = (
            text(&case, "secret"),
            text(&case, "body"),
            text(&case, "value"),
        );
        assert_eq!(github::sign(secret.as_bytes(), body.as_bytes()), value);
        assert_eq!(
            github::verify(&[secret], body.as_bytes(), Some(value)),
            Ok(())
        );
        assert!(matches!(
            github::verify(&[secret], &tampered(body.as_bytes()), Some(value)),
            Err(ProviderError::Mismatch { .. })
        ));
    }
}

#[test]
fn stripe_vectors_verify() {
    for case in cases(&vectors(), "stripe") {
        assert_eq!(text(&case, "header"), stripe::HEADER);
        let (secret, body, value) = (
            text(&case, "secret"),
            text(&case, "body"),
            text(&case, "value"),
        );
        let t = case["timestamp"].as_i64().unwrap();
        assert_eq!(stripe::sign(secret.as_bytes(), t, body.as_bytes()), value);
        assert_eq!(
            stripe::verify(&[secret], body.as_bytes(), Some(value), t, 300),
            Ok(())
        );
        assert!(matches!(
            stripe::verify(&[secret], &tampered(body.as_bytes()), Some(value), t, 300),
            Err(ProviderError::Mismatch { .. })
        ));
        assert!(matches!(
            stripe::verify(&[secret], body.as_bytes(), Some(value), t + 301, 300),
            Err(ProviderError::StaleTimestamp { .. })
        ));
    }
}

#[test]
fn shopify_vectors_verify() {
    for case in cases(&vectors(), "shopify") {
        assert_eq!(text(&case, "header"), shopify::HEADER);
        let (secret, body, value) = (
            text(&case, "secret"),
            text(&case, "body"),
            text(&case, "value"),
        );
        assert_eq!(shopify::sign(secret.as_bytes(), body.as_bytes()), value);
        assert_eq!(
            shopify::verify(&[secret], body.as_bytes(), Some(value)),
            Ok(())
        );
        assert!(matches!(
            shopify::verify(&[secret], &tampered(body.as_bytes()), Some(value)),
            Err(ProviderError::Mismatch { .. })
        ));
    }
}

#[test]
fn slack_vectors_verify() {
    for case in cases(&vectors(), "slack") {
        assert_eq!(text(&case, "header"), slack::SIGNATURE_HEADER);
        let (secret, body, value) = (
            text(&case, "secret"),
            text(&case, "body"),
            text(&case, "value"),
        );
        let t = case["timestamp"].as_i64().unwrap();
        let ts = text(&case["headers"], slack::TIMESTAMP_HEADER);
        assert_eq!(slack::sign(secret.as_bytes(), t, body.as_bytes()), value);
        let check =
            |body: &[u8], now| slack::verify(&[secret], body, Some(ts), Some(value), now, 300);
        assert_eq!(check(body.as_bytes(), t), Ok(()));
        assert!(matches!(
            check(&tampered(body.as_bytes()), t),
            Err(ProviderError::Mismatch { .. })
        ));
        assert!(matches!(
            check(body.as_bytes(), t - 301),
            Err(ProviderError::StaleTimestamp { .. })
        ));
    }
}

#[test]
fn v1a_round_trips_through_the_public_key_text() {
    let key = SigningKey::generate();
    let public = PublicKey::parse(&key.public_key().to_text()).unwrap();
    let sig = sign_v1a(&key, "evt_1", 10, b"{}");
    assert!(sig.starts_with("v1a,"));
    let keys = Keys {
        public_keys: std::slice::from_ref(&public),
        ..Keys::default()
    };
    assert_eq!(verify_with(keys, "evt_1", 10, b"{}", &sig, 10, 300), Ok(()));
    // The id and the timestamp are signed as well as the body.
    assert_eq!(
        verify_with(keys, "evt_2", 10, b"{}", &sig, 10, 300),
        Err(VerifyError::V1aMismatch)
    );
    assert_eq!(
        verify_with(keys, "evt_1", 11, b"{}", &sig, 10, 300),
        Err(VerifyError::V1aMismatch)
    );
    assert_eq!(
        verify_with(keys, "evt_1", 10, b"{ }", &sig, 10, 300),
        Err(VerifyError::V1aMismatch)
    );
    // Another key's signature does not verify.
    let other = sign_v1a(&SigningKey::generate(), "evt_1", 10, b"{}");
    assert_eq!(
        verify_with(keys, "evt_1", 10, b"{}", &other, 10, 300),
        Err(VerifyError::V1aMismatch)
    );
}

#[test]
fn v1a_and_v1_may_share_one_header() {
    let secret = Secret::generate();
    let key = SigningKey::generate();
    let public = key.public_key();
    let header = format!(
        "{} {}",
        sign(&secret, "evt_1", 10, b"{}"),
        sign_v1a(&key, "evt_1", 10, b"{}")
    );
    let secrets = std::slice::from_ref(&secret);
    let public_keys = std::slice::from_ref(&public);
    let check =
        |keys: Keys<'_>, body: &[u8]| verify_with(keys, "evt_1", 10, body, &header, 10, 300);

    // Either kind of key finds its own entry and skips the other.
    assert_eq!(
        check(
            Keys {
                secrets,
                public_keys: &[]
            },
            b"{}"
        ),
        Ok(())
    );
    assert_eq!(
        check(
            Keys {
                secrets: &[],
                public_keys
            },
            b"{}"
        ),
        Ok(())
    );
    assert_eq!(
        check(
            Keys {
                secrets,
                public_keys
            },
            b"{}"
        ),
        Ok(())
    );
    assert_eq!(
        verify(secrets, "evt_1", 10, b"{}", &header, 10, 300),
        Ok(())
    );

    // A tampered body fails every entry, and the error names what was checked.
    assert_eq!(
        check(
            Keys {
                secrets,
                public_keys: &[]
            },
            b"[]"
        ),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        check(
            Keys {
                secrets: &[],
                public_keys
            },
            b"[]"
        ),
        Err(VerifyError::V1aMismatch)
    );
    assert_eq!(
        check(
            Keys {
                secrets,
                public_keys
            },
            b"[]"
        ),
        Err(VerifyError::V1OrV1aMismatch)
    );

    // Keys that match neither entry.
    let stranger = SigningKey::generate().public_key();
    let keys = Keys {
        secrets: &[Secret::generate()],
        public_keys: std::slice::from_ref(&stranger),
    };
    assert_eq!(check(keys, b"{}"), Err(VerifyError::V1OrV1aMismatch));
    // One right key among wrong ones is enough.
    let keys = Keys {
        secrets: &[Secret::generate()],
        public_keys: &[stranger, public],
    };
    assert_eq!(check(keys, b"{}"), Ok(()));
}

#[test]
fn v1a_headers_without_a_usable_entry_are_named() {
    let key = SigningKey::generate();
    let public = key.public_key();
    let public_keys = std::slice::from_ref(&public);
    let only_public = Keys {
        secrets: &[],
        public_keys,
    };
    let v1 = sign(&Secret::generate(), "evt_1", 10, b"{}");
    let short = "v1a,AAAA";
    for header in [v1.as_str(), short, "v1a,!!!", ""] {
        assert_eq!(
            verify_with(only_public, "evt_1", 10, b"{}", header, 10, 300),
            Err(VerifyError::NoV1aSignature),
            "{header}"
        );
    }
    let both = Keys {
        secrets: &[Secret::generate()],
        public_keys,
    };
    assert_eq!(
        verify_with(both, "evt_1", 10, b"{}", "v2,abc", 10, 300),
        Err(VerifyError::NoV1OrV1aSignature)
    );
    assert_eq!(
        verify_with(Keys::default(), "evt_1", 10, b"{}", &v1, 10, 300),
        Err(VerifyError::NoKeys)
    );
    let sig = sign_v1a(&key, "evt_1", 10, b"{}");
    for now in [311, -291] {
        assert!(matches!(
            verify_with(only_public, "evt_1", 10, b"{}", &sig, now, 300),
            Err(VerifyError::StaleTimestamp { skew: 301, .. })
        ));
    }
}

#[test]
fn a_hostile_timestamp_does_not_overflow() {
    let s = Secret::generate();
    let sig = sign(&s, "evt_1", i64::MIN, b"{}");
    assert!(matches!(
        verify(&[s], "evt_1", i64::MIN, b"{}", &sig, 1_800_000_000, 300),
        Err(VerifyError::StaleTimestamp { skew: i64::MAX, .. })
    ));
}
