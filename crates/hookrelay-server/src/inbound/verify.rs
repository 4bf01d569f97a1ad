//! Checking one request against its source's `verify` settings, over the raw body.
//! Every comparison is constant-time (in `hookrelay-signature`, or `subtle` here).

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookrelay_core::source::Verify;
use hookrelay_signature::providers::{github, hmac, shopify, slack, stripe};
use hookrelay_signature::{Keys, PublicKey, Secret, verify_with};
use subtle::ConstantTimeEq;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether two credentials are equal, in a time that depends on neither: `ct_eq` on
/// the values themselves answers at once when their lengths differ, which tells a
/// caller the configured value's length; their SHA-256 digests always have the same.
fn same(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    bool::from(Sha256::digest(a).ct_eq(&Sha256::digest(b)))
}

/// Verifies a request; the error says what failed (it is logged and answered with 401).
pub fn check(verify: &Verify, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), String> {
    let h = |name: &str| header(headers, name);
    match verify {
        Verify::Github {
            secrets,
            legacy_sha1,
        } => if *legacy_sha1 && h(github::HEADER).is_none() && h(github::LEGACY_HEADER).is_some() {
            github::verify_sha1(secrets, body, h(github::LEGACY_HEADER))
        } else {
            github::verify(secrets, body, h(github::HEADER))
        }
        .map_err(|e| e.to_string()),
        Verify::Stripe {
            secrets,
            tolerance_s,
        } => stripe::verify(secrets, body, h(stripe::HEADER), now, *tolerance_s)
            .map_err(|e| e.to_string()),
        Verify::Shopify { secrets } => {
            shopify::verify(secrets, body, h(shopify::HEADER)).map_err(|e| e.to_string())
        }
        Verify::Slack {
            secrets,
            tolerance_s,
        } => slack::verify(
            secrets,
            body,
            h(slack::TIMESTAMP_HEADER),
            h(slack::SIGNATURE_HEADER),
            now,
            *tolerance_s,
        )
        .map_err(|e| e.to_string()),
        Verify::Standard {
            secrets,
            tolerance_s,
        } => standard(secrets, headers, body, now, *tolerance_s),
        Verify::Hmac {
            header: name,
            algorithm,
            encoding,
            prefix,
            secrets,
        } => {
            let scheme = hmac::Scheme {
                header: name.clone(),
                algorithm: if algorithm == "sha512" {
                    hmac::Algorithm::Sha512
                } else {
                    hmac::Algorithm::Sha256
                },
                encoding: if encoding == "base64" {
                    hmac::Encoding::Base64
                } else {
                    hmac::Encoding::Hex
                },
                prefix: prefix.clone(),
            };
            hmac::verify(&scheme, secrets, body, h(name)).map_err(|e| e.to_string())
        }
        Verify::Basic { username, password } => {
            let given = h("authorization")
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b64| STANDARD.decode(b64.trim()).ok())
                .and_then(|raw| String::from_utf8(raw).ok())
                .ok_or("the Authorization header is missing or not Basic credentials")?;
            if same(&given, &format!("{username}:{password}")) {
                Ok(())
            } else {
                Err("the Basic credentials do not match".to_owned())
            }
        }
        Verify::ApiKey {
            header: name,
            values,
        } => {
            let given = h(name).ok_or_else(|| format!("the {name} header is missing"))?;
            // Every value is compared, so the time does not tell which one nearly matched.
            let matched = values.iter().fold(false, |found, v| found | same(given, v));
            if matched {
                Ok(())
            } else {
                Err(format!("the {name} header does not hold a valid key"))
            }
        }
        Verify::None => Ok(()),
    }
}

/// Standard Webhooks with `whsec_` secrets (`v1`) and/or `whpk_` public keys (`v1a`).
fn standard(
    secrets: &[String],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<(), String> {
    let mut hmac_secrets = Vec::new();
    let mut public_keys = Vec::new();
    for s in secrets {
        if s.starts_with(hookrelay_signature::asymmetric::PUBLIC_PREFIX) {
            public_keys.push(PublicKey::parse(s).map_err(|e| format!("the source's key: {e}"))?);
        } else {
            hmac_secrets.push(Secret::parse(s).map_err(|e| format!("the source's secret: {e}"))?);
        }
    }
    let id = header(headers, "webhook-id").ok_or("the webhook-id header is missing")?;
    let ts = header(headers, "webhook-timestamp")
        .ok_or("the webhook-timestamp header is missing")?
        .trim()
        .parse::<i64>()
        .map_err(|_| "the webhook-timestamp header is not unix seconds")?;
    let signature =
        header(headers, "webhook-signature").ok_or("the webhook-signature header is missing")?;
    let keys = Keys {
        secrets: &hmac_secrets,
        public_keys: &public_keys,
    };
    verify_with(keys, id, ts, body, signature, now, tolerance_s)
        .map_err(|e| format!("webhook-signature: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn credentials_of_any_length_compare_by_value() {
        assert!(same("u:p", "u:p"));
        assert!(!same("u:p", "u:q"));
        assert!(!same("u:p", "u:pp"), "a longer value is not equal");
        assert!(!same("", "u:p"));
        assert!(same("", ""));
    }

    #[test]
    fn basic_and_api_key_compare_the_configured_values() {
        let basic = Verify::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let good = format!("Basic {}", STANDARD.encode("u:p"));
        assert!(check(&basic, &headers(&[("authorization", &good)]), b"", 0).is_ok());
        let bad = format!("Basic {}", STANDARD.encode("u:x"));
        assert!(check(&basic, &headers(&[("authorization", &bad)]), b"", 0).is_err());
        assert!(
            check(&basic, &headers(&[]), b"", 0)
                .unwrap_err()
                .contains("Authorization")
        );
        let key = Verify::ApiKey {
            header: "x-api-key".into(),
            values: vec!["old".into(), "new".into()],
        };
        assert!(check(&key, &headers(&[("x-api-key", "new")]), b"", 0).is_ok());
        assert!(check(&key, &headers(&[("x-api-key", "neww")]), b"", 0).is_err());
        assert!(
            check(&key, &headers(&[]), b"", 0)
                .unwrap_err()
                .contains("x-api-key")
        );
    }
}
