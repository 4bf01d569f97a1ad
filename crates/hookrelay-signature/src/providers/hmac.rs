//! A generic HMAC header, for senders without a scheme of their own: the HMAC of the raw
//! body, in hex or base64, optionally after a fixed prefix such as `sha256=`.

use base64::Engine;

use super::{ProviderError, any_matches, require_secrets, required};
use crate::hex;
use crate::mac::Hash;
use crate::secret::LENIENT;

/// The hash inside the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA256, 32 bytes.
    Sha256,
    /// HMAC-SHA512, 64 bytes.
    Sha512,
}

/// How the MAC is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Hex digits, either case.
    Hex,
    /// Standard base64, padding optional.
    Base64,
}

/// How one sender signs: which header, which hash, which encoding, which prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// The header that carries the signature; errors name it.
    pub header: String,
    /// The hash inside the HMAC.
    pub algorithm: Algorithm,
    /// How the MAC is written.
    pub encoding: Encoding,
    /// Text before the encoded MAC, e.g. `sha256=`; empty for none.
    pub prefix: String,
}

impl Algorithm {
    fn hash(self) -> Hash {
        match self {
            Algorithm::Sha256 => Hash::Sha256,
            Algorithm::Sha512 => Hash::Sha512,
        }
    }

    fn len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

impl Scheme {
    /// The reason a value that fails to decode is refused; static so the error needs no
    /// allocation per scheme.
    fn malformed(&self) -> &'static str {
        match (self.encoding, self.algorithm) {
            (Encoding::Hex, Algorithm::Sha256) => "expected the prefix and hex of an HMAC-SHA256",
            (Encoding::Hex, Algorithm::Sha512) => "expected the prefix and hex of an HMAC-SHA512",
            (Encoding::Base64, Algorithm::Sha256) => {
                "expected the prefix and base64 of an HMAC-SHA256"
            }
            (Encoding::Base64, Algorithm::Sha512) => {
                "expected the prefix and base64 of an HMAC-SHA512"
            }
        }
    }
}

/// The header value `scheme` gives `body`.
pub fn sign(scheme: &Scheme, secret: &[u8], body: &[u8]) -> String {
    let mac = scheme.algorithm.hash().mac(secret, &[body]);
    let encoded = match scheme.encoding {
        Encoding::Hex => hex::encode(&mac),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
    };
    format!("{}{encoded}", scheme.prefix)
}

/// Verifies the value of `scheme.header` (`signature`) against any of `secrets`.
pub fn verify<S: AsRef<[u8]>>(
    scheme: &Scheme,
    secrets: &[S],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), ProviderError> {
    let header = scheme.header.as_str();
    require_secrets(header, secrets)?;
    // The value arrives trimmed (`required`), so a prefix's leading whitespace is never
    // there: without it, `sign`'s own header verifies.
    let encoded = required(header, signature)?
        .strip_prefix(scheme.prefix.trim_start())
        .ok_or_else(|| ProviderError::malformed(header, "it does not start with the prefix"))?;
    let mac = match scheme.encoding {
        Encoding::Hex => hex::decode(encoded),
        Encoding::Base64 => LENIENT.decode(encoded).ok(),
    }
    .filter(|mac| mac.len() == scheme.algorithm.len())
    .ok_or_else(|| ProviderError::malformed(header, scheme.malformed()))?;
    any_matches(header, scheme.algorithm.hash(), secrets, &[body], &[mac])
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"a":1}"#;

    fn scheme(algorithm: Algorithm, encoding: Encoding, prefix: &str) -> Scheme {
        Scheme {
            header: "X-Signature".into(),
            algorithm,
            encoding,
            prefix: prefix.into(),
        }
    }

    fn all() -> Vec<Scheme> {
        let mut all = Vec::new();
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            for encoding in [Encoding::Hex, Encoding::Base64] {
                for prefix in ["", "sha=", "v1,"] {
                    all.push(scheme(algorithm, encoding, prefix));
                }
            }
        }
        all
    }

    #[test]
    fn signs_known_answers() {
        // Computed independently (Python's hmac module).
        assert_eq!(
            sign(
                &scheme(Algorithm::Sha512, Encoding::Hex, "sha512="),
                b"generic",
                BODY
            ),
            "sha512=c81ef436a73318314c3a246d53e18629543b489c7fecdbfea15aad3a463cb845\
             365bee8a3ce71d5348c8dd2b1b4c24c64a30b420298d101921743ee7b77aa483"
        );
        assert_eq!(
            sign(
                &scheme(Algorithm::Sha512, Encoding::Base64, ""),
                b"generic",
                BODY
            ),
            "yB70NqczGDFMOiRtU+GGKVQ7SJx/7Nv+oVqtOkY8uEU2W+6KPOcdU0jI3SsbTCTGSjC0ICmNEBkhdD7nt3qkgw=="
        );
        assert_eq!(
            sign(
                &scheme(Algorithm::Sha256, Encoding::Base64, ""),
                b"generic",
                BODY
            ),
            "flrO3+IBZiCM7K5rTJriiHzg7ctUA67MCEI9KdM3Hfo="
        );
    }

    #[test]
    fn every_combination_round_trips_and_rotation_matches() {
        for s in all() {
            let sig = sign(&s, b"new", BODY);
            assert_eq!(
                verify(&s, &["old", "new"], BODY, Some(&sig)),
                Ok(()),
                "{s:?}"
            );
            let mismatch = Err(ProviderError::Mismatch {
                header: "X-Signature".into(),
            });
            assert_eq!(verify(&s, &["old"], BODY, Some(&sig)), mismatch, "{s:?}");
            assert_eq!(
                verify(&s, &["new"], b"{\"a\":2}", Some(&sig)),
                mismatch,
                "{s:?}"
            );
        }
    }

    #[test]
    fn base64_padding_is_optional() {
        let s = scheme(Algorithm::Sha256, Encoding::Base64, "");
        let sig = sign(&s, b"k", BODY);
        assert_eq!(
            verify(&s, &["k"], BODY, Some(sig.trim_end_matches('='))),
            Ok(())
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        let s = scheme(Algorithm::Sha256, Encoding::Hex, "sha256=");
        let sig = sign(&s, b"k", BODY);
        assert_eq!(
            verify(&s, &["k"], BODY, None),
            Err(ProviderError::MissingHeader {
                header: "X-Signature".into()
            })
        );
        assert_eq!(
            verify(&s, &["k"], BODY, Some(sig.trim_start_matches("sha256="))),
            Err(ProviderError::MalformedHeader {
                header: "X-Signature".into(),
                reason: "it does not start with the prefix"
            })
        );
        // A SHA-512 MAC where SHA-256 is configured, bad hex, and base64 instead of hex.
        let sha512 = sign(
            &scheme(Algorithm::Sha512, Encoding::Hex, "sha256="),
            b"k",
            BODY,
        );
        let b64 = sign(
            &scheme(Algorithm::Sha256, Encoding::Base64, "sha256="),
            b"k",
            BODY,
        );
        for bad in [sha512.as_str(), "sha256=zz", &b64] {
            assert_eq!(
                verify(&s, &["k"], BODY, Some(bad)),
                Err(ProviderError::MalformedHeader {
                    header: "X-Signature".into(),
                    reason: "expected the prefix and hex of an HMAC-SHA256"
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_prefix_with_leading_whitespace_still_matches() {
        // Found by fuzz/fuzz_targets/signature_headers.rs: with the prefix "\n", the
        // header `sign` makes was refused as "does not start with the prefix", because
        // header values are trimmed before the prefix is stripped.
        for prefix in ["\n", " sha256=", "\t "] {
            let s = scheme(Algorithm::Sha512, Encoding::Base64, prefix);
            let sig = sign(&s, b"", b"");
            assert_eq!(verify(&s, &[b""], b"", Some(&sig)), Ok(()), "{prefix:?}");
            assert_eq!(
                verify(&s, &[b""], b"", Some(sig.trim_start())),
                Ok(()),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn no_secrets_is_a_configuration_error() {
        let s = scheme(Algorithm::Sha256, Encoding::Hex, "");
        let none: &[&str] = &[];
        assert_eq!(
            verify(&s, none, BODY, Some(&sign(&s, b"k", BODY))),
            Err(ProviderError::NoSecrets {
                header: "X-Signature".into()
            })
        );
    }
}
