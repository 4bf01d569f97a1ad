//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{ProviderError, any_matches, require_secrets, required};
use crate::mac::Hash;

/// The header that carries the signature.
pub const HEADER: &str = "X-Shopify-Hmac-Sha256";

/// The `X-Shopify-Hmac-Sha256` value Shopify sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(Hash::Sha256.mac(secret, &[body]))
}

/// Verifies `X-Shopify-Hmac-Sha256` (`signature`) against any of `secrets`.
pub fn verify<S: AsRef<[u8]>>(
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), ProviderError> {
    require_secrets(HEADER, secrets)?;
    let mac = STANDARD
        .decode(required(HEADER, signature)?)
        .ok()
        .filter(|mac| mac.len() == 32)
        .ok_or_else(|| {
            ProviderError::malformed(HEADER, "expected base64 of a 32-byte HMAC-SHA256")
        })?;
    any_matches(HEADER, Hash::Sha256, secrets, &[body], &[mac])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "shopify_app_secret";
    const BODY: &[u8] = br#"{"id":820982911946154508}"#;

    #[test]
    fn any_secret_in_the_rotation_may_match() {
        let sig = sign(b"new", BODY);
        assert_eq!(verify(&["old", "new"], BODY, Some(&sig)), Ok(()));
    }

    #[test]
    fn wrong_secret_or_tampered_body_is_a_mismatch() {
        let mismatch = Err(ProviderError::Mismatch {
            header: HEADER.into(),
        });
        let sig = sign(SECRET.as_bytes(), BODY);
        assert_eq!(verify(&["other"], BODY, Some(&sig)), mismatch);
        assert_eq!(
            verify(&[SECRET], br#"{"id":820982911946154509}"#, Some(&sig)),
            mismatch
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        assert_eq!(
            verify(&[SECRET], BODY, None),
            Err(ProviderError::MissingHeader {
                header: HEADER.into()
            })
        );
        let hex_instead = crate::hex::encode(&Hash::Sha256.mac(SECRET.as_bytes(), &[BODY]));
        let short = STANDARD.encode([0u8; 20]);
        for bad in ["!!!", "", &short, &hex_instead] {
            assert_eq!(
                verify(&[SECRET], BODY, Some(bad)),
                Err(ProviderError::MalformedHeader {
                    header: HEADER.into(),
                    reason: "expected base64 of a 32-byte HMAC-SHA256"
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn no_secrets_is_a_configuration_error() {
        let none: &[String] = &[];
        assert_eq!(
            verify(none, BODY, Some(&sign(b"x", BODY))),
            Err(ProviderError::NoSecrets {
                header: HEADER.into()
            })
        );
    }
}
