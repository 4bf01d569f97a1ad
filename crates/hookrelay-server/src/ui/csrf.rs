//! Cross-site request forgery defences for the dashboard's forms: a per-session token in
//! a hidden field, compared in constant time, and a same-origin check on `Origin`.
//!
//! `SameSite=Strict` already keeps the cookie off cross-site requests in current
//! browsers; these checks are the second line for older ones and for same-site attackers.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use subtle::ConstantTimeEq;

use axum::response::{Html, IntoResponse, Response};

use super::html::{UiError, escape, page};
use crate::app::AppState;
use crate::http::extract::read_body;

/// The name of the hidden field that carries the CSRF token.
pub const FIELD: &str = "csrf";

/// A `application/x-www-form-urlencoded` body as name → value (the last one wins).
pub struct UiForm(pub HashMap<String, String>);

impl FromRequest<AppState> for UiForm {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        Ok(UiForm(
            url::form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}

impl UiForm {
    /// A field's value, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The hidden input every state-changing form carries.
pub fn hidden_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{FIELD}\" value=\"{}\">",
        escape(token)
    )
}

/// 403 unless the form carries the session's token and any `Origin` is this server.
pub fn check(headers: &HeaderMap, form: &UiForm, expected: &str) -> Result<(), Refused> {
    if !same_origin(headers) {
        return Err(Refused("This request came from another site."));
    }
    let sent = form.get(FIELD).unwrap_or("");
    if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) && !sent.is_empty() {
        Ok(())
    } else {
        Err(Refused(
            "The form's security token is missing or wrong. Reload the page and try again.",
        ))
    }
}

/// A POST without an `Origin` passes (older browsers and CLI tools send none; the token
/// still guards it). One with an `Origin` must name the host the request was sent to —
/// comparing with `Host` rather than a configured URL keeps this right behind proxies
/// that keep the host, whatever port or scheme the server is reached on.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Some(origin), Some(host)) = (
        origin.to_str().ok(),
        headers.get(HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// A refused form: answered 403 with a page that says why.
#[derive(Debug)]
pub struct Refused(pub &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = format!(
            "<h1>Forbidden</h1><p class=\"error\">{}</p><p><a href=\"/ui/deliveries\">Back to deliveries</a></p>",
            escape(self.0)
        );
        (StatusCode::FORBIDDEN, Html(page("Forbidden", None, &body))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, "127.0.0.1:8080".parse().unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_must_be_this_host() {
        assert!(same_origin(&headers(None)));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"))));
        assert!(!same_origin(&headers(Some("http://evil.example"))));
        assert!(!same_origin(&headers(Some("null"))));
    }

    #[test]
    fn the_token_must_match() {
        let form = |v: &str| UiForm([(FIELD.to_owned(), v.to_owned())].into());
        assert!(check(&headers(None), &form("abc"), "abc").is_ok());
        assert!(check(&headers(None), &form("abd"), "abc").is_err());
        assert!(check(&headers(None), &form(""), "").is_err());
        assert!(check(&headers(None), &UiForm(HashMap::new()), "abc").is_err());
    }
}
