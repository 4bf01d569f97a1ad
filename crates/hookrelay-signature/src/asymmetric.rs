//! ed25519 keys for Standard Webhooks `v1a`: `whsk_` signing keys and `whpk_` public keys.
//!
//! With an HMAC secret the receiver holds the same secret as the sender and could forge
//! messages; with ed25519 the receiver holds only the public key, so it can check but never
//! sign.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::secret::LENIENT;

/// The text every signing key starts with.
pub const SIGNING_PREFIX: &str = "whsk_";

/// The text every public key starts with.
pub const PUBLIC_PREFIX: &str = "whpk_";

/// Prefixes of the other key kinds, so a key pasted in the wrong place gets a precise error.
const KNOWN_PREFIXES: [&str; 3] = [SIGNING_PREFIX, PUBLIC_PREFIX, crate::secret::PREFIX];

/// An ed25519 signing key: the 32-byte secret seed after `whsk_`. Only the sender holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
}

/// An ed25519 public key: the 32 bytes after `whpk_`. Receivers hold it to check `v1a`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    inner: ed25519_dalek::VerifyingKey,
}

/// Why a `whsk_` or `whpk_` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// It starts with another kind's prefix, e.g. a signing key given where a public key
    /// belongs.
    #[error("expected a key starting with \"{expected}\", found one starting with \"{found}\"")]
    WrongKind {
        /// The prefix this place takes.
        expected: &'static str,
        /// The prefix the text has.
        found: &'static str,
    },
    /// It starts with no known prefix.
    #[error("a key here starts with \"{expected}\"")]
    MissingPrefix {
        /// The prefix this place takes.
        expected: &'static str,
    },
    /// The part after the prefix is not base64.
    #[error("the part after \"{prefix}\" is not valid base64")]
    NotBase64 {
        /// The key's prefix.
        prefix: &'static str,
    },
    /// The decoded key is not 32 bytes.
    #[error("an ed25519 key after \"{prefix}\" holds 32 bytes, this one holds {len}")]
    BadLength {
        /// The key's prefix.
        prefix: &'static str,
        /// How many bytes it holds.
        len: usize,
    },
    /// The 32 bytes are not a point on the curve, or a weak (small-order) one that would
    /// accept forged signatures.
    #[error("the bytes after \"whpk_\" are not a usable ed25519 public key")]
    InvalidPublicKey,
}

/// Decodes `<prefix><base64 of 32 bytes>`; the bytes are wiped when dropped.
fn decode(s: &str, prefix: &'static str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let Some(b64) = s.strip_prefix(prefix) else {
        return Err(match KNOWN_PREFIXES.iter().find(|p| s.starts_with(**p)) {
            Some(found) => KeyError::WrongKind {
                expected: prefix,
                found,
            },
            None => KeyError::MissingPrefix { expected: prefix },
        });
    };
    let bytes = Zeroizing::new(
        LENIENT
            .decode(b64)
            .map_err(|_| KeyError::NotBase64 { prefix })?,
    );
    let len = bytes.len();
    let array =
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadLength { prefix, len })?;
    Ok(Zeroizing::new(array))
}

impl SigningKey {
    /// Parses `whsk_<base64 of the 32-byte seed>`.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let seed = decode(s, SIGNING_PREFIX)?;
        Ok(Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// A fresh key from 32 random bytes.
    ///
    /// The seed comes from `rand` directly rather than through ed25519-dalek's `rand_core`
    /// feature, whose `rand_core` version differs from the one `rand` 0.9 implements.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(seed.as_mut());
        Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The public key that checks this key's signatures.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: self.inner.verifying_key(),
        }
    }

    /// The `whsk_…` text. A method rather than `Display`, so the secret cannot end up in a
    /// log line through `{}` by accident.
    pub fn to_text(&self) -> String {
        let seed = Zeroizing::new(self.inner.to_bytes());
        format!("{SIGNING_PREFIX}{}", STANDARD.encode(seed.as_slice()))
    }

    /// The 64-byte ed25519 signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.inner.sign(message).to_bytes()
    }
}

impl PublicKey {
    /// Parses `whpk_<base64 of the 32-byte public key>`.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bytes = decode(s, PUBLIC_PREFIX)?;
        let inner = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| KeyError::InvalidPublicKey)?;
        if inner.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        Ok(Self { inner })
    }

    /// The `whpk_…` text.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.inner.as_bytes()))
    }

    /// Whether `signature` is this key's signature of `message`.
    ///
    /// Strict verification refuses non-canonical and small-order encodings, so one signed
    /// message has exactly one valid signature and a weak key cannot be slipped in.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.inner.verify_strict(message, &signature).is_ok()
    }
}

/// A public key is not secret, so it may be shown with `{}`.
impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip() {
        let key = SigningKey::generate();
        let text = key.to_text();
        assert!(text.starts_with("whsk_"));
        assert_eq!(SigningKey::parse(&text).unwrap(), key);

        let public = key.public_key();
        let text = public.to_text();
        assert!(text.starts_with("whpk_"));
        assert_eq!(PublicKey::parse(&text).unwrap(), public);
        assert_eq!(public.to_string(), text);
    }

    #[test]
    fn the_public_key_is_derived_the_same_way_every_time() {
        // RFC 8032 section 7.1, test 1: this seed has this public key.
        let seed = "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
        let public = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        let key = SigningKey::parse(seed).unwrap();
        assert_eq!(key.public_key().to_text(), public);
        assert_eq!(
            SigningKey::parse(seed).unwrap().public_key().to_text(),
            public
        );
        // RFC 8032's signature of the empty message.
        assert_eq!(
            crate::hex::encode(&key.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        // Without padding it is the same key.
        assert_eq!(SigningKey::parse(seed.trim_end_matches('=')).unwrap(), key);
    }

    #[test]
    fn refuses_keys_with_the_wrong_prefix() {
        let key = SigningKey::generate();
        assert_eq!(
            PublicKey::parse(&key.to_text()),
            Err(KeyError::WrongKind {
                expected: "whpk_",
                found: "whsk_"
            })
        );
        assert_eq!(
            SigningKey::parse(&key.public_key().to_text()),
            Err(KeyError::WrongKind {
                expected: "whsk_",
                found: "whpk_"
            })
        );
        assert_eq!(
            PublicKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(KeyError::WrongKind {
                expected: "whpk_",
                found: "whsec_"
            })
        );
        assert_eq!(
            SigningKey::parse("abc"),
            Err(KeyError::MissingPrefix { expected: "whsk_" })
        );
    }

    #[test]
    fn refuses_bad_base64_and_wrong_lengths() {
        assert_eq!(
            SigningKey::parse("whsk_!!!"),
            Err(KeyError::NotBase64 { prefix: "whsk_" })
        );
        assert_eq!(
            PublicKey::parse("whpk_!!!"),
            Err(KeyError::NotBase64 { prefix: "whpk_" })
        );
        // 31 and 33 bytes.
        let short = format!("whsk_{}", STANDARD.encode([7u8; 31]));
        let long = format!("whpk_{}", STANDARD.encode([7u8; 33]));
        assert_eq!(
            SigningKey::parse(&short),
            Err(KeyError::BadLength {
                prefix: "whsk_",
                len: 31
            })
        );
        assert_eq!(
            PublicKey::parse(&long),
            Err(KeyError::BadLength {
                prefix: "whpk_",
                len: 33
            })
        );
    }

    #[test]
    fn refuses_bytes_that_are_not_a_curve_point() {
        // y = 2 has no x on the curve.
        let mut y = [0u8; 32];
        y[0] = 2;
        let text = format!("whpk_{}", STANDARD.encode(y));
        assert_eq!(PublicKey::parse(&text), Err(KeyError::InvalidPublicKey));
    }

    #[test]
    fn refuses_weak_public_keys() {
        // The identity point: a small-order key under which forged signatures verify.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let text = format!("whpk_{}", STANDARD.encode(identity));
        assert_eq!(PublicKey::parse(&text), Err(KeyError::InvalidPublicKey));
    }

    #[test]
    fn debug_hides_the_keys() {
        let key = SigningKey::generate();
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
        assert_eq!(format!("{:?}", key.public_key()), "PublicKey(<redacted>)");
    }
}
