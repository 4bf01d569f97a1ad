//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, and the legacy
//! `X-Hub-Signature: sha1=<hex HMAC-SHA1(secret, body)>` that GitHub still sends beside it.

use super::{ProviderError, any_matches, require_secrets, required};
use crate::hex;
use crate::mac::Hash;

/// The header that carries the SHA-256 signature.
pub const HEADER: &str = "X-Hub-Signature-256";

/// The header that carries the legacy SHA-1 signature.
pub const LEGACY_HEADER: &str = "X-Hub-Signature";

/// One of GitHub's two header formats.
struct Format {
    header: &'static str,
    prefix: &'static str,
    hash: Hash,
    hex_digits: usize,
    malformed: &'static str,
}

const SHA256: Format = Format {
    header: HEADER,
    prefix: "sha256=",
    hash: Hash::Sha256,
    hex_digits: 64,
    malformed: "expected \"sha256=\" and 64 hex digits",
};

const SHA1: Format = Format {
    header: LEGACY_HEADER,
    prefix: "sha1=",
    hash: Hash::Sha1,
    hex_digits: 40,
    malformed: "expected \"sha1=\" and 40 hex digits",
};

/// The `X-Hub-Signature-256` value GitHub sends for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(&Hash::Sha256.mac(secret, &[body])))
}

/// Verifies `X-Hub-Signature-256` (`signature`) against any of `secrets`.
pub fn verify<S: AsRef<[u8]>>(
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), ProviderError> {
    check(&SHA256, secrets, body, signature)
}

/// The legacy `X-Hub-Signature` value GitHub sends for `body`.
pub fn sign_sha1(secret: &[u8], body: &[u8]) -> String {
    format!("sha1={}", hex::encode(&Hash::Sha1.mac(secret, &[body])))
}

/// Verifies the legacy `X-Hub-Signature` (`signature`) against any of `secrets`.
///
/// Prefer [`verify`]: it is kept for old GitHub Enterprise servers that send only SHA-1.
pub fn verify_sha1<S: AsRef<[u8]>>(
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), ProviderError> {
    check(&SHA1, secrets, body, signature)
}

fn check<S: AsRef<[u8]>>(
    format: &Format,
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), ProviderError> {
    require_secrets(format.header, secrets)?;
    let malformed = || ProviderError::malformed(format.header, format.malformed);
    let digits = required(format.header, signature)?
        .strip_prefix(format.prefix)
        .ok_or_else(malformed)?;
    if digits.len() != format.hex_digits {
        return Err(malformed());
    }
    let mac = hex::decode(digits).ok_or_else(malformed)?;
    any_matches(format.header, format.hash, secrets, &[body], &[mac])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";

    fn malformed(header: &str) -> ProviderError {
        ProviderError::MalformedHeader {
            header: header.into(),
            reason: if header == HEADER {
                SHA256.malformed
            } else {
                SHA1.malformed
            },
        }
    }

    #[test]
    fn signs_like_github() {
        // From GitHub's "Validating webhook deliveries"; SHA-1 computed independently.
        assert_eq!(
            sign(SECRET.as_bytes(), BODY),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(
            sign_sha1(SECRET.as_bytes(), BODY),
            "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
        );
    }

    #[test]
    fn any_secret_in_the_rotation_may_match() {
        let sig = sign(b"new", BODY);
        assert_eq!(verify(&["old", "new"], BODY, Some(&sig)), Ok(()));
        let sig = sign_sha1(b"new", BODY);
        assert_eq!(verify_sha1(&["old", "new"], BODY, Some(&sig)), Ok(()));
    }

    #[test]
    fn wrong_secret_or_tampered_body_is_a_mismatch() {
        let mismatch = Err(ProviderError::Mismatch {
            header: HEADER.into(),
        });
        let sig = sign(SECRET.as_bytes(), BODY);
        assert_eq!(verify(&["other"], BODY, Some(&sig)), mismatch);
        assert_eq!(verify(&[SECRET], b"Hello, World?", Some(&sig)), mismatch);
        // Upper-case hex is the same signature.
        assert_eq!(
            verify(
                &[SECRET],
                BODY,
                Some(&sig.to_uppercase().replace("SHA256", "sha256"))
            ),
            Ok(())
        );

        let sig = sign_sha1(SECRET.as_bytes(), BODY);
        assert_eq!(
            verify_sha1(&[SECRET], b"Hello, World?", Some(&sig)),
            Err(ProviderError::Mismatch {
                header: LEGACY_HEADER.into()
            })
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
        assert_eq!(
            verify_sha1(&[SECRET], BODY, None),
            Err(ProviderError::MissingHeader {
                header: LEGACY_HEADER.into()
            })
        );
        let sha1 = sign_sha1(SECRET.as_bytes(), BODY);
        let sha256 = sign(SECRET.as_bytes(), BODY);
        let no_prefix = sha256.trim_start_matches("sha256=").to_owned();
        let not_hex = format!("sha256={}", "zz".repeat(32));
        let short = sha256[..sha256.len() - 2].to_owned();
        for bad in [&sha1, &no_prefix, &not_hex, &short, "", "sha256="] {
            assert_eq!(
                verify(&[SECRET], BODY, Some(bad)),
                Err(malformed(HEADER)),
                "{bad}"
            );
        }
        assert_eq!(
            verify_sha1(&[SECRET], BODY, Some(&sha256)),
            Err(malformed(LEGACY_HEADER))
        );
    }

    #[test]
    fn no_secrets_is_a_configuration_error() {
        let none: &[&str] = &[];
        assert_eq!(
            verify(none, BODY, Some(&sign(SECRET.as_bytes(), BODY))),
            Err(ProviderError::NoSecrets {
                header: HEADER.into()
            })
        );
    }
}
