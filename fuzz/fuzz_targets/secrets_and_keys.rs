//! Parsing signing material from text: `whsec_` secrets (`Secret::parse`), `whsk_`
//! signing keys and `whpk_` public keys (`SigningKey::parse`, `PublicKey::parse`, incl.
//! small-order and off-curve points), `Signer::parse` and `SignerKind::parse`. The input
//! is tried as it is and after each prefix, so the base64 and key checks are reached
//! directly. Whatever parses must print back to text that parses to the same value, and
//! a parsed signer's signature must verify with its secret or public key.
#![no_main]

use hookrelay_signature::{Keys, PublicKey, Secret, Signer, SignerKind, SigningKey, verify_with};
use libfuzzer_sys::fuzz_target;

fn check(text: &str) {
    if let Ok(secret) = Secret::parse(text) {
        assert!((24..=64).contains(&secret.key().len()));
        assert_eq!(Secret::parse(&secret.to_text()).as_ref(), Ok(&secret));
    }
    if let Ok(key) = SigningKey::parse(text) {
        assert_eq!(SigningKey::parse(&key.to_text()).as_ref(), Ok(&key));
        let public = key.public_key();
        assert_eq!(PublicKey::parse(&public.to_text()), Ok(public));
    }
    if let Ok(public) = PublicKey::parse(text) {
        assert_eq!(PublicKey::parse(&public.to_text()), Ok(public));
        assert_eq!(public.to_string(), public.to_text());
    }
    if let Ok(signer) = Signer::parse(text) {
        let again = Signer::parse(&signer.to_text()).expect("a signer's text parses");
        assert_eq!(again.kind(), signer.kind());
        assert_eq!(SignerKind::parse(signer.kind().name()), Some(signer.kind()));
        let entry = signer.sign("msg_1", 1_700_000_000, b"{}");
        let secrets: Vec<Secret> = match &signer {
            Signer::Hmac(s) => vec![s.clone()],
            Signer::Ed25519(_) => Vec::new(),
        };
        let public: Vec<PublicKey> = signer.public_key().into_iter().collect();
        let keys = Keys {
            secrets: &secrets,
            public_keys: &public,
        };
        assert_eq!(
            verify_with(
                keys,
                "msg_1",
                1_700_000_000,
                b"{}",
                &entry,
                1_700_000_000,
                0
            ),
            Ok(())
        );
    }
    let _ = SignerKind::parse(text);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&text);
    for prefix in ["whsec_", "whsk_", "whpk_"] {
        check(&format!("{prefix}{text}"));
    }
});
