//! `GET /ui/deliveries/{id}` (a delivery with its request body and every attempt),
//! `POST /ui/deliveries/{id}/retry` and `POST /ui/deliveries/{id}/recover`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_core::envelope;
use hookrelay_core::scope::Scope;
use hookrelay_store::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};

use super::csrf::{self, UiForm};
use super::html::{UiError, escape, page, query_value, time};
use super::session::{UiSession, see_other};
use super::{json, params};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::tenancy;

/// `GET /ui/deliveries/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    session: UiSession,
    Path(id): Path<String>,
) -> Result<Html<String>, UiError> {
    let (d, attempts) = tenancy::delivery(&state, &session.session.caller, &id).await?;
    let next = d
        .next_attempt_at
        .filter(|_| d.status == DeliveryStatus::Pending)
        .map(time)
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
         <div class=\"actions\"><form method=\"post\" action=\"/ui/deliveries/{id}/retry\">{csrf}\
         <button type=\"submit\">Retry now</button></form>\
         <form method=\"post\" action=\"/ui/deliveries/{id}/recover\">{csrf}\
         <label for=\"recover-since\">Failed deliveries to {endpoint} since (UTC)\
         <input type=\"datetime-local\" id=\"recover-since\" name=\"since\" value=\"{since}\" required></label>\
         <button type=\"submit\">Recover them</button></form></div>\
         <h2>Request body</h2>{request_body}\
         <h2>Attempts</h2>",
        id = escape(d.id.as_str()),
        status = d.status.as_str(),
        event_q = escape(&query_value(d.event_id.as_str())),
        event = escape(d.event_id.as_str()),
        event_type = escape(&d.event_type),
        scope = escape(&d.scope),
        endpoint = escape(&d.endpoint),
        count = d.attempts,
        last_error = escape(d.last_error.as_deref().unwrap_or("—")),
        created = time(d.created_at),
        csrf = csrf::hidden_field(&session.session.csrf),
        since = escape(&params::time_input(d.created_at)),
        request_body = request_body(&state, &d).await?,
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

/// The body every attempt sends: the Standard Webhooks envelope of the event, or for a
/// forward, the inbound request's body as received.
async fn request_body(state: &AppState, d: &DeliveryRecord) -> Result<String, UiError> {
    // The delivery's own scope: the caller may see it, or it would not have been loaded.
    let own_scope = [d.scope.clone()];
    if let Some(event) = state
        .store()
        .get_event(d.event_id.as_str(), Some(&own_scope))
        .await?
    {
        let body = envelope::render(
            event.id.as_str(),
            &event.event_type,
            &to_rfc3339(event.created_at),
            &d.scope,
            &event.data,
        );
        return Ok(json::pre(&String::from_utf8_lossy(&body)));
    }
    if let Some(source) = d.scope.strip_prefix("inbound:")
        && let Some(request) = state
            .store()
            .get_inbound(source, d.event_id.as_str())
            .await?
        && let Some(body) = request.body
    {
        return Ok(json::pre(&String::from_utf8_lossy(&body)));
    }
    Ok("<p>Not kept.</p>".to_owned())
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
         <tr><th scope=\"row\">URL</th><td class=\"wrap\">{url}</td></tr>\
         <tr><th scope=\"row\">Response status</th><td>{status}</td></tr>\
         <tr><th scope=\"row\">Duration</th><td>{duration} ms</td></tr>\
         <tr><th scope=\"row\">Error</th><td>{error}</td></tr>\
         </tbody></table>{failed_over}\
         <h4>Request headers</h4>{request_headers}\
         <h4>Response headers</h4>{response_headers}\
         <h4>Response body</h4><pre>{body}</pre></section>",
        n = a.n,
        at = time(a.at),
        url = escape(&a.url),
        status = escape(&status),
        duration = a.duration_ms,
        error = escape(a.error.as_deref().unwrap_or("—")),
        request_headers = headers(&a.request_headers),
        response_headers = headers(&a.response_headers),
        body = escape(&json::pretty_text(a.response_body.as_deref().unwrap_or(""))),
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
                "<tr><th scope=\"row\">{}</th><td class=\"wrap\">{}</td></tr>",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!("<table><tbody>{rows}</tbody></table>")
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
    let (delivery, _) = tenancy::delivery(&state, &session.session.caller, &id).await?;
    let now = now_ms();
    let record = state.store().retry_delivery(&delivery.id, now).await?;
    state.schedule(vec![record.id.clone()], now);
    Ok(see_other(&format!(
        "/ui/deliveries/{}",
        query_value(record.id.as_str())
    ))
    .into_response())
}

/// `POST /ui/deliveries/{id}/recover`: what `POST …/endpoints/{code}/recover` does for
/// this delivery's endpoint (its failed deliveries created since `since` are sent
/// again), then the endpoint's deliveries from that time on.
pub async fn recover(
    State(state): State<AppState>,
    session: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: UiForm,
) -> Result<Response, UiError> {
    if let Err(refused) = csrf::check(&headers, &form, &session.session.csrf) {
        return Ok(refused.into_response());
    }
    let (delivery, _) = tenancy::delivery(&state, &session.session.caller, &id).await?;
    let since = params::time("since", &form.get("since").map(str::to_owned))?
        .ok_or_else(|| ApiError::invalid_field("since", "say since when to recover"))?;
    let scope = Scope::parse(&delivery.scope).map_err(ApiError::from)?;
    let now = now_ms();
    let ids = state
        .store()
        .recover_endpoint(&scope, &delivery.endpoint, since, now)
        .await?;
    tracing::info!(scope = %scope, endpoint = %delivery.endpoint, recovered = ids.len(), "failed deliveries recovered from the dashboard");
    state.schedule(ids, now);
    Ok(see_other(&format!(
        "/ui/deliveries?scope={}&endpoint={}&since={}",
        query_value(scope.as_str()),
        query_value(&delivery.endpoint),
        query_value(&params::time_input(since)),
    ))
    .into_response())
}
