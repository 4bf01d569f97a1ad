//! The signature schemes of webhook providers, checked by Hookrelay's inbound gateway.
//!
//! Each scheme is a pure function over the raw body and the header values as received
//! (`None` when the header is absent). Every one takes several secrets, because a receiver
//! keeps the old secret next to the new one while the provider rotates it, and any may
//! match. The `sign` functions produce the same headers, for tests and for simulating a
//! provider.
//!
//! Provider secrets are used as the bytes of the configured text, exactly as the provider
//! shows it (Stripe's `whsec_` prefix included); they are not decoded first.

pub mod github;
pub mod hmac;
pub mod shopify;
pub mod slack;
pub mod stripe;

use crate::mac::{Hash, same};
use crate::window;

/// Why a provider's request did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The receiver was given no secret, so nothing could ever match.
    #[error("no secret to verify the {header} header with")]
    NoSecrets {
        /// The signature header.
        header: String,
    },
    /// A header the scheme needs is absent.
    #[error("the {header} header is missing")]
    MissingHeader {
        /// The absent header.
        header: String,
    },
    /// A header is present but not in the scheme's format.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        /// The malformed header.
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signed timestamp is further from now than the tolerance.
    #[error(
        "the {header} timestamp {timestamp} is {skew} s away from now (tolerance {tolerance} s)"
    )]
    StaleTimestamp {
        /// The header that carried the timestamp.
        header: String,
        /// The signed timestamp.
        timestamp: i64,
        /// How far it is from now, in seconds.
        skew: i64,
        /// The allowed distance.
        tolerance: i64,
    },
    /// The header is well formed but no signature in it matches any secret.
    #[error("no signature in the {header} header matches the secret")]
    Mismatch {
        /// The signature header.
        header: String,
    },
}

impl ProviderError {
    fn missing(header: &str) -> Self {
        Self::MissingHeader {
            header: header.to_owned(),
        }
    }

    fn malformed(header: &str, reason: &'static str) -> Self {
        Self::MalformedHeader {
            header: header.to_owned(),
            reason,
        }
    }
}

/// The header's value, or the error naming it when it is absent.
fn required<'a>(header: &str, value: Option<&'a str>) -> Result<&'a str, ProviderError> {
    value
        .map(str::trim)
        .ok_or_else(|| ProviderError::missing(header))
}

/// Refuses an empty secret list up front, so a misconfigured receiver says so instead of
/// reporting every request as forged.
fn require_secrets<S: AsRef<[u8]>>(header: &str, secrets: &[S]) -> Result<(), ProviderError> {
    if secrets.is_empty() {
        return Err(ProviderError::NoSecrets {
            header: header.to_owned(),
        });
    }
    Ok(())
}

/// Parses a unix-seconds timestamp and checks it against the replay window.
fn fresh(header: &str, text: &str, now: i64, tolerance_s: i64) -> Result<i64, ProviderError> {
    let timestamp: i64 = text
        .parse()
        .map_err(|_| ProviderError::malformed(header, "the timestamp is not unix seconds"))?;
    match window::outside(timestamp, now, tolerance_s) {
        Some(skew) => Err(ProviderError::StaleTimestamp {
            header: header.to_owned(),
            timestamp,
            skew,
            tolerance: tolerance_s,
        }),
        None => Ok(timestamp),
    }
}

/// Succeeds when any candidate MAC equals the MAC of `parts` under any secret.
fn any_matches<S: AsRef<[u8]>>(
    header: &str,
    hash: Hash,
    secrets: &[S],
    parts: &[&[u8]],
    candidates: &[Vec<u8>],
) -> Result<(), ProviderError> {
    for secret in secrets {
        let expected = hash.mac(secret.as_ref(), parts);
        if candidates.iter().any(|c| same(c, &expected)) {
            return Ok(());
        }
    }
    Err(ProviderError::Mismatch {
        header: header.to_owned(),
    })
}
