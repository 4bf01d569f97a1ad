//! `GET /ui/inbound/{source}/{id}`: one logged request with its headers (credentials
//! were redacted by the store before they were written) and its body (admin only).

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookrelay_store::model::InboundRecord;

use super::html::{UiError, escape, page, time};
use super::inbound::admin_only;
use super::inbound_requests::{colour, event_link, forwards, verification};
use super::json::pre;
use super::links::path_segment;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::error::ApiError;

/// `GET /ui/inbound/{source}/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    session: UiSession,
    Path((source, id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    if let Some(refused) = admin_only(&session) {
        return Ok(refused);
    }
    let r = state
        .store()
        .get_inbound(&source, &id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("request {id:?} of source {source:?} not found"))
        })?;
    let body = format!(
        "<p><a href=\"/ui/inbound/{source_link}\">← Requests to {source}</a></p>\
         <h1>Request {id}</h1>\
         <table><tbody>\
         <tr><th scope=\"row\">Received</th><td>{received}</td></tr>\
         <tr><th scope=\"row\">Status</th><td class=\"status-{colour}\">{status}</td></tr>\
         <tr><th scope=\"row\">Reason</th><td>{reason}</td></tr>\
         <tr><th scope=\"row\">Client IP</th><td>{ip}</td></tr>\
         <tr><th scope=\"row\">Verification</th><td>{verified}</td></tr>\
         <tr><th scope=\"row\">Dedupe key</th><td>{key}</td></tr>\
         <tr><th scope=\"row\">Forwards</th><td>{forwards}</td></tr>\
         <tr><th scope=\"row\">Event</th><td>{event}</td></tr>\
         </tbody></table>\
         <h2>Headers</h2>{headers}\
         <h2>Body ({size} bytes)</h2>{body}",
        source_link = escape(&path_segment(&source)),
        source = escape(&source),
        id = escape(r.id.as_str()),
        received = time(r.received_at),
        colour = colour(r.status),
        status = r.status.as_str(),
        reason = escape(r.reason.as_deref().unwrap_or("—")),
        ip = escape(r.client_ip.as_deref().unwrap_or("—")),
        verified = verification(&r),
        key = escape(r.dedupe_key.as_deref().unwrap_or("—")),
        forwards = forwards(&r.forwards),
        event = event_link(r.event_id.as_deref()),
        headers = headers(&r),
        size = r.body_size,
        body = body(&r),
    );
    let title = format!("Request {}", r.id.as_str());
    Ok(Html(page(&title, Some(&session.session.csrf), &body)).into_response())
}

/// The headers in the order they arrived (a name may repeat).
fn headers(r: &InboundRecord) -> String {
    let Some(pairs) = r.headers.as_ref().filter(|h| !h.is_empty()) else {
        return "<p>None recorded.</p>".to_owned();
    };
    let rows: String = pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(name),
                escape(value)
            )
        })
        .collect();
    format!(
        "<table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Value</th></tr></thead>\
         <tbody>{rows}</tbody></table>"
    )
}

/// JSON indented, other text as it came, and bytes that are not UTF-8 as base64 (what
/// the API answers too), all escaped.
fn body(r: &InboundRecord) -> String {
    match r.body.as_deref() {
        None | Some([]) => "<p>Empty.</p>".to_owned(),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => pre(text),
            Err(_) => format!(
                "<p>Not text; shown as base64.</p><pre>{}</pre>",
                escape(&STANDARD.encode(bytes))
            ),
        },
    }
}
