//! `GET /ui/events`: the event log as a filtered, paginated table, and a "find" field
//! that takes an event id (`evt_…`) or an idempotency key.

use axum::extract::State;
use axum::response::Html;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_store::model::{EventFilter, EventRecord, PageRequest};
use serde::Deserialize;

use super::html::{UiError, escape, page, query_value, time};
use super::links::{next_page, path_segment};
use super::params::{self, non_empty, time_input};
use super::session::UiSession;
use crate::app::AppState;
use crate::auth::Caller;
use crate::http::extract::ApiQuery;
use crate::tenancy;

/// Rows per page.
const PAGE_SIZE: u32 = 50;

/// The filters, as the form sends them (empty fields mean "any").
#[derive(Deserialize, Default)]
pub struct ListQuery {
    scope: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// An event id, or else an idempotency key.
    find: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/events`: newest first; a scoped session sees only events of its scopes.
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
    let since = params::time("since", &q.since)?;
    let until = params::time("until", &q.until)?;
    let find = non_empty(&q.find);
    let filter = EventFilter {
        scope,
        event_type: non_empty(&q.event_type),
        since,
        until,
        idempotency_key: find.clone().filter(|f| !is_event_id(f)),
        allowed_scopes: caller.scopes.clone(),
    };
    let (rows, next_cursor) = match find.filter(|f| is_event_id(f)) {
        Some(id) => (by_id(&state, caller, &id, &filter).await?, None),
        None => {
            let page_request = PageRequest {
                limit: PAGE_SIZE,
                cursor: non_empty(&q.cursor),
            };
            let found = state.store().list_events(filter, page_request).await?;
            (found.data, found.next_cursor)
        }
    };

    let mut body = String::from("<h1>Events</h1>");
    body.push_str(&super::history::retention_note(state.config()));
    body.push_str(&filters_form(&q, since, until));
    if rows.is_empty() {
        body.push_str(&empty_state(&q));
    } else {
        body.push_str(&table(&rows, caller));
    }
    if let Some(next) = &next_cursor {
        body.push_str(&next_page(
            "/ui/events",
            &[
                ("scope", q.scope.as_deref()),
                ("type", q.event_type.as_deref()),
                ("since", q.since.as_deref()),
                ("until", q.until.as_deref()),
                ("find", q.find.as_deref()),
            ],
            next,
            "Older events →",
        ));
    }
    Ok(Html(page("Events", Some(&session.session.csrf), &body)))
}

/// Event ids look like `evt_…`; anything else typed into "find" is an idempotency key.
fn is_event_id(text: &str) -> bool {
    text.starts_with("evt_")
}

/// The one event with this id, if the session may see it and it passes the other
/// filters (so "find" narrows the list like every other field).
async fn by_id(
    state: &AppState,
    caller: &Caller,
    id: &str,
    filter: &EventFilter,
) -> Result<Vec<EventRecord>, UiError> {
    let found = state
        .store()
        .get_event(id, caller.scopes.as_deref())
        .await?;
    Ok(found
        .filter(|e| filter.scope.as_ref().is_none_or(|s| e.scopes.contains(s)))
        .filter(|e| {
            filter
                .event_type
                .as_ref()
                .is_none_or(|t| *t == e.event_type)
        })
        .filter(|e| filter.since.is_none_or(|t| e.created_at >= t))
        .filter(|e| filter.until.is_none_or(|t| e.created_at < t))
        .into_iter()
        .collect())
}

fn empty_state(q: &ListQuery) -> String {
    let filtered = [&q.scope, &q.event_type, &q.since, &q.until, &q.find]
        .iter()
        .any(|v| non_empty(v).is_some());
    if filtered {
        "<p>No events match these filters. <a href=\"/ui/events\">Show all events</a>.</p>"
            .to_owned()
    } else {
        "<p>No events yet. Publish one with \
         <code>hookrelay send order.paid --scope biz:biz1 --data '{\"amount\":42}'</code> \
         or <code>POST /api/v1/events</code>; its types are listed under \
         <a href=\"/ui/catalog\">Event types</a>.</p>"
            .to_owned()
    }
}

fn filters_form(q: &ListQuery, since: Option<i64>, until: Option<i64>) -> String {
    let field = |name: &str, label: &str, value: &Option<String>, extra: &str| {
        format!(
            "<label for=\"f-{name}\">{label}<input id=\"f-{name}\" name=\"{name}\" value=\"{}\"{extra}></label>",
            escape(value.as_deref().unwrap_or(""))
        )
    };
    // A time the form parsed is shown in the input's own format; one it could not
    // parse never gets here (the page is a 422).
    let shown = |parsed: Option<i64>| parsed.map(input_value);
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/events\">{}{}{}{}{}\
         <button type=\"submit\">Filter</button></form>",
        field("scope", "Scope", &q.scope, ""),
        field("type", "Event type", &q.event_type, ""),
        field(
            "since",
            "Since (UTC)",
            &shown(since),
            " type=\"datetime-local\" step=\"any\""
        ),
        field(
            "until",
            "Until (UTC)",
            &shown(until),
            " type=\"datetime-local\" step=\"any\""
        ),
        field(
            "find",
            "Event id or idempotency key",
            &q.find,
            " type=\"search\""
        ),
    )
}

/// A time as a `datetime-local` value: to the minute when that is exact, else with the
/// seconds and milliseconds a pasted RFC 3339 time had, so submitting the form again
/// keeps the same range.
fn input_value(ms: i64) -> String {
    let full = to_rfc3339(ms);
    let local = full.trim_end_matches('Z');
    if local.ends_with(":00") {
        time_input(ms)
    } else {
        local.to_owned()
    }
}

fn table(rows: &[EventRecord], caller: &Caller) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">Scopes</th>\
         <th scope=\"col\">Idempotency key</th></tr></thead><tbody>",
    );
    for e in rows {
        out.push_str(&format!(
            "<tr><td>{time}</td><td><a href=\"/ui/events/{link}\">{id}</a></td>\
             <td><a href=\"/ui/catalog/{type_link}\">{event_type}</a></td>\
             <td>{scopes}</td><td>{key}</td></tr>",
            time = time(e.created_at),
            link = escape(&path_segment(e.id.as_str())),
            id = escape(e.id.as_str()),
            type_link = escape(&path_segment(&e.event_type)),
            event_type = escape(&e.event_type),
            scopes = scope_links(&e.scopes, caller),
            key = escape(e.idempotency_key.as_deref().unwrap_or("—")),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The event's scopes the session may see, each a link to that scope's events. Other
/// tenants' scopes are left out, so a scoped session never learns their names.
pub fn scope_links(scopes: &[String], caller: &Caller) -> String {
    scopes
        .iter()
        .filter(|s| caller.may_see(s))
        .map(|s| scope_link(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A link to the events of `scope`.
pub fn scope_link(scope: &str) -> String {
    format!(
        "<a href=\"/ui/events?scope={}\">{}</a>",
        escape(&query_value(scope)),
        escape(scope)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_go_back_into_the_form_as_exactly_as_they_came() {
        let minute = hookrelay_core::clock::parse_rfc3339("2026-12-01T10:30:00Z").unwrap();
        assert_eq!(input_value(minute), "2026-12-01T10:30");
        assert_eq!(input_value(minute + 15_250), "2026-12-01T10:30:15.25");
        assert!(is_event_id("evt_01") && !is_event_id("order-42"));
    }
}
