//! Checking a received `webhook-signature` header against the keys a receiver holds.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{mac, signed_content};
use crate::{PublicKey, Secret, mac::same, window};

/// The keys a receiver accepts: secrets check `v1` entries, public keys check `v1a` entries.
/// Several of each are normal while a key is being rotated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a> {
    /// `whsec_` secrets, for `v1` (HMAC-SHA256) entries.
    pub secrets: &'a [Secret],
    /// `whpk_` public keys, for `v1a` (ed25519) entries.
    pub public_keys: &'a [PublicKey],
}

/// Why a message did not verify.
///
/// Which "no signature" and "mismatch" variant comes back depends on the keys given: only
/// secrets name `v1`, only public keys name `v1a`, both name both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Neither a secret nor a public key was given, so nothing could ever match.
    #[error("no secret or public key to verify webhook-signature with")]
    NoKeys,
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
    /// The header held no well-formed `v1,` entry.
    #[error("webhook-signature holds no v1 signature")]
    NoV1Signature,
    /// The header held no well-formed `v1a,` entry.
    #[error("webhook-signature holds no v1a signature")]
    NoV1aSignature,
    /// The header held no well-formed `v1,` or `v1a,` entry.
    #[error("webhook-signature holds no v1 or v1a signature")]
    NoV1OrV1aSignature,
    /// No `v1` entry matched any secret.
    #[error("no v1 signature matches the secret")]
    Mismatch,
    /// No `v1a` entry matched any public key.
    #[error("no v1a signature matches the public key")]
    V1aMismatch,
    /// No `v1` entry matched any secret and no `v1a` entry matched any public key.
    #[error("no v1 or v1a signature matches the secret or the public key")]
    V1OrV1aMismatch,
}

/// Verifies a `webhook-signature` header (space-separated entries; any `v1` entry may
/// match any of `secrets`), and that `timestamp` is within `tolerance_s` of `now`.
///
/// An empty `secrets` is [`VerifyError::NoKeys`]: a receiver without a secret is
/// misconfigured, which is not the sender's fault.
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let keys = Keys {
        secrets,
        public_keys: &[],
    };
    verify_with(keys, id, timestamp, body, header, now, tolerance_s)
}

/// Verifies a `webhook-signature` header whose entries may mix `v1` and `v1a`: the message
/// is authentic when any `v1` entry matches any secret or any `v1a` entry matches any
/// public key. Entries of other versions, and entries that are not valid base64 of the
/// right length, are skipped, as the Standard Webhooks libraries do.
pub fn verify_with(
    keys: Keys<'_>,
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let (wants_v1, wants_v1a) = (!keys.secrets.is_empty(), !keys.public_keys.is_empty());
    let (no_signature, mismatch) = match (wants_v1, wants_v1a) {
        (false, false) => return Err(VerifyError::NoKeys),
        (true, false) => (VerifyError::NoV1Signature, VerifyError::Mismatch),
        (false, true) => (VerifyError::NoV1aSignature, VerifyError::V1aMismatch),
        (true, true) => (
            VerifyError::NoV1OrV1aSignature,
            VerifyError::V1OrV1aMismatch,
        ),
    };
    if let Some(skew) = window::outside(timestamp, now, tolerance_s) {
        return Err(VerifyError::StaleTimestamp {
            timestamp,
            skew,
            tolerance: tolerance_s,
        });
    }

    let mut v1: Vec<Vec<u8>> = Vec::new();
    let mut v1a: Vec<[u8; 64]> = Vec::new();
    for entry in header.split_whitespace() {
        match entry.split_once(',') {
            Some(("v1", b64)) if wants_v1 => v1.extend(STANDARD.decode(b64).ok()),
            Some(("v1a", b64)) if wants_v1a => v1a.extend(
                STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|sig| <[u8; 64]>::try_from(sig).ok()),
            ),
            _ => {}
        }
    }
    if v1.is_empty() && v1a.is_empty() {
        return Err(no_signature);
    }

    if !v1.is_empty() {
        for secret in keys.secrets {
            let expected = mac(secret, id, timestamp, body);
            if v1.iter().any(|candidate| same(candidate, &expected)) {
                return Ok(());
            }
        }
    }
    if !v1a.is_empty() {
        let content = signed_content(id, timestamp, body);
        for key in keys.public_keys {
            if v1a.iter().any(|sig| key.verifies(&content, sig)) {
                return Ok(());
            }
        }
    }
    Err(mismatch)
}
