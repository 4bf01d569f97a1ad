//! Standard Webhooks signatures over `"{id}.{timestamp}.{body}"`: `v1` is
//! `base64(HMAC-SHA256(key, …))` with a `whsec_` secret, `v1a` is `base64(ed25519(…))` with
//! a `whsk_` signing key.

mod verify;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::mac::Hash;
use crate::{Secret, SigningKey};

pub use self::verify::{Keys, VerifyError, verify, verify_with};

/// Signs one message; returns the `v1,<base64>` entry of `webhook-signature`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(mac(secret, id, timestamp, body)))
}

/// Signs one message with ed25519; returns the `v1a,<base64>` entry of `webhook-signature`.
pub fn sign_v1a(key: &SigningKey, id: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = key.sign(&signed_content(id, timestamp, body));
    format!("v1a,{}", STANDARD.encode(signature))
}

fn mac(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    Hash::Sha256.mac(
        secret.key(),
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    )
}

/// `"{id}.{timestamp}.{body}"` in one buffer: ed25519 hashes its message twice, so unlike
/// HMAC it cannot take the parts one after another.
fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}
