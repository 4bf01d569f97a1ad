//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`, the
//! timestamp being `X-Slack-Request-Timestamp`.

use super::{ProviderError, any_matches, fresh, require_secrets, required};
use crate::hex;
use crate::mac::Hash;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";

/// The header that carries the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";

/// The `X-Slack-Signature` value Slack sends for `body` at `timestamp` (which goes in
/// `X-Slack-Request-Timestamp`).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = Hash::Sha256.mac(secret, &[b"v0:", t.as_bytes(), b":", body]);
    format!("v0={}", hex::encode(&mac))
}

/// Verifies `X-Slack-Signature` (`signature`) against any of `secrets`, and that
/// `X-Slack-Request-Timestamp` (`timestamp`) is within `tolerance_s` of `now`.
pub fn verify<S: AsRef<[u8]>>(
    secrets: &[S],
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: i64,
    tolerance_s: i64,
) -> Result<(), ProviderError> {
    require_secrets(SIGNATURE_HEADER, secrets)?;
    let t = required(TIMESTAMP_HEADER, timestamp)?;
    let signature = required(SIGNATURE_HEADER, signature)?;
    fresh(TIMESTAMP_HEADER, t, now, tolerance_s)?;
    let mac = signature
        .strip_prefix("v0=")
        .filter(|digits| digits.len() == 64)
        .and_then(hex::decode)
        .ok_or_else(|| {
            ProviderError::malformed(SIGNATURE_HEADER, "expected \"v0=\" and 64 hex digits")
        })?;
    // The signed text uses the timestamp exactly as sent, not as re-printed after parsing.
    any_matches(
        SIGNATURE_HEADER,
        Hash::Sha256,
        secrets,
        &[b"v0:", t.as_bytes(), b":", body],
        &[mac],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &[u8] = b"token=xyz&team_id=T1&command=%2Fweather";
    const T: i64 = 1_531_420_618;
    const TS: &str = "1531420618";

    #[test]
    fn any_secret_in_the_rotation_may_match() {
        let sig = sign(b"new", T, BODY);
        assert_eq!(
            verify(&["old", "new"], BODY, Some(TS), Some(&sig), T, 300),
            Ok(())
        );
    }

    #[test]
    fn wrong_secret_tampered_body_or_moved_timestamp_is_a_mismatch() {
        let mismatch = Err(ProviderError::Mismatch {
            header: SIGNATURE_HEADER.into(),
        });
        let sig = sign(SECRET.as_bytes(), T, BODY);
        assert_eq!(
            verify(&["other"], BODY, Some(TS), Some(&sig), T, 300),
            mismatch
        );
        assert_eq!(
            verify(&[SECRET], b"token=abc", Some(TS), Some(&sig), T, 300),
            mismatch
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("1531420619"), Some(&sig), T, 300),
            mismatch
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let sig = sign(SECRET.as_bytes(), T, BODY);
        for now in [T + 301, T - 301] {
            assert_eq!(
                verify(&[SECRET], BODY, Some(TS), Some(&sig), now, 300),
                Err(ProviderError::StaleTimestamp {
                    header: TIMESTAMP_HEADER.into(),
                    timestamp: T,
                    skew: 301,
                    tolerance: 300
                })
            );
        }
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        let sig = sign(SECRET.as_bytes(), T, BODY);
        let missing = |header: &str| {
            Err(ProviderError::MissingHeader {
                header: header.into(),
            })
        };
        assert_eq!(
            verify(&[SECRET], BODY, None, Some(&sig), T, 300),
            missing(TIMESTAMP_HEADER)
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some(TS), None, T, 300),
            missing(SIGNATURE_HEADER)
        );
        assert_eq!(
            verify(&[SECRET], BODY, Some("soon"), Some(&sig), T, 300),
            Err(ProviderError::MalformedHeader {
                header: TIMESTAMP_HEADER.into(),
                reason: "the timestamp is not unix seconds"
            })
        );
        let v1 = sig.replacen("v0=", "v1=", 1);
        for bad in [v1.as_str(), "v0=", "v0=xyz", &sig[..sig.len() - 1]] {
            assert_eq!(
                verify(&[SECRET], BODY, Some(TS), Some(bad), T, 300),
                Err(ProviderError::MalformedHeader {
                    header: SIGNATURE_HEADER.into(),
                    reason: "expected \"v0=\" and 64 hex digits"
                }),
                "{bad}"
            );
        }
    }
}
