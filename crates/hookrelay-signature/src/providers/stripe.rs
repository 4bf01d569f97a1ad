//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each `v1` being
//! `hex(HMAC-SHA256(secret, "{t}.{body}"))`.
//!
//! The key is the whole secret text, `whsec_` prefix included; it is not base64-decoded as a
//! Standard Webhooks secret would be. Stripe sends several `v1` entries while a secret is
//! being rolled, and entries of other schemes (`v0`) are ignored.

use super::{ProviderError, any_matches, fresh, require_secrets, required};
use crate::hex;
use crate::mac::Hash;

/// The header that carries the timestamp and the signatures.
pub const HEADER: &str = "Stripe-Signature";

/// The `Stripe-Signature` value Stripe sends for `body` at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = Hash::Sha256.mac(secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(&mac))
}

/// Verifies `Stripe-Signature` (`signature`): its `t` must be within `tolerance_s` of `now`,
/// and any `v1` entry must match any of `secrets`.
pub fn verify<S: AsRef<[u8]>>(
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
    now: i64,
    tolerance_s: i64,
) -> Result<(), ProviderError> {
    require_secrets(HEADER, secrets)?;
    let value = required(HEADER, signature)?;

    let mut t = None;
    let mut v1 = Vec::new();
    for (key, val) in value
        .split(',')
        .filter_map(|item| item.trim().split_once('='))
    {
        match key {
            "t" if t.is_none() => t = Some(val),
            "v1" => v1.push(val),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| ProviderError::malformed(HEADER, "it has no t= timestamp"))?;
    if v1.is_empty() {
        return Err(ProviderError::malformed(HEADER, "it has no v1= signature"));
    }
    fresh(HEADER, t, now, tolerance_s)?;

    let candidates: Vec<Vec<u8>> = v1.into_iter().filter_map(hex::decode).collect();
    if candidates.is_empty() {
        return Err(ProviderError::malformed(HEADER, "no v1= signature is hex"));
    }
    // The signed text uses `t` exactly as sent, not as re-printed after parsing.
    any_matches(
        HEADER,
        Hash::Sha256,
        secrets,
        &[t.as_bytes(), b".", body],
        &candidates,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;
    const T: i64 = 1_700_000_000;

    fn malformed(reason: &'static str) -> Result<(), ProviderError> {
        Err(ProviderError::MalformedHeader {
            header: HEADER.into(),
            reason,
        })
    }

    #[test]
    fn any_secret_and_any_v1_entry_may_match() {
        let sig = sign(b"whsec_new", T, BODY);
        assert_eq!(
            verify(&["whsec_old", "whsec_new"], BODY, Some(&sig), T, 300),
            Ok(())
        );

        // A roll in progress: two v1 entries, one per secret, and a v0 to ignore.
        let old = sign(b"whsec_old", T, BODY);
        let header = format!("{old},v1={},v0=abcd", sig.split_once(",v1=").unwrap().1);
        assert_eq!(verify(&["whsec_new"], BODY, Some(&header), T, 300), Ok(()));
        assert_eq!(verify(&["whsec_old"], BODY, Some(&header), T, 300), Ok(()));
    }

    #[test]
    fn wrong_secret_or_tampered_body_is_a_mismatch() {
        let mismatch = Err(ProviderError::Mismatch {
            header: HEADER.into(),
        });
        let sig = sign(SECRET.as_bytes(), T, BODY);
        // The key is the whole text: the bare part after whsec_ is another key.
        assert_eq!(verify(&["test_secret"], BODY, Some(&sig), T, 300), mismatch);
        assert_eq!(verify(&[SECRET], b"{}", Some(&sig), T, 300), mismatch);
        // The timestamp is signed too.
        let moved = sig.replacen("t=1700000000", "t=1700000001", 1);
        assert_eq!(verify(&[SECRET], BODY, Some(&moved), T, 300), mismatch);
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let sig = sign(SECRET.as_bytes(), T, BODY);
        assert_eq!(verify(&[SECRET], BODY, Some(&sig), T + 300, 300), Ok(()));
        assert_eq!(verify(&[SECRET], BODY, Some(&sig), T - 300, 300), Ok(()));
        for (now, skew) in [(T + 301, 301), (T - 301, 301), (T + 86_400, 86_400)] {
            assert_eq!(
                verify(&[SECRET], BODY, Some(&sig), now, 300),
                Err(ProviderError::StaleTimestamp {
                    header: HEADER.into(),
                    timestamp: T,
                    skew,
                    tolerance: 300
                })
            );
        }
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        assert_eq!(
            verify(&[SECRET], BODY, None, T, 300),
            Err(ProviderError::MissingHeader {
                header: HEADER.into()
            })
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("v1=abcd"), T, 300),
            malformed("it has no t= timestamp")
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("t=1700000000,v0=abcd"), T, 300),
            malformed("it has no v1= signature")
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some(""), T, 300),
            malformed("it has no t= timestamp")
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("t=yesterday,v1=abcd"), T, 300),
            malformed("the timestamp is not unix seconds")
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("t=1700000000,v1=xyz"), T, 300),
            malformed("no v1= signature is hex")
        );
    }

    #[test]
    fn no_secrets_is_a_configuration_error() {
        let none: &[&[u8]] = &[];
        assert_eq!(
            verify(none, BODY, Some(&sign(b"x", T, BODY)), T, 300),
            Err(ProviderError::NoSecrets {
                header: HEADER.into()
            })
        );
    }
}
