//! HTML building blocks: escaping, the page shell, and error pages.
//!
//! Pages are plain `format!` strings; every value that comes from the store or the
//! request goes through [`escape`] first.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::http::error::ApiError;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for a query string.
pub fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Small and inline: the dashboard loads nothing from anywhere else.
const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1c1c1c;background:#fafafa}\
nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;padding:.6rem 1rem;background:#22303c;color:#fff}\
nav a{color:#fff}nav form{margin-left:auto}\
nav button{color:#fff;background:none;border:1px solid currentColor;border-radius:3px;font:inherit;cursor:pointer}\
main{max-width:1200px;margin:0 auto;padding:1rem}\
table{border-collapse:collapse;width:100%;background:#fff}\
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}\
h1,pre,.wrap{overflow-wrap:anywhere}th,td{overflow-wrap:break-word}\
pre{white-space:pre-wrap;word-break:break-all;background:#f0f0f0;padding:.5rem;max-height:24rem;overflow:auto}\
.status-failed{color:#b00020}.status-succeeded{color:#1b7f3b}.status-pending{color:#8a6d00}\
.error{color:#b00020;font-weight:600}form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}\
label{display:flex;flex-direction:column;font-size:.85rem}\
section{margin:1.2rem 0}.chart{width:100%;max-width:900px;height:auto;background:#fff}\
.chart .ok{fill:#1b7f3b}.chart .bad{fill:#b00020}.chart text{font-size:10px;fill:#555}\
.notice{background:#e8f4ea;border-left:4px solid #1b7f3b;padding:.4rem .6rem}\
.actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end}.actions form{margin:0}\
td.actions form{margin:.15rem 0}input.secret{font-family:monospace;max-width:100%}\
@media (max-width:640px){table,thead,tbody,tr,th,td{display:block}thead{display:none}th,td{overflow-wrap:anywhere}\
td{border:0;padding:.15rem .5rem}tr{border-bottom:1px solid #ccc;padding:.4rem 0}}";

/// The sections, in the order the navigation lists them.
const NAV_LINKS: &str = "<a href=\"/ui/overview\">Overview</a>\
     <a href=\"/ui/endpoints\">Endpoints</a><a href=\"/ui/events\">Events</a>\
     <a href=\"/ui/deliveries\">Deliveries</a><a href=\"/ui/catalog\">Event types</a>\
     <a href=\"/ui/inbound\">Inbound</a>";

/// A time for people: `2026-12-01 10:30:15` UTC, machine-readable in `datetime`.
pub fn time(ms: i64) -> String {
    let full = hookrelay_core::clock::to_rfc3339(ms);
    let shown: String = full.chars().take(19).collect::<String>().replace('T', " ");
    format!("<time datetime=\"{full}\">{shown}</time>")
}

/// A whole page: `title`, and `body` (already escaped HTML) inside `<main>`.
/// `logout_csrf` adds the navigation with a logout form when someone is logged in.
pub fn page(title: &str, logout_csrf: Option<&str>, body: &str) -> String {
    let nav = match logout_csrf {
        Some(csrf) => format!(
            "<nav><strong>Hookrelay</strong>{NAV_LINKS}<form method=\"post\" action=\"/ui/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Log out</button></form></nav>",
            escape(csrf)
        ),
        None => "<nav><strong>Hookrelay</strong></nav>".to_owned(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Hookrelay</title><style>{STYLE}</style></head>\
         <body>{nav}<main>{body}</main></body></html>",
        escape(title)
    )
}

/// An error answered as an HTML page with the error's status.
#[derive(Debug)]
pub struct UiError(pub ApiError);

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<hookrelay_store::StoreError> for UiError {
    fn from(e: hookrelay_store::StoreError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            // Let the API's error type log the cause, then answer with a page instead.
            drop(self.0.into_response());
            return html(
                status,
                "Error",
                "<h1>Something went wrong</h1><p>Try again.</p>",
            );
        }
        let body = format!(
            "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/ui/deliveries\">Back to deliveries</a></p>",
            escape(status.canonical_reason().unwrap_or("Error")),
            escape(self.0.message())
        );
        html(status, "Error", &body)
    }
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(page(title, None, body))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(query_value("a b&c"), "a+b%26c");
    }
}
