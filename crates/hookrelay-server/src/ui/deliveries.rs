//! `GET /ui/deliveries`: the delivery log as a filtered, paginated table.

use axum::extract::State;
use axum::response::Html;
use hookrelay_store::model::{DeliveryFilter, DeliveryRecord, DeliveryStatus, PageRequest};
use serde::Deserialize;

use super::html::{UiError, escape, page, query_value, time};
use super::params::{self, non_empty};
use super::session::UiSession;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::tenancy;

/// Rows per page.
const PAGE_SIZE: u32 = 50;

/// The filters, as the form sends them (empty fields mean "any").
#[derive(Deserialize, Default)]
pub struct ListQuery {
    scope: Option<String>,
    endpoint: Option<String>,
    status: Option<String>,
    event: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/deliveries`: newest first; a scoped session sees only its scopes.
pub async fn list(
    State(state): State<AppState>,
    session: UiSession,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Html<String>, UiError> {
    let caller = &session.session.caller;
    let scope = non_empty(&q.scope);
    // The same rule as the API: naming a scope the session may not see is refused.
    if let Some(scope) = &scope {
        tenancy::scope(caller, scope)?;
    }
    let status = non_empty(&q.status)
        .map(|s| {
            DeliveryStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid_field("status", "use pending, succeeded or failed")
            })
        })
        .transpose()?;
    let filter = DeliveryFilter {
        scope: scope.clone(),
        endpoint: non_empty(&q.endpoint),
        event_id: non_empty(&q.event),
        status,
        event_type: non_empty(&q.event_type),
        since: params::time("since", &q.since)?,
        until: params::time("until", &q.until)?,
        allowed_scopes: caller.scopes.clone(),
    };
    let page_request = PageRequest {
        limit: PAGE_SIZE,
        cursor: non_empty(&q.cursor),
    };
    let found = state.store().list_deliveries(filter, page_request).await?;
    let mut body = String::from("<h1>Deliveries</h1>");
    body.push_str(&filters_form(&q));
    let filtered = [
        &q.scope,
        &q.endpoint,
        &q.status,
        &q.event,
        &q.event_type,
        &q.since,
        &q.until,
    ]
    .iter()
    .any(|v| non_empty(v).is_some());
    if found.data.is_empty() && filtered {
        body.push_str("<p>No deliveries match these filters.</p>");
    } else if found.data.is_empty() {
        body.push_str("<p>No deliveries yet — publish one with <code>hookrelay send …</code>.</p>");
    } else {
        body.push_str(&table(&found.data));
    }
    if let Some(next) = &found.next_cursor {
        body.push_str(&format!(
            "<p><a rel=\"next\" href=\"/ui/deliveries?{}\">Older deliveries →</a></p>",
            next_query(&q, next)
        ));
    }
    Ok(Html(page("Deliveries", Some(&session.session.csrf), &body)))
}

fn filters_form(q: &ListQuery) -> String {
    let field = |name: &str, label: &str, value: &Option<String>| {
        format!(
            "<label for=\"f-{name}\">{label}<input id=\"f-{name}\" name=\"{name}\" value=\"{}\"></label>",
            escape(value.as_deref().unwrap_or(""))
        )
    };
    let current = q.status.as_deref().unwrap_or("");
    let options: String = ["", "pending", "succeeded", "failed"]
        .iter()
        .map(|s| {
            let selected = if *s == current { " selected" } else { "" };
            let label = if s.is_empty() { "any" } else { s };
            format!("<option value=\"{s}\"{selected}>{label}</option>")
        })
        .collect();
    let when = |name: &str, label: &str, value: &Option<String>| {
        format!(
            "<label for=\"f-{name}\">{label}<input type=\"datetime-local\" id=\"f-{name}\" name=\"{name}\" value=\"{}\"></label>",
            escape(value.as_deref().unwrap_or(""))
        )
    };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/deliveries\">{}{}{}{}\
         <label for=\"f-status\">Status<select id=\"f-status\" name=\"status\">{options}</select></label>\
         {}{}<button type=\"submit\">Filter</button></form>",
        field("scope", "Scope", &q.scope),
        field("endpoint", "Endpoint", &q.endpoint),
        field("type", "Event type", &q.event_type),
        field("event", "Event id", &q.event),
        when("since", "From (UTC)", &q.since),
        when("until", "Until (UTC)", &q.until),
    )
}

fn table(rows: &[DeliveryRecord]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event type</th>\
         <th scope=\"col\">Scope / endpoint</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Attempts</th><th scope=\"col\">Next attempt</th></tr></thead><tbody>",
    );
    for d in rows {
        let next = d
            .next_attempt_at
            .filter(|_| d.status == DeliveryStatus::Pending)
            .map(time)
            .unwrap_or_else(|| "—".to_owned());
        out.push_str(&format!(
            "<tr><td><a href=\"/ui/deliveries/{id}\">{time}</a></td><td>{event_type}</td>\
             <td>{scope} / {endpoint}</td><td class=\"status-{status}\">{status}</td>\
             <td>{attempts}</td><td>{next}</td></tr>",
            id = escape(d.id.as_str()),
            time = time(d.created_at),
            event_type = escape(&d.event_type),
            scope = escape(&d.scope),
            endpoint = escape(&d.endpoint),
            status = d.status.as_str(),
            attempts = d.attempts,
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The query of the next page: the same filters and the new cursor.
fn next_query(q: &ListQuery, cursor: &str) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("scope", &q.scope),
        ("endpoint", &q.endpoint),
        ("status", &q.status),
        ("event", &q.event),
        ("type", &q.event_type),
        ("since", &q.since),
        ("until", &q.until),
    ] {
        if let Some(v) = non_empty(value) {
            parts.push(format!("{name}={}", query_value(&v)));
        }
    }
    parts.push(format!("cursor={}", query_value(cursor)));
    escape(&parts.join("&"))
}
