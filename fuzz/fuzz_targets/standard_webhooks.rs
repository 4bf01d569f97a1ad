//! Standard Webhooks verification (`hookrelay_signature::{verify, verify_with}`): an
//! arbitrary `webhook-signature` header (space-separated `v1,` / `v1a,` entries), id,
//! timestamp, body, clock and tolerance, against secrets and public keys parsed from
//! arbitrary text plus one fixed `whsec_` secret and one fixed ed25519 key. A signed
//! entry among arbitrary other entries must verify; `v1a` never verifies with secrets
//! only, nor `v1` with public keys only.
#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use hookrelay_signature::{
    Keys, PublicKey, Secret, SigningKey, VerifyError, sign, sign_v1a, verify, verify_with,
};
use libfuzzer_sys::fuzz_target;

static SECRET: LazyLock<Secret> =
    LazyLock::new(|| Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
// RFC 8032 section 7.1, test 1.
static KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    SigningKey::parse("whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=").unwrap()
});
static PUBLIC: LazyLock<PublicKey> = LazyLock::new(|| KEY.public_key());

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// Parsed as `whsec_` secrets or `whpk_` keys; the ones that do not parse are dropped.
    key_texts: Vec<&'a str>,
    with_fixed_secret: bool,
    with_fixed_key: bool,
    id: &'a str,
    timestamp: i64,
    body: &'a [u8],
    header: &'a str,
    now: i64,
    tolerance_s: i64,
    /// Other entries put before a real one.
    noise: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let mut secrets: Vec<Secret> = Vec::new();
    let mut public_keys: Vec<PublicKey> = Vec::new();
    for text in input.key_texts.iter().take(4) {
        if let Ok(s) = Secret::parse(text) {
            secrets.push(s);
        }
        if let Ok(k) = PublicKey::parse(text) {
            public_keys.push(k);
        }
    }
    if input.with_fixed_secret {
        secrets.push(SECRET.clone());
    }
    if input.with_fixed_key {
        public_keys.push(*PUBLIC);
    }
    let (id, ts, body, now, tol) = (
        input.id,
        input.timestamp,
        input.body,
        input.now,
        input.tolerance_s,
    );

    let _ = verify(&secrets, id, ts, body, input.header, now, tol);
    let keys = Keys {
        secrets: &secrets,
        public_keys: &public_keys,
    };
    let _ = verify_with(keys, id, ts, body, input.header, now, tol);

    if tol < 0 {
        return;
    }
    // Signed now: inside any non-negative window.
    let v1 = format!("{} {}", input.noise, sign(&SECRET, id, ts, body));
    let v1a = format!("{} {}", input.noise, sign_v1a(&KEY, id, ts, body));
    let only_secret = Keys {
        secrets: std::slice::from_ref(&*SECRET),
        public_keys: &[],
    };
    let only_key = Keys {
        secrets: &[],
        public_keys: std::slice::from_ref(&*PUBLIC),
    };
    assert_eq!(
        verify(std::slice::from_ref(&*SECRET), id, ts, body, &v1, ts, tol),
        Ok(())
    );
    assert_eq!(verify_with(only_key, id, ts, body, &v1a, ts, tol), Ok(()));
    if input.with_fixed_secret {
        assert_eq!(verify_with(keys, id, ts, body, &v1, ts, tol), Ok(()));
    }
    if input.with_fixed_key {
        assert_eq!(verify_with(keys, id, ts, body, &v1a, ts, tol), Ok(()));
    }
    // A v1a entry is no v1 signature and the reverse.
    assert!(matches!(
        verify_with(only_secret, id, ts, body, &v1a, ts, tol),
        Err(VerifyError::NoV1Signature | VerifyError::Mismatch)
    ));
    assert!(matches!(
        verify_with(only_key, id, ts, body, &v1, ts, tol),
        Err(VerifyError::NoV1aSignature | VerifyError::V1aMismatch)
    ));
});
