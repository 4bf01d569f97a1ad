//! `GET /ui/deliveries/{id}` (a delivery with every attempt) and
//! `POST /ui/deliveries/{id}/retry`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_store::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};

use super::csrf::{self, UiForm};
use super::html::{UiError, escape, page, query_value};
use super::session::{UiSession, see_other};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::auth::Caller;

/// The delivery if the session may see it; 404 otherwise, so other scopes' ids are not
/// even confirmed to exist (as in the API).
async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(DeliveryRecord, Vec<AttemptRecord>), UiError> {
    match state.store().get_delivery(id).await? {
        Some((d, attempts)) if caller.may_see(&d.scope) => Ok((d, attempts)),
        _ => Err(ApiError::not_found(format!("delivery {id:?} not found")).into()),
    }
}

/// `GET /ui/deliveries/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    session: UiSession,
    Path(id): Path<String>,
) -> Result<Html<String>, UiError> {
    let (d, attempts) = load(&state, &session.session.caller, &id).await?;
    let next = d
        .next_attempt_at
        .filter(|_| d.status == DeliveryStatus::Pending)
        .map(to_rfc3339)
        .unwrap_or_else(|| "—".to_owned());
    let mut body = format!(
        "<h1>Delivery {id}</h1>\
         <table><tbody>\
         <tr><th scope=\"row\">Status</th><td class=\"status-{status}\">{status}</td></tr>\
         <tr><th scope=\"row\">Event</th><td><a href=\"/ui/deliveries?event={event_q}\">{event}</a> ({event_type})</td></tr>\
         <tr><th scope=\"row\">Scope / endpoint</th><td>{scope} / {endpoint}</td></tr>\
         <tr><th scope=\"row\">Attempts</th><td>{count}</td></tr>\
         <tr><th scope=\"row\">Next attempt</th><td>{next}</td></tr>\
         <tr><th scope=\"row\">Last error</th><td>{last_error}</td></tr>\
         <tr><th scope=\"row\">Created</th><td>{created}</td></tr>\
         </tbody></table>\
         <form method=\"post\" action=\"/ui/deliveries/{id}/retry\">{csrf}\
         <p><button type=\"submit\">Retry now</button></p></form>\
         <h2>Attempts</h2>",
        id = escape(d.id.as_str()),
        status = d.status.as_str(),
        event_q = escape(&query_value(d.event_id.as_str())),
        event = escape(d.event_id.as_str()),
        event_type = escape(&d.event_type),
        scope = escape(&d.scope),
        endpoint = escape(&d.endpoint),
        count = d.attempts,
        next = escape(&next),
        last_error = escape(d.last_error.as_deref().unwrap_or("—")),
        created = escape(&to_rfc3339(d.created_at)),
        csrf = csrf::hidden_field(&session.session.csrf),
    );
    if attempts.is_empty() {
        body.push_str("<p>No attempts yet.</p>");
    }
    for a in &attempts {
        body.push_str(&attempt(a));
    }
    let title = format!("Delivery {}", d.id.as_str());
    Ok(Html(page(&title, Some(&session.session.csrf), &body)))
}

fn attempt(a: &AttemptRecord) -> String {
    let status = a
        .status_code
        .map_or_else(|| "no response".to_owned(), |s| s.to_string());
    let failed_over: String = a
        .failed_over
        .iter()
        .map(|f| format!("<li>{}: {}</li>", escape(&f.url), escape(&f.error)))
        .collect();
    let failed_over = if failed_over.is_empty() {
        String::new()
    } else {
        format!("<p>Failed over from:</p><ul>{failed_over}</ul>")
    };
    format!(
        "<section><h3>Attempt {n}</h3><table><tbody>\
         <tr><th scope=\"row\">At</th><td>{at}</td></tr>\
         <tr><th scope=\"row\">URL</th><td>{url}</td></tr>\
         <tr><th scope=\"row\">Response status</th><td>{status}</td></tr>\
         <tr><th scope=\"row\">Duration</th><td>{duration} ms</td></tr>\
         <tr><th scope=\"row\">Error</th><td>{error}</td></tr>\
         </tbody></table>{failed_over}\
         <h4>Request headers</h4>{request_headers}\
         <h4>Response headers</h4>{response_headers}\
         <h4>Response body</h4><pre>{body}</pre></section>",
        n = a.n,
        at = escape(&to_rfc3339(a.at)),
        url = escape(&a.url),
        status = escape(&status),
        duration = a.duration_ms,
        error = escape(a.error.as_deref().unwrap_or("—")),
        request_headers = headers(&a.request_headers),
        response_headers = headers(&a.response_headers),
        body = escape(&pretty(a.response_body.as_deref().unwrap_or(""))),
    )
}

fn headers(h: &BTreeMap<String, String>) -> String {
    if h.is_empty() {
        return "<p>None.</p>".to_owned();
    }
    let rows: String = h
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!("<table><tbody>{rows}</tbody></table>")
}

/// A JSON body indented for reading; anything else as it came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned())
}

/// `POST /ui/deliveries/{id}/retry`: what `POST /api/v1/deliveries/{id}/retry` does (one
/// more attempt, now), then back to the delivery.
pub async fn retry(
    State(state): State<AppState>,
    session: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: UiForm,
) -> Result<Response, UiError> {
    if let Err(refused) = csrf::check(&headers, &form, &session.session.csrf) {
        return Ok(refused.into_response());
    }
    let (delivery, _) = load(&state, &session.session.caller, &id).await?;
    let now = now_ms();
    let record = state.store().retry_delivery(&delivery.id, now).await?;
    state.schedule(vec![record.id.clone()], now);
    Ok(see_other(&format!(
        "/ui/deliveries/{}",
        query_value(record.id.as_str())
    ))
    .into_response())
}
