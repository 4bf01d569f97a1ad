//! Encryption at rest: endpoint secrets, custom header values, outbound auth values and
//! inbound source secrets are sealed with XChaCha20-Poly1305 under the master key before
//! they reach a database file, and opened when read.
//!
//! A sealed value is `enc1:` + base64url(nonce ‖ ciphertext ‖ tag). The nonce is 24
//! random bytes, so fresh nonces are safe without a counter. Every value is bound to the
//! row and the kind of value it belongs to (the AEAD's associated data, e.g.
//! `endpoint:ep_…:secret`), so a sealed value copied into another row or column does not
//! open.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// What every sealed value starts with (the `1` is the format version).
pub const SEALED_PREFIX: &str = "enc1:";

const NONCE_LEN: usize = 24;

/// The 32-byte key every sealed value is encrypted under (`HOOKRELAY_MASTER_KEY`).
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

/// Why a master key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    /// Not base64.
    #[error("the master key is not valid base64 (it is base64 of 32 random bytes)")]
    NotBase64,
    /// Decodes to the wrong number of bytes.
    #[error("the master key must decode to 32 bytes, this one decodes to {0}")]
    BadLength(usize),
}

impl MasterKey {
    /// Parses base64 (standard alphabet, padding optional) of exactly 32 bytes;
    /// surrounding whitespace (a trailing newline in a key file) is ignored.
    pub fn parse(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| STANDARD.decode(format!("{text}=")))
            .map_err(|_| MasterKeyError::NotBase64)?;
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::BadLength(bytes.len()))?;
        Ok(Self(key))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// The base64 text of the key (what `HOOKRELAY_MASTER_KEY` and the key file hold).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The text is not in the sealed format.
    #[error("not a sealed value")]
    Malformed,
    /// The key is wrong, or the value was changed or moved to another row.
    #[error("the sealed value does not open with this master key")]
    WrongKey,
}

/// Seals and opens values under one master key.
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl Cipher {
    /// A cipher for `key`.
    pub fn new(key: &MasterKey) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(&Key::from(key.0)),
        }
    }

    /// Encrypts `plaintext`, bound to `aad` (which row and which kind of value).
    pub fn seal(&self, plaintext: &str, aad: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .expect("XChaCha20-Poly1305 encrypts any value Hookrelay stores");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value made by [`Cipher::seal`] with the same `aad`.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, OpenError> {
        let b64 = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(OpenError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Malformed)?;
        let plain = self
            .aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| OpenError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| OpenError::Malformed)
    }
}

/// Whether a stored text is sealed (databases written before encryption at rest hold
/// plain values, which are sealed when such a database is first opened with a key).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The associated data that binds a value to its row: `{table}:{id}:{kind}`.
pub fn aad(table: &str, id: &str, kind: &str) -> String {
    format!("{table}:{id}:{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::new(&MasterKey::generate())
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_binding() {
        let c = cipher();
        let sealed = c.seal("whsec_abc", "endpoint:ep_1:secret");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            c.open(&sealed, "endpoint:ep_1:secret").unwrap(),
            "whsec_abc"
        );
    }

    #[test]
    fn sealing_twice_gives_different_texts() {
        let c = cipher();
        assert_ne!(c.seal("x", "a"), c.seal("x", "a"));
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = cipher().seal("whsec_abc", "a");
        assert_eq!(cipher().open(&sealed, "a"), Err(OpenError::WrongKey));
    }

    #[test]
    fn a_value_moved_to_another_row_does_not_open() {
        let c = cipher();
        let sealed = c.seal("whsec_abc", "endpoint:ep_1:secret");
        assert_eq!(
            c.open(&sealed, "endpoint:ep_2:secret"),
            Err(OpenError::WrongKey)
        );
    }

    #[test]
    fn a_changed_value_does_not_open() {
        let c = cipher();
        let sealed = c.seal("whsec_abc", "a");
        let mut bytes = URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(c.open(&tampered, "a"), Err(OpenError::WrongKey));
        assert_eq!(c.open("whsec_plain", "a"), Err(OpenError::Malformed));
        assert_eq!(c.open("enc1:AAAA", "a"), Err(OpenError::Malformed));
    }

    #[test]
    fn master_keys_parse_from_base64_of_32_bytes() {
        let key = MasterKey::generate();
        assert_eq!(MasterKey::parse(&key.to_base64()).unwrap(), key);
        assert_eq!(
            MasterKey::parse(&format!("{}\n", key.to_base64())).unwrap(),
            key
        );
        assert_eq!(
            MasterKey::parse("not base64!"),
            Err(MasterKeyError::NotBase64)
        );
        assert_eq!(
            MasterKey::parse(&STANDARD.encode([0u8; 16])),
            Err(MasterKeyError::BadLength(16))
        );
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }
}
