//! Standard Webhooks `v1`: `base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Secret;

/// Signs one message; returns the `v1,<base64>` entry of `webhook-signature`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(mac(secret, id, timestamp, body)))
}

fn mac(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.key()).expect("HMAC takes any key length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Why a message did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp is further from now than the tolerance.
    #[error("webhook-timestamp {timestamp} is {skew} s away from now (tolerance {tolerance} s)")]
    StaleTimestamp {
        /// The message's timestamp.
        timestamp: i64,
        /// How far it is from now, in seconds.
        skew: i64,
        /// The allowed distance.
        tolerance: i64,
    },
    /// The header held no `v1,` entry.
    #[error("webhook-signature holds no v1 signature")]
    NoV1Signature,
    /// No `v1` entry matched any secret.
    #[error("no v1 signature matches the secret")]
    Mismatch,
}

/// Verifies a `webhook-signature` header (space-separated entries; any `v1` entry may
/// match any of `secrets`), and that `timestamp` is within `tolerance_s` of `now`.
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let skew = (now - timestamp).abs();
    if skew > tolerance_s {
        return Err(VerifyError::StaleTimestamp {
            timestamp,
            skew,
            tolerance: tolerance_s,
        });
    }
    let candidates: Vec<Vec<u8>> = header
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoV1Signature);
    }
    for secret in secrets {
        let expected = mac(secret, id, timestamp, body);
        if candidates.iter().any(|c| bool::from(c.ct_eq(&expected))) {
            return Ok(());
        }
    }
    Err(VerifyError::Mismatch)
}
