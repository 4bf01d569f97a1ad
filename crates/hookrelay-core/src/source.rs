//! Inbound sources: how the gateway at `/in/{name}` checks a provider's requests, how it
//! deduplicates them, and where they go (forwarded byte for byte, and/or published as
//! Hookrelay events).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::endpoint::parse_url;
use crate::scope::Scope;

/// Default replay window of the timestamped schemes.
pub const DEFAULT_TOLERANCE_S: i64 = 300;
/// Default deduplication window.
pub const DEFAULT_DEDUPE_WINDOW_S: i64 = 7 * 24 * 3600;
/// Default largest request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most forward targets per source.
pub const MAX_FORWARD_TO: usize = 16;

/// How a source's requests are verified. Every scheme compares in constant time over
/// the raw body; `secrets` may hold several (rotation: any may match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Verify {
    /// `X-Hub-Signature-256: sha256=<hex>`; `legacy_sha1` also accepts `X-Hub-Signature`.
    Github {
        /// Webhook secrets.
        secrets: Vec<String>,
        /// Accept the legacy SHA-1 header when the SHA-256 one is absent.
        #[serde(default)]
        legacy_sha1: bool,
    },
    /// `Stripe-Signature: t=…,v1=…` over `{t}.{body}`.
    Stripe {
        /// `whsec_…` signing secrets (used as they are, prefix included).
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[serde(default = "tolerance")]
        tolerance_s: i64,
    },
    /// `X-Shopify-Hmac-Sha256: <base64>`.
    Shopify {
        /// App secrets.
        secrets: Vec<String>,
    },
    /// `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Slack {
        /// Signing secrets.
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[serde(default = "tolerance")]
        tolerance_s: i64,
    },
    /// Standard Webhooks: `whsec_` secrets (`v1`) and `whpk_` public keys (`v1a`).
    Standard {
        /// `whsec_…` and/or `whpk_…`.
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[serde(default = "tolerance")]
        tolerance_s: i64,
    },
    /// A configurable HMAC header (e.g. `x-signature`, hex SHA-256).
    Hmac {
        /// The header carrying the signature.
        header: String,
        /// `sha256` (default) or `sha512`.
        #[serde(default = "sha256")]
        algorithm: String,
        /// `hex` (default) or `base64`.
        #[serde(default = "hex")]
        encoding: String,
        /// Text before the MAC, e.g. `sha256=`.
        #[serde(default)]
        prefix: String,
        /// Secrets.
        secrets: Vec<String>,
    },
    /// HTTP basic auth.
    Basic {
        /// Expected user name.
        username: String,
        /// Expected password.
        password: String,
    },
    /// A fixed key in a header.
    ApiKey {
        /// The header, e.g. `x-api-key`.
        header: String,
        /// Accepted values (several during a rotation).
        values: Vec<String>,
    },
    /// Accept everything (a provider that signs nothing; combine with `allowed_ips`).
    None,
}

fn tolerance() -> i64 {
    DEFAULT_TOLERANCE_S
}
fn sha256() -> String {
    "sha256".to_owned()
}
fn hex() -> String {
    "hex".to_owned()
}

impl Verify {
    /// The scheme's name (`github`, `stripe`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Verify::Github { .. } => "github",
            Verify::Stripe { .. } => "stripe",
            Verify::Shopify { .. } => "shopify",
            Verify::Slack { .. } => "slack",
            Verify::Standard { .. } => "standard",
            Verify::Hmac { .. } => "hmac",
            Verify::Basic { .. } => "basic",
            Verify::ApiKey { .. } => "api_key",
            Verify::None => "none",
        }
    }

    /// The provider's own delivery id, the default deduplication key.
    pub fn default_dedupe(&self) -> Option<Dedupe> {
        let header = |h: &str| {
            Some(Dedupe {
                header: Some(h.to_owned()),
                json_path: None,
                window_s: DEFAULT_DEDUPE_WINDOW_S,
            })
        };
        match self {
            Verify::Github { .. } => header("x-github-delivery"),
            Verify::Standard { .. } => header("webhook-id"),
            Verify::Shopify { .. } => header("x-shopify-webhook-id"),
            Verify::Stripe { .. } => Some(Dedupe {
                header: None,
                json_path: Some("id".to_owned()),
                window_s: DEFAULT_DEDUPE_WINDOW_S,
            }),
            _ => None,
        }
    }

    /// Header names whose values are secrets and are redacted in the request log.
    pub fn secret_headers(&self) -> Vec<String> {
        match self {
            Verify::Basic { .. } => vec!["authorization".to_owned()],
            Verify::ApiKey { header, .. } => vec![header.to_ascii_lowercase()],
            _ => Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), FieldError> {
        let nonempty = |list: &[String], what: &str| {
            if list.is_empty() || list.iter().any(|s| s.is_empty()) {
                Err(FieldError::new(
                    format!("verify.{what}"),
                    format!("give at least one non-empty {what} value"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Verify::Github { secrets, .. } | Verify::Shopify { secrets } => {
                nonempty(secrets, "secrets")
            }
            Verify::Stripe {
                secrets,
                tolerance_s,
            }
            | Verify::Slack {
                secrets,
                tolerance_s,
            }
            | Verify::Standard {
                secrets,
                tolerance_s,
            } => {
                nonempty(secrets, "secrets")?;
                if !(1..=86_400).contains(tolerance_s) {
                    return Err(FieldError::new(
                        "verify.tolerance_s",
                        "tolerance_s is between 1 and 86400 seconds",
                    ));
                }
                Ok(())
            }
            Verify::Hmac {
                header,
                algorithm,
                encoding,
                secrets,
                ..
            } => {
                nonempty(secrets, "secrets")?;
                if header.trim().is_empty() {
                    return Err(FieldError::new(
                        "verify.header",
                        "name the signature header",
                    ));
                }
                if !matches!(algorithm.as_str(), "sha256" | "sha512") {
                    return Err(FieldError::new(
                        "verify.algorithm",
                        "algorithm is sha256 or sha512",
                    ));
                }
                if !matches!(encoding.as_str(), "hex" | "base64") {
                    return Err(FieldError::new(
                        "verify.encoding",
                        "encoding is hex or base64",
                    ));
                }
                Ok(())
            }
            Verify::Basic { username, password } => {
                if username.is_empty() || password.is_empty() {
                    return Err(FieldError::new(
                        "verify.password",
                        "basic needs a username and a password",
                    ));
                }
                Ok(())
            }
            Verify::ApiKey { header, values } => {
                if header.trim().is_empty() {
                    return Err(FieldError::new("verify.header", "name the key header"));
                }
                nonempty(values, "values")
            }
            Verify::None => Ok(()),
        }
    }
}

/// Where a request's deduplication key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dedupe {
    /// A request header.
    #[serde(default)]
    pub header: Option<String>,
    /// A dot path into the JSON body.
    #[serde(default)]
    pub json_path: Option<String>,
    /// How long a key is remembered, seconds.
    #[serde(default = "dedupe_window")]
    pub window_s: i64,
}

fn dedupe_window() -> i64 {
    DEFAULT_DEDUPE_WINDOW_S
}

/// Turning each request into a Hookrelay event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The event type from this header (e.g. `X-GitHub-Event`)…
    #[serde(default)]
    pub type_header: Option<String>,
    /// …or from this dot path into the JSON body (e.g. `type`).
    #[serde(default)]
    pub type_path: Option<String>,
    /// Put before the type, e.g. `github.` → `github.push`.
    #[serde(default)]
    pub type_prefix: String,
    /// The scopes the event is published into.
    pub scopes: Vec<String>,
}

/// A fixed answer instead of `202 {"id":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Status of accepted requests.
    pub status: u16,
    /// Body of accepted requests.
    #[serde(default)]
    pub body: String,
    /// Its content type.
    #[serde(default = "text_plain")]
    pub content_type: String,
}

fn text_plain() -> String {
    "text/plain".to_owned()
}

/// A source as `PUT /sources/{name}` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// How requests are checked.
    pub verify: Verify,
    /// Deduplication: absent → the provider's id; `false` → off.
    #[serde(default)]
    pub dedupe: Option<DedupeSetting>,
    /// Internal URLs every accepted request is forwarded to.
    #[serde(default)]
    pub forward_to: Vec<String>,
    /// Publish accepted requests as events.
    #[serde(default)]
    pub publish: Option<Publish>,
    /// Only these CIDRs may call (empty: anyone).
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// A fixed answer for accepted requests.
    #[serde(default)]
    pub response: Option<Response>,
    /// Requests to a disabled source are 404.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Largest request body.
    #[serde(default = "max_body")]
    pub max_body_bytes: usize,
}

fn yes() -> bool {
    true
}
fn max_body() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

/// `dedupe`: `false`, or a key definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DedupeSetting {
    /// `false` turns deduplication off (`true` is the provider default).
    Switch(bool),
    /// A header or JSON path.
    Key(Dedupe),
}

impl SourceSpec {
    /// Validates everything; errors name the field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(e) = self.verify.validate() {
            errors.push(e);
        }
        if self.forward_to.len() > MAX_FORWARD_TO {
            errors.push(FieldError::new(
                "forward_to",
                format!("at most {MAX_FORWARD_TO} URLs"),
            ));
        }
        for (i, url) in self.forward_to.iter().enumerate() {
            if let Err(e) = parse_url(url) {
                errors.push(FieldError::new(format!("forward_to[{i}]"), e.message));
            }
        }
        if self.forward_to.is_empty() && self.publish.is_none() {
            errors.push(FieldError::new(
                "forward_to",
                "give forward_to URLs and/or publish: a source must send its requests somewhere",
            ));
        }
        if let Some(p) = &self.publish {
            if p.type_header.is_some() == p.type_path.is_some() {
                errors.push(FieldError::new(
                    "publish.type_header",
                    "give either type_header or type_path",
                ));
            }
            if p.scopes.is_empty() {
                errors.push(FieldError::new("publish.scopes", "give at least one scope"));
            }
            for (i, s) in p.scopes.iter().enumerate() {
                if let Err(e) = Scope::parse(s) {
                    errors.push(FieldError::new(format!("publish.scopes[{i}]"), e.message));
                }
            }
        }
        if let Some(DedupeSetting::Key(d)) = &self.dedupe {
            if d.header.is_some() == d.json_path.is_some() {
                errors.push(FieldError::new(
                    "dedupe.header",
                    "give either header or json_path",
                ));
            }
            if d.window_s < 1 {
                errors.push(FieldError::new("dedupe.window_s", "window_s is at least 1"));
            }
        }
        if let Some(DedupeSetting::Switch(true)) = &self.dedupe
            && self.verify.default_dedupe().is_none()
        {
            errors.push(FieldError::new(
                "dedupe",
                format!(
                    "{} requests carry no id to deduplicate on; name a header or json_path",
                    self.verify.name()
                ),
            ));
        }
        for (i, cidr) in self.allowed_ips.iter().enumerate() {
            if cidr.parse::<IpNet>().is_err() && cidr.parse::<std::net::IpAddr>().is_err() {
                errors.push(FieldError::new(
                    format!("allowed_ips[{i}]"),
                    format!("{cidr:?} is not an IP address or CIDR"),
                ));
            }
        }
        if let Some(r) = &self.response
            && !(200..300).contains(&r.status)
        {
            errors.push(FieldError::new(
                "response.status",
                "an accepted request's status is 2xx",
            ));
        }
        if !(1..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            errors.push(FieldError::new(
                "max_body_bytes",
                "max_body_bytes is between 1 and 67108864",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The deduplication in effect.
    pub fn effective_dedupe(&self) -> Option<Dedupe> {
        match &self.dedupe {
            None | Some(DedupeSetting::Switch(true)) => self.verify.default_dedupe(),
            Some(DedupeSetting::Switch(false)) => None,
            Some(DedupeSetting::Key(d)) => Some(d.clone()),
        }
    }

    /// Whether `ip` may call (always, without `allowed_ips`).
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        self.allowed_ips.is_empty()
            || self.allowed_ips.iter().any(|c| {
                c.parse::<IpNet>()
                    .map(|n| n.contains(&ip))
                    .or_else(|_| c.parse::<std::net::IpAddr>().map(|a| a == ip))
                    .unwrap_or(false)
            })
    }
}

/// Validates a source name: `[A-Za-z0-9._-]{1,64}`.
pub fn validate_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "name",
            "a source name is 1 to 64 letters, digits, '.', '_' or '-'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> SourceSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_github_source_dedupes_on_the_delivery_header_by_default() {
        let s = spec(
            json!({"verify": {"type": "github", "secrets": ["s"]}, "forward_to": ["https://internal.example.com/gh"]}),
        );
        s.validate().unwrap();
        assert_eq!(
            s.effective_dedupe().unwrap().header.as_deref(),
            Some("x-github-delivery")
        );
        let off = spec(
            json!({"verify": {"type": "github", "secrets": ["s"]}, "forward_to": ["https://a.example.com"], "dedupe": false}),
        );
        assert!(off.effective_dedupe().is_none());
        let stripe = spec(
            json!({"verify": {"type": "stripe", "secrets": ["whsec_x"]}, "forward_to": ["https://a.example.com"]}),
        );
        assert_eq!(
            stripe.effective_dedupe().unwrap().json_path.as_deref(),
            Some("id")
        );
    }

    #[test]
    fn invalid_sources_name_their_fields() {
        let s = spec(json!({
            "verify": {"type": "hmac", "header": "x-signature", "algorithm": "md5", "secrets": ["k"]},
            "forward_to": ["ftp://x"],
            "publish": {"scopes": []},
            "allowed_ips": ["nope"],
            "response": {"status": 500}
        }));
        let fields: Vec<String> = s
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "verify.algorithm",
                "forward_to[0]",
                "publish.type_header",
                "publish.scopes",
                "allowed_ips[0]",
                "response.status"
            ]
        );
        let nowhere = spec(json!({"verify": {"type": "none"}}));
        assert_eq!(nowhere.validate().unwrap_err()[0].field, "forward_to");
        assert!(serde_json::from_value::<SourceSpec>(json!({"verify": {"type": "sha1"}})).is_err());
    }

    #[test]
    fn allowed_ips_take_cidrs_and_addresses() {
        let s = spec(
            json!({"verify": {"type": "none"}, "forward_to": ["https://a.example.com"], "allowed_ips": ["192.30.252.0/22", "10.1.2.3"]}),
        );
        assert!(s.allows("192.30.253.9".parse().unwrap()));
        assert!(s.allows("10.1.2.3".parse().unwrap()));
        assert!(!s.allows("10.1.2.4".parse().unwrap()));
        assert!(validate_name("github-prod").is_ok());
        assert!(validate_name("a/b").is_err());
    }
}
