//! Endpoints: codes, URLs and outbound credentials.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::FieldError;

/// How long a rotated-out signing secret keeps signing when the rotation names no grace
/// period (24 h), so receivers have a day to switch to the new one.
pub const DEFAULT_GRACE_PERIOD_S: u64 = 24 * 3600;

/// Checks an endpoint code (unique within a scope): 1 to 128 of `[A-Za-z0-9._:-]`.
pub fn validate_code(code: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= 128
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "code",
            format!(
                "invalid endpoint code {code:?}: use 1 to 128 characters of A-Z a-z 0-9 . _ : -"
            ),
        ))
    }
}

/// Parses an endpoint URL: `http` or `https`, with a host, no credentials in it.
pub fn parse_url(raw: &str) -> Result<Url, FieldError> {
    let url =
        Url::parse(raw).map_err(|e| FieldError::new("url", format!("invalid URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(
            "url",
            format!("URL scheme must be http or https, not {:?}", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new("url", "URL must have a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            "url",
            "URL must not carry credentials; use the endpoint's auth instead",
        ));
    }
    Ok(url)
}

/// Credentials Hookrelay sends with every delivery to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum OutboundAuth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl OutboundAuth {
    /// Checks that the credentials fit in an `Authorization` header: a value with a
    /// line break or another control character would fail every delivery (`auth`).
    pub fn validate(&self) -> Result<(), FieldError> {
        let unfit = |v: &str| v.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
        match self {
            Self::Bearer { token } if token.trim().is_empty() => {
                Err(FieldError::new("auth.token", "must not be empty"))
            }
            Self::Bearer { token } if unfit(token) => Err(FieldError::new(
                "auth.token",
                "must not contain line breaks or other control characters",
            )),
            Self::Basic { username, .. } if username.contains(':') => Err(FieldError::new(
                "auth.username",
                "must not contain ':' (Basic credentials are username:password)",
            )),
            Self::Basic { username, password } if unfit(username) || unfit(password) => {
                Err(FieldError::new(
                    "auth",
                    "username and password must not contain line breaks or other control characters",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Header names an endpoint may not override: Hookrelay sets them itself.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
    "connection",
    "transfer-encoding",
];

/// Checks custom header names and values.
pub fn validate_headers(
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<(), FieldError> {
    for (name, value) in headers {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(FieldError::new(
                "headers",
                format!("invalid header name {name:?}"),
            ));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(FieldError::new(
                "headers",
                format!("header {name:?} is set by Hookrelay and cannot be overridden"),
            ));
        }
        // What HTTP allows in a field value: no control characters but the tab (a line
        // break would inject a header; the others cannot be sent at all, so every
        // delivery would fail).
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(FieldError::new(
                "headers",
                format!("invalid value for header {name:?}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_hold_no_control_characters_but_the_tab() {
        let one = |v: &str| {
            validate_headers(&std::collections::BTreeMap::from([(
                "X-Tenant".to_owned(),
                v.to_owned(),
            )]))
        };
        assert!(one("acme\tcorp é").is_ok());
        for bad in [
            "a\r\nX-Evil: 1",
            "a\nb",
            "a\0",
            "a\u{1}b",
            "a\u{1b}[0m",
            "a\u{7f}",
        ] {
            assert_eq!(one(bad).unwrap_err().field, "headers", "{bad:?}");
        }
    }

    #[test]
    fn urls() {
        assert!(parse_url("https://example.com/hook").is_ok());
        assert!(parse_url("http://example.com:8080").is_ok());
        assert_eq!(parse_url("ftp://example.com").unwrap_err().field, "url");
        assert_eq!(parse_url("not a url").unwrap_err().field, "url");
        assert_eq!(
            parse_url("https://u:p@example.com").unwrap_err().field,
            "url"
        );
    }

    #[test]
    fn credentials_that_cannot_be_sent_are_refused() {
        let bearer = |t: &str| OutboundAuth::Bearer {
            token: t.to_owned(),
        };
        assert!(bearer("abc.def").validate().is_ok());
        assert_eq!(
            bearer("abc\ndef").validate().unwrap_err().field,
            "auth.token"
        );
        assert_eq!(bearer("a\rb").validate().unwrap_err().field, "auth.token");
        assert_eq!(bearer(" ").validate().unwrap_err().field, "auth.token");
        let basic = |u: &str, p: &str| OutboundAuth::Basic {
            username: u.to_owned(),
            password: p.to_owned(),
        };
        assert!(basic("user", "p:ss word").validate().is_ok());
        assert_eq!(
            basic("us:er", "p").validate().unwrap_err().field,
            "auth.username"
        );
        assert_eq!(
            basic("user", "p\u{0}").validate().unwrap_err().field,
            "auth"
        );
    }

    #[test]
    fn reserved_headers_are_refused() {
        let mut h = std::collections::BTreeMap::new();
        h.insert("X-Team".to_owned(), "a".to_owned());
        assert!(validate_headers(&h).is_ok());
        h.insert("Webhook-Id".to_owned(), "a".to_owned());
        assert!(validate_headers(&h).is_err());
    }
}
