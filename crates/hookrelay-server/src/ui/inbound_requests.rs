//! `GET /ui/inbound/{source}`: one source's request log, newest first, filtered by
//! status and paginated (admin only, as `GET /api/v1/sources/{name}/requests`).

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use hookrelay_store::model::{ForwardRecord, InboundRecord, InboundStatus, PageRequest};
use serde::Deserialize;

use super::html::{UiError, escape, page, time};
use super::inbound::admin_only;
use super::links::{next_page, path_segment};
use super::params::non_empty;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;

/// Rows per page.
const PAGE_SIZE: u32 = 50;

/// The filter, as the form sends it (empty means any).
#[derive(Deserialize, Default)]
pub struct LogQuery {
    status: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/inbound/{source}`.
pub async fn list(
    State(state): State<AppState>,
    session: UiSession,
    Path(source): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Response, UiError> {
    if let Some(refused) = admin_only(&session) {
        return Ok(refused);
    }
    if state.store().get_source(&source).await?.is_none() {
        return Err(ApiError::not_found(format!("source {source:?} not found")).into());
    }
    let status = non_empty(&q.status)
        .map(|s| {
            InboundStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid_field("status", "use accepted, rejected or duplicate")
            })
        })
        .transpose()?;
    let page_request = PageRequest {
        limit: PAGE_SIZE,
        cursor: non_empty(&q.cursor),
    };
    let found = state
        .store()
        .list_inbound(&source, status, page_request)
        .await?;

    let link = path_segment(&source);
    let mut body = format!(
        "<p><a href=\"/ui/inbound\">← All sources</a></p>\
         <h1>Requests to <code>{name}</code></h1>\
         <p>Received at <code>POST /in/{name}</code>.</p>",
        name = escape(&source),
    );
    body.push_str(&filters_form(&link, q.status.as_deref().unwrap_or("")));
    if found.data.is_empty() {
        body.push_str(&if status.is_some() {
            "<p>No requests with this status.</p>".to_owned()
        } else {
            format!(
                "<p>No requests yet. Point the provider's webhook URL at \
                 <code>POST /in/{}</code> on this server; each request shows up here, \
                 accepted or not.</p>",
                escape(&source)
            )
        });
    } else {
        body.push_str(&table(&link, &found.data));
    }
    if let Some(next) = &found.next_cursor {
        body.push_str(&next_page(
            &format!("/ui/inbound/{link}"),
            &[("status", q.status.as_deref())],
            next,
            "Older requests →",
        ));
    }
    let title = format!("Requests to {source}");
    Ok(Html(page(&title, Some(&session.session.csrf), &body)).into_response())
}

fn filters_form(link: &str, current: &str) -> String {
    let options: String = ["", "accepted", "rejected", "duplicate"]
        .iter()
        .map(|s| {
            let selected = if *s == current { " selected" } else { "" };
            let label = if s.is_empty() { "any" } else { s };
            format!("<option value=\"{s}\"{selected}>{label}</option>")
        })
        .collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/inbound/{}\">\
         <label for=\"f-status\">Status<select id=\"f-status\" name=\"status\">{options}</select></label>\
         <button type=\"submit\">Filter</button></form>",
        escape(link)
    )
}

fn table(link: &str, rows: &[InboundRecord]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Reason</th><th scope=\"col\">Client IP</th>\
         <th scope=\"col\">Verification</th><th scope=\"col\">Dedupe key</th>\
         <th scope=\"col\">Forwards</th><th scope=\"col\">Event</th></tr></thead><tbody>",
    );
    for r in rows {
        out.push_str(&format!(
            "<tr><td><a href=\"/ui/inbound/{source}/{id}\">{time}</a></td>\
             <td class=\"status-{colour}\">{status}</td><td>{reason}</td><td>{ip}</td>\
             <td>{verified}</td><td>{key}</td><td>{forwards}</td><td>{event}</td></tr>",
            source = escape(link),
            id = escape(&path_segment(r.id.as_str())),
            time = time(r.received_at),
            status = r.status.as_str(),
            colour = colour(r.status),
            reason = escape(r.reason.as_deref().unwrap_or("—")),
            ip = escape(r.client_ip.as_deref().unwrap_or("—")),
            verified = verification(r),
            key = escape(r.dedupe_key.as_deref().unwrap_or("—")),
            forwards = forwards(&r.forwards),
            event = event_link(r.event_id.as_deref()),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The delivery status whose colour fits: green accepted, red rejected, amber duplicate.
pub fn colour(status: InboundStatus) -> &'static str {
    match status {
        InboundStatus::Accepted => "succeeded",
        InboundStatus::Rejected => "failed",
        InboundStatus::Duplicate => "pending",
    }
}

/// What the signature check said: the scheme that passed, or that none did.
pub fn verification(r: &InboundRecord) -> String {
    match r.verified.as_deref() {
        // A source may accept unsigned requests (`none`, usually with `allowed_ips`).
        Some("none") => "not required (none)".to_owned(),
        Some(scheme) => format!("verified ({})", escape(scheme)),
        None => "not verified".to_owned(),
    }
}

/// Each forward as a link to its delivery, with where it went and how it stands.
pub fn forwards(list: &[ForwardRecord]) -> String {
    if list.is_empty() {
        return "—".to_owned();
    }
    list.iter()
        .map(|f| {
            let to = f
                .url
                .as_deref()
                .map(|u| format!(" → {}", escape(u)))
                .unwrap_or_default();
            format!(
                "<a href=\"/ui/deliveries/{link}\">{endpoint}</a>{to}: \
                 <span class=\"status-{status}\">{status}</span>",
                link = escape(&path_segment(f.delivery_id.as_str())),
                endpoint = escape(&f.endpoint),
                status = f.status.as_str(),
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// A link to the event a request was published as.
pub fn event_link(event_id: Option<&str>) -> String {
    match event_id {
        Some(id) => format!(
            "<a href=\"/ui/events/{}\">{}</a>",
            escape(&path_segment(id)),
            escape(id)
        ),
        None => "—".to_owned(),
    }
}
