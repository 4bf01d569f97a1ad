//! What signs an endpoint's deliveries: a `whsec_` secret (`v1`, HMAC-SHA256) or a
//! `whsk_` ed25519 signing key (`v1a`; the receiver verifies with the `whpk_` public
//! key). The text's prefix says which.

use crate::asymmetric::{KeyError, PublicKey, SigningKey};
use crate::secret::{Secret, SecretError};
use crate::standard::{sign, sign_v1a};

/// The two kinds of signing material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    /// `whsec_` secrets, `v1` signatures.
    Hmac,
    /// `whsk_` keys, `v1a` signatures.
    Ed25519,
}

impl SignerKind {
    /// `hmac` or `ed25519`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "hmac" => Some(Self::Hmac),
            "ed25519" => Some(Self::Ed25519),
            _ => None,
        }
    }

    /// The name [`SignerKind::parse`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hmac => "hmac",
            Self::Ed25519 => "ed25519",
        }
    }
}

/// An endpoint's signing secret or key.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A `whsec_` secret.
    Hmac(Secret),
    /// A `whsk_` signing key.
    Ed25519(SigningKey),
}

/// Why a signer text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// Starts with neither prefix.
    #[error("a signing secret starts with \"whsec_\" (HMAC) or \"whsk_\" (ed25519)")]
    UnknownPrefix,
    /// A bad `whsec_` secret.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A bad `whsk_` key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl Signer {
    /// Parses `whsec_…` or `whsk_…`.
    pub fn parse(text: &str) -> Result<Self, SignerError> {
        if text.starts_with(crate::secret::PREFIX) {
            Ok(Self::Hmac(Secret::parse(text)?))
        } else if text.starts_with(crate::asymmetric::SIGNING_PREFIX) {
            Ok(Self::Ed25519(SigningKey::parse(text)?))
        } else {
            Err(SignerError::UnknownPrefix)
        }
    }

    /// A fresh secret or key of `kind`.
    pub fn generate(kind: SignerKind) -> Self {
        match kind {
            SignerKind::Hmac => Self::Hmac(Secret::generate()),
            SignerKind::Ed25519 => Self::Ed25519(SigningKey::generate()),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> SignerKind {
        match self {
            Self::Hmac(_) => SignerKind::Hmac,
            Self::Ed25519(_) => SignerKind::Ed25519,
        }
    }

    /// The `whsec_…` / `whsk_…` text.
    pub fn to_text(&self) -> String {
        match self {
            Self::Hmac(s) => s.to_text(),
            Self::Ed25519(k) => k.to_text(),
        }
    }

    /// The public key receivers verify with (ed25519 only).
    pub fn public_key(&self) -> Option<PublicKey> {
        match self {
            Self::Hmac(_) => None,
            Self::Ed25519(k) => Some(k.public_key()),
        }
    }

    /// One `webhook-signature` entry: `v1,…` or `v1a,…`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            Self::Hmac(s) => sign(s, id, timestamp, body),
            Self::Ed25519(k) => sign_v1a(k, id, timestamp, body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standard::{Keys, verify_with};

    #[test]
    fn the_prefix_picks_the_scheme() {
        for kind in [SignerKind::Hmac, SignerKind::Ed25519] {
            let signer = Signer::generate(kind);
            let again = Signer::parse(&signer.to_text()).unwrap();
            assert_eq!(again.kind(), kind);
            assert_eq!(SignerKind::parse(kind.name()), Some(kind));
            let entry = again.sign("msg_1", 1_700_000_000, b"{}");
            let expected = if kind == SignerKind::Hmac {
                "v1,"
            } else {
                "v1a,"
            };
            assert!(entry.starts_with(expected), "{entry}");
        }
        assert_eq!(
            Signer::parse("whpk_abc").unwrap_err(),
            SignerError::UnknownPrefix
        );
        assert!(matches!(
            Signer::parse("whsec_!!"),
            Err(SignerError::Secret(_))
        ));
        assert!(matches!(
            Signer::parse("whsk_AAAA"),
            Err(SignerError::Key(_))
        ));
    }

    #[test]
    fn an_ed25519_signature_verifies_with_the_public_key_only() {
        let signer = Signer::generate(SignerKind::Ed25519);
        let public = signer.public_key().unwrap();
        let header = signer.sign("msg_1", 1_700_000_000, b"{\"a\":1}");
        let keys = Keys {
            secrets: &[],
            public_keys: std::slice::from_ref(&public),
        };
        verify_with(
            keys,
            "msg_1",
            1_700_000_000,
            b"{\"a\":1}",
            &header,
            1_700_000_000,
            300,
        )
        .unwrap();
        assert!(
            verify_with(
                keys,
                "msg_1",
                1_700_000_000,
                b"{\"a\":2}",
                &header,
                1_700_000_000,
                300
            )
            .is_err()
        );
        assert!(Signer::generate(SignerKind::Hmac).public_key().is_none());
    }
}
