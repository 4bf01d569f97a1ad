//! `hookrelay verify`: checks a captured webhook (headers and raw body) against a secret
//! and says exactly which part failed. Also the Standard Webhooks check `listen` uses.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use hookrelay_signature::providers::{self, ProviderError};
use hookrelay_signature::{Keys, PublicKey, Secret, VerifyError, verify_with};

use crate::client::exit::{Reported, usage};
use crate::client::output;

/// Flags of `verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The receiver's secret: whsec_… (or an ed25519 endpoint's whpk_… public key) for
    /// standard; the provider's webhook secret, as the provider shows it, for the others.
    /// Repeat while a secret is being rotated.
    #[arg(long = "secret", value_name = "SECRET", required = true)]
    pub secrets: Vec<String>,
    /// A header as received, `name: value`; repeat for each.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Who signed it.
    #[arg(long, value_enum, default_value_t = Scheme::Standard)]
    pub scheme: Scheme,
    /// The largest distance, in seconds, between the signed timestamp and now.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub tolerance: i64,
    /// Read the body from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
}

/// The signature schemes `verify` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    /// Standard Webhooks (what Hookrelay sends): webhook-id, webhook-timestamp,
    /// webhook-signature.
    Standard,
    /// GitHub: X-Hub-Signature-256 (or the legacy X-Hub-Signature).
    Github,
    /// Stripe: Stripe-Signature.
    Stripe,
    /// Shopify: X-Shopify-Hmac-Sha256.
    Shopify,
    /// Slack: X-Slack-Signature and X-Slack-Request-Timestamp.
    Slack,
}

/// Which part of a webhook failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A header the scheme needs is absent.
    MissingHeader,
    /// A header is present but not in the scheme's format.
    Malformed,
    /// The signed timestamp is outside the tolerance.
    StaleTimestamp,
    /// Well formed, but no signature matches any secret.
    NoMatch,
}

impl Kind {
    /// The short name `verify` prints first.
    pub fn label(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing header",
            Self::Malformed => "malformed signature",
            Self::StaleTimestamp => "stale timestamp",
            Self::NoMatch => "no signature matched",
        }
    }
}

/// Why a webhook did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Which part failed.
    pub kind: Kind,
    /// What exactly, naming the header and values.
    pub detail: String,
}

impl Failure {
    fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// "1h 2m (3720 s) in the past".
fn how_far(timestamp: i64, skew: i64, now: i64) -> String {
    let direction = if timestamp <= now {
        "in the past"
    } else {
        "in the future"
    };
    let span = humantime::format_duration(Duration::from_secs(skew.unsigned_abs()));
    format!("{span} ({skew} s) {direction}")
}

/// The keys of a Standard Webhooks receiver: `whsec_` secrets and `whpk_` public keys.
#[derive(Default)]
pub struct StandardKeys {
    secrets: Vec<Secret>,
    public_keys: Vec<PublicKey>,
}

impl StandardKeys {
    /// Parses each text by its prefix.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> anyhow::Result<Self> {
        let mut keys = Self::default();
        for text in texts {
            let text = text.as_ref().trim();
            if text.starts_with(hookrelay_signature::asymmetric::PUBLIC_PREFIX) {
                keys.public_keys
                    .push(PublicKey::parse(text).map_err(|e| usage(format!("--secret: {e}")))?);
            } else {
                keys.secrets
                    .push(Secret::parse(text).map_err(|e| usage(format!("--secret: {e}")))?);
            }
        }
        Ok(keys)
    }

    /// Checks a Standard Webhooks message; `None` for an absent header.
    pub fn check(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
        tolerance: i64,
    ) -> Result<(), Failure> {
        let missing =
            |h: &str| Failure::new(Kind::MissingHeader, format!("the {h} header is missing"));
        let id = id.ok_or_else(|| missing("webhook-id"))?;
        let timestamp_text = timestamp.ok_or_else(|| missing("webhook-timestamp"))?;
        let signature = signature.ok_or_else(|| missing("webhook-signature"))?;
        let timestamp: i64 = timestamp_text.trim().parse().map_err(|_| {
            Failure::new(
                Kind::Malformed,
                format!("webhook-timestamp {timestamp_text:?} is not unix seconds"),
            )
        })?;
        let keys = Keys {
            secrets: &self.secrets,
            public_keys: &self.public_keys,
        };
        verify_with(keys, id, timestamp, body, signature, now, tolerance).map_err(|e| match e {
            VerifyError::StaleTimestamp {
                timestamp,
                skew,
                tolerance,
            } => Failure::new(
                Kind::StaleTimestamp,
                format!(
                    "webhook-timestamp {timestamp} is {} (tolerance {tolerance} s)",
                    how_far(timestamp, skew, now)
                ),
            ),
            VerifyError::NoV1Signature
            | VerifyError::NoV1aSignature
            | VerifyError::NoV1OrV1aSignature => Failure::new(
                Kind::Malformed,
                format!(
                    "{e}: expected space-separated \"v1,<base64>\" (or \"v1a,<base64>\") entries, got {signature:?}"
                ),
            ),
            VerifyError::NoKeys
            | VerifyError::Mismatch
            | VerifyError::V1aMismatch
            | VerifyError::V1OrV1aMismatch => Failure::new(Kind::NoMatch, e.to_string()),
        })
    }
}

/// The received headers, looked up without regard to case.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn parse(lines: &[String]) -> anyhow::Result<Self> {
        lines
            .iter()
            .map(|line| {
                let (name, value) = line.split_once(':').ok_or_else(|| {
                    usage(format!("-H {line:?}: write headers as \"name: value\""))
                })?;
                Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn from_provider(e: ProviderError, now: i64) -> Failure {
    match e {
        ProviderError::MissingHeader { .. } | ProviderError::NoSecrets { .. } => {
            Failure::new(Kind::MissingHeader, e.to_string())
        }
        ProviderError::MalformedHeader { .. } => Failure::new(Kind::Malformed, e.to_string()),
        ProviderError::StaleTimestamp {
            header,
            timestamp,
            skew,
            tolerance,
        } => Failure::new(
            Kind::StaleTimestamp,
            format!(
                "the {header} timestamp {timestamp} is {} (tolerance {tolerance} s)",
                how_far(timestamp, skew, now)
            ),
        ),
        ProviderError::Mismatch { .. } => Failure::new(Kind::NoMatch, e.to_string()),
    }
}

/// Checks `body` under `scheme`.
fn check(
    args: &VerifyArgs,
    headers: &Headers,
    body: &[u8],
    now: i64,
) -> anyhow::Result<Result<(), Failure>> {
    let secrets: Vec<&[u8]> = args.secrets.iter().map(|s| s.trim().as_bytes()).collect();
    let tolerance = args.tolerance;
    let provider = |r: Result<(), ProviderError>| r.map_err(|e| from_provider(e, now));
    Ok(match args.scheme {
        Scheme::Standard => StandardKeys::parse(&args.secrets)?.check(
            headers.get("webhook-id"),
            headers.get("webhook-timestamp"),
            headers.get("webhook-signature"),
            body,
            now,
            tolerance,
        ),
        Scheme::Github => match (
            headers.get(providers::github::HEADER),
            headers.get(providers::github::LEGACY_HEADER),
        ) {
            // Old GitHub Enterprise servers send only the SHA-1 header.
            (None, Some(legacy)) => {
                provider(providers::github::verify_sha1(&secrets, body, Some(legacy)))
            }
            (sha256, _) => provider(providers::github::verify(&secrets, body, sha256)),
        },
        Scheme::Stripe => provider(providers::stripe::verify(
            &secrets,
            body,
            headers.get(providers::stripe::HEADER),
            now,
            tolerance,
        )),
        Scheme::Shopify => provider(providers::shopify::verify(
            &secrets,
            body,
            headers.get(providers::shopify::HEADER),
        )),
        Scheme::Slack => provider(providers::slack::verify(
            &secrets,
            body,
            headers.get(providers::slack::TIMESTAMP_HEADER),
            headers.get(providers::slack::SIGNATURE_HEADER),
            now,
            tolerance,
        )),
    })
}

fn read_body(args: &VerifyArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = &args.body {
        return std::fs::read(path)
            .map_err(|e| usage(format!("cannot read {}: {e}", path.display())));
    }
    if std::io::stdin().is_terminal() {
        // Waiting on a terminal would look like a hang.
        return Err(usage(
            "give the raw body on stdin (hookrelay verify … < body.json) or with --body FILE",
        ));
    }
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| usage(format!("cannot read the body from stdin: {e}")))?;
    Ok(body)
}

/// Prints `valid` (exit 0) or `invalid: <what failed>: <detail>` (exit 1).
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let headers = Headers::parse(&args.headers)?;
    let body = read_body(&args)?;
    let now = hookrelay_core::clock::now_ms() / 1000;
    let scheme = format!("{:?}", args.scheme).to_lowercase();
    match check(&args, &headers, &body, now)? {
        Ok(()) => {
            println!(
                "{}: the {scheme} signature matches ({} body bytes)",
                output::status("valid"),
                body.len()
            );
            Ok(())
        }
        Err(failure) => {
            let mut hint = match failure.kind {
                Kind::NoMatch => " (the body, id or timestamp differ from what was signed, or the secret is another one)".to_owned(),
                _ => String::new(),
            };
            // The most common cause by far: a newline added by echo or an editor.
            if failure.kind == Kind::NoMatch
                && let Some(trimmed) = body.strip_suffix(b"\n")
                && check(&args, &headers, trimmed, now)?.is_ok()
            {
                hint = "; it matches without the body's final newline: pass the body byte for byte (printf, or curl --data-binary @file)".to_owned();
            }
            println!(
                "{}: {}: {}{hint}",
                output::status("invalid"),
                failure.kind.label(),
                failure.detail
            );
            Err(Reported(failure.detail).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use hookrelay_signature::sign;

    use super::*;

    #[test]
    fn each_failing_part_is_named() {
        let secret = Secret::generate();
        let keys = StandardKeys {
            secrets: vec![secret.clone()],
            public_keys: Vec::new(),
        };
        let body = br#"{"a":1}"#;
        let sig = sign(&secret, "evt_1", 1000, body);
        let ok = keys.check(Some("evt_1"), Some("1000"), Some(&sig), body, 1010, 300);
        assert_eq!(ok, Ok(()));
        let kind = |r: Result<(), Failure>| r.unwrap_err().kind;
        assert_eq!(
            kind(keys.check(None, Some("1000"), Some(&sig), body, 1010, 300)),
            Kind::MissingHeader
        );
        assert_eq!(
            kind(keys.check(Some("evt_1"), Some("soon"), Some(&sig), body, 1010, 300)),
            Kind::Malformed
        );
        assert_eq!(
            kind(keys.check(Some("evt_1"), Some("1000"), Some("v1,***"), body, 1010, 300)),
            Kind::Malformed
        );
        assert_eq!(
            kind(keys.check(Some("evt_1"), Some("1000"), Some(&sig), b"{}", 1010, 300)),
            Kind::NoMatch
        );
        let stale = keys
            .check(Some("evt_1"), Some("1000"), Some(&sig), body, 4600, 300)
            .unwrap_err();
        assert_eq!(stale.kind, Kind::StaleTimestamp);
        assert!(
            stale.detail.contains("1h (3600 s) in the past"),
            "{}",
            stale.detail
        );
    }

    fn args(scheme: Scheme) -> VerifyArgs {
        VerifyArgs {
            secrets: vec!["provider-secret".to_owned()],
            headers: Vec::new(),
            scheme,
            tolerance: 300,
            body: None,
        }
    }

    #[test]
    fn provider_schemes_name_the_failing_part() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        let outcome = |scheme, line: String, body: &[u8]| {
            let headers = Headers::parse(&[line]).unwrap();
            check(&args(scheme), &headers, body, now)
                .unwrap()
                .map_err(|f| (f.kind, f.detail))
        };

        let stripe = providers::stripe::sign(b"provider-secret", now - 7200, body);
        let (kind, detail) =
            outcome(Scheme::Stripe, format!("Stripe-Signature: {stripe}"), body).unwrap_err();
        assert_eq!(kind, Kind::StaleTimestamp);
        assert!(detail.contains("2h (7200 s) in the past"), "{detail}");
        let stripe = providers::stripe::sign(b"provider-secret", now, body);
        assert!(outcome(Scheme::Stripe, format!("stripe-signature: {stripe}"), body).is_ok());

        let slack = providers::slack::sign(b"provider-secret", now, body);
        let (kind, detail) =
            outcome(Scheme::Slack, format!("X-Slack-Signature: {slack}"), body).unwrap_err();
        assert_eq!(kind, Kind::MissingHeader);
        assert!(detail.contains("X-Slack-Request-Timestamp"), "{detail}");

        let shopify = providers::shopify::sign(b"provider-secret", body);
        let (kind, _) = outcome(
            Scheme::Shopify,
            format!("X-Shopify-Hmac-Sha256: {shopify}"),
            b"{}",
        )
        .unwrap_err();
        assert_eq!(kind, Kind::NoMatch);

        // GitHub Enterprise servers that send only the legacy SHA-1 header still verify.
        let sha1 = providers::github::sign_sha1(b"provider-secret", body);
        assert!(outcome(Scheme::Github, format!("X-Hub-Signature: {sha1}"), body).is_ok());
        assert!(Headers::parse(&["no colon".to_owned()]).is_err());
    }
}
