//! Property tests: any change to the body, the timestamp or the signature is refused,
//! for every scheme.

use hookrelay_signature::providers::{github, shopify, slack, stripe};
use hookrelay_signature::{Secret, sign, verify};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;

fn flip(bytes: &[u8], at: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = at % out.len();
    out[i] ^= 1 << (bit % 8);
    out
}

proptest! {
    #[test]
    fn standard_webhooks_refuse_any_tampering(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        at in any::<usize>(),
        bit in any::<u8>(),
        shift in 1i64..100_000,
    ) {
        let secret = Secret::generate();
        let header = sign(&secret, "msg_1", NOW, &body);
        let keys = [secret];
        prop_assert!(verify(&keys, "msg_1", NOW, &body, &header, NOW, 300).is_ok());
        prop_assert!(verify(&keys, "msg_1", NOW, &flip(&body, at, bit), &header, NOW, 300).is_err());
        prop_assert!(verify(&keys, "msg_1", NOW + shift, &body, &header, NOW, 100_000).is_err());
        prop_assert!(verify(&keys, "msg_2", NOW, &body, &header, NOW, 300).is_err());
        // A changed signature character (past "v1,").
        let sig = header.as_bytes();
        let i = 3 + at % (sig.len() - 3);
        let mut changed = sig.to_vec();
        changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(verify(&keys, "msg_1", NOW, &body, &changed, NOW, 300).is_err());
    }

    #[test]
    fn provider_schemes_refuse_a_changed_body(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        at in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let secret = "provider-secret";
        let tampered = flip(&body, at, bit);
        let gh = github::sign(secret.as_bytes(), &body);
        prop_assert!(github::verify(&[secret], &body, Some(&gh)).is_ok());
        prop_assert!(github::verify(&[secret], &tampered, Some(&gh)).is_err());
        let sh = shopify::sign(secret.as_bytes(), &body);
        prop_assert!(shopify::verify(&[secret], &body, Some(&sh)).is_ok());
        prop_assert!(shopify::verify(&[secret], &tampered, Some(&sh)).is_err());
        let st = stripe::sign(secret.as_bytes(), NOW, &body);
        prop_assert!(stripe::verify(&[secret], &body, Some(&st), NOW, 300).is_ok());
        prop_assert!(stripe::verify(&[secret], &tampered, Some(&st), NOW, 300).is_err());
        let sl = slack::sign(secret.as_bytes(), NOW, &body);
        let ts = NOW.to_string();
        prop_assert!(slack::verify(&[secret], &body, Some(&ts), Some(&sl), NOW, 300).is_ok());
        prop_assert!(slack::verify(&[secret], &tampered, Some(&ts), Some(&sl), NOW, 300).is_err());
        let other_ts = (NOW + 1).to_string();
        prop_assert!(slack::verify(&[secret], &body, Some(&other_ts), Some(&sl), NOW, 300).is_err());
    }
}
