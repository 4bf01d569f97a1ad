//! The provider schemes of the inbound gateway (`hookrelay_signature::providers`):
//! GitHub `X-Hub-Signature-256` / `X-Hub-Signature`, Stripe `Stripe-Signature`
//! (`t=…,v1=…`), Slack `X-Slack-Signature` + `X-Slack-Request-Timestamp`, Shopify
//! `X-Shopify-Hmac-Sha256`, and the configurable HMAC header. Every verifier gets arbitrary
//! secrets, body, header values, clock and tolerance and must answer Ok or Err; what each
//! `sign` produces must verify, and not over another body.
#![no_main]

use arbitrary::Arbitrary;
use hookrelay_signature::providers::{ProviderError, github, hmac, shopify, slack, stripe};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    secrets: Vec<&'a [u8]>,
    body: &'a [u8],
    signature: Option<&'a str>,
    timestamp: Option<&'a str>,
    now: i64,
    tolerance_s: i64,
    scheme_header: &'a str,
    sha512: bool,
    base64: bool,
    prefix: &'a str,
}

fn is_mismatch(r: Result<(), ProviderError>) -> bool {
    matches!(r, Err(ProviderError::Mismatch { .. }))
}

fuzz_target!(|input: Input<'_>| {
    // A receiver holds a few secrets at most (rotation); more only slows the fuzzer down.
    let secrets = &input.secrets[..input.secrets.len().min(4)];
    let body = input.body;
    let sig = input.signature;
    let (now, tolerance) = (input.now, input.tolerance_s);
    let scheme = hmac::Scheme {
        header: input.scheme_header.to_owned(),
        algorithm: if input.sha512 {
            hmac::Algorithm::Sha512
        } else {
            hmac::Algorithm::Sha256
        },
        encoding: if input.base64 {
            hmac::Encoding::Base64
        } else {
            hmac::Encoding::Hex
        },
        prefix: input.prefix.to_owned(),
    };

    let _ = github::verify(secrets, body, sig);
    let _ = github::verify_sha1(secrets, body, sig);
    let _ = stripe::verify(secrets, body, sig, now, tolerance);
    let _ = shopify::verify(secrets, body, sig);
    let _ = slack::verify(secrets, body, input.timestamp, sig, now, tolerance);
    let _ = hmac::verify(&scheme, secrets, body, sig);

    // What a provider sends verifies; the same header over another body does not.
    let Some(secret) = secrets.first().copied() else {
        return;
    };
    let one = [secret];
    let mut other = body.to_vec();
    other.push(b'!');

    let h = github::sign(secret, body);
    assert_eq!(github::verify(secrets, body, Some(&h)), Ok(()));
    assert!(is_mismatch(github::verify(&one, &other, Some(&h))));
    let h = github::sign_sha1(secret, body);
    assert_eq!(github::verify_sha1(secrets, body, Some(&h)), Ok(()));
    assert!(is_mismatch(github::verify_sha1(&one, &other, Some(&h))));
    let h = shopify::sign(secret, body);
    assert_eq!(shopify::verify(secrets, body, Some(&h)), Ok(()));
    assert!(is_mismatch(shopify::verify(&one, &other, Some(&h))));
    let h = hmac::sign(&scheme, secret, body);
    assert_eq!(hmac::verify(&scheme, secrets, body, Some(&h)), Ok(()));
    assert!(is_mismatch(hmac::verify(&scheme, &one, &other, Some(&h))));

    if tolerance >= 0 {
        let h = stripe::sign(secret, now, body);
        assert_eq!(
            stripe::verify(secrets, body, Some(&h), now, tolerance),
            Ok(())
        );
        assert!(is_mismatch(stripe::verify(
            &one,
            &other,
            Some(&h),
            now,
            tolerance
        )));
        let t = now.to_string();
        let h = slack::sign(secret, now, body);
        assert_eq!(
            slack::verify(secrets, body, Some(&t), Some(&h), now, tolerance),
            Ok(())
        );
        assert!(is_mismatch(slack::verify(
            &one,
            &other,
            Some(&t),
            Some(&h),
            now,
            tolerance
        )));
    }
});
