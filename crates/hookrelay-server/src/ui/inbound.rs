//! `GET /ui/inbound`: the inbound gateway's sources, and the admin-only rule every
//! inbound page shares (as `/api/v1/sources` is admin-only: a source's log holds
//! requests from every provider, whatever scope they end up in).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hookrelay_core::source::SourceSpec;
use hookrelay_store::model::{PageRequest, SourceRecord};
use serde::Deserialize;

use super::html::{UiError, escape, page};
use super::links::{next_page, path_segment};
use super::params::non_empty;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::extract::ApiQuery;

/// Sources per page.
const PAGE_SIZE: u32 = 50;

/// The cursor.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
}

/// `None` for an admin session; otherwise the 403 page a scoped session gets.
pub fn admin_only(session: &UiSession) -> Option<Response> {
    if session.session.caller.is_admin() {
        return None;
    }
    let body = "<h1>Inbound sources are admin-only</h1>\
        <p class=\"error\">Inbound sources and their request logs need the admin token: \
        log out and log in with it to see them.</p>\
        <p>Your token can see <a href=\"/ui/events\">events</a> and \
        <a href=\"/ui/deliveries\">deliveries</a> of its scopes.</p>";
    let html = page("Inbound", Some(&session.session.csrf), body);
    Some((StatusCode::FORBIDDEN, Html(html)).into_response())
}

/// `GET /ui/inbound`: sources by name (admin only).
pub async fn list(
    State(state): State<AppState>,
    session: UiSession,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, UiError> {
    if let Some(refused) = admin_only(&session) {
        return Ok(refused);
    }
    let page_request = PageRequest {
        limit: PAGE_SIZE,
        cursor: non_empty(&q.cursor),
    };
    let found = state.store().list_sources(page_request).await?;
    let mut body = String::from("<h1>Inbound sources</h1>");
    if found.data.is_empty() {
        body.push_str(EMPTY);
    } else {
        body.push_str(&table(&found.data));
    }
    if let Some(next) = &found.next_cursor {
        body.push_str(&next_page("/ui/inbound", &[], next, "More sources →"));
    }
    Ok(Html(page("Inbound sources", Some(&session.session.csrf), &body)).into_response())
}

/// What to do when there is no source yet (there is no CLI command for sources).
const EMPTY: &str = "<p>No inbound sources yet. A source receives a provider's webhooks \
    at <code>POST /in/{name}</code>, verifies them, and forwards or publishes them. \
    Create one with <code>PUT /api/v1/sources/{name}</code> and the admin token, e.g.</p>\
    <pre>curl -X PUT http://127.0.0.1:8080/api/v1/sources/github \\\n  \
    -H \"Authorization: Bearer $HOOKRELAY_TOKEN\" -H 'content-type: application/json' \\\n  \
    -d '{\"verify\":{\"type\":\"github\",\"secrets\":[\"…\"]},\"forward_to\":[\"https://internal.example/hooks\"]}'</pre>";

fn table(rows: &[SourceRecord]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Receives at</th>\
         <th scope=\"col\">Verification</th><th scope=\"col\">Forwards to</th>\
         <th scope=\"col\">Publishes</th><th scope=\"col\">Enabled</th>\
         <th scope=\"col\">Requests</th></tr></thead><tbody>",
    );
    for s in rows {
        let link = escape(&path_segment(&s.name));
        out.push_str(&format!(
            "<tr><th scope=\"row\">{name}</th><td><code>/in/{name}</code></td><td>{verify}</td>\
             <td>{forwards}</td><td>{publish}</td><td>{enabled}</td>\
             <td><a href=\"/ui/inbound/{link}\">{name} request log</a></td></tr>",
            name = escape(&s.name),
            verify = escape(s.spec.verify.name()),
            forwards = forwards(&s.spec),
            publish = publish(&s.spec),
            enabled = if s.spec.enabled { "yes" } else { "no" },
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The `forward_to` URLs, one per line.
fn forwards(spec: &SourceSpec) -> String {
    if spec.forward_to.is_empty() {
        return "—".to_owned();
    }
    spec.forward_to
        .iter()
        .map(|u| escape(u))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Where `publish` takes the event type from and which scopes get the events.
fn publish(spec: &SourceSpec) -> String {
    let Some(p) = &spec.publish else {
        return "—".to_owned();
    };
    let from = match (&p.type_header, &p.type_path) {
        (Some(h), _) => format!("type from header <code>{}</code>", escape(h)),
        (_, Some(path)) => format!("type from body <code>{}</code>", escape(path)),
        _ => "type not configured".to_owned(),
    };
    let prefix = if p.type_prefix.is_empty() {
        String::new()
    } else {
        format!(" (prefixed <code>{}</code>)", escape(&p.type_prefix))
    };
    let scopes = p
        .scopes
        .iter()
        .map(|s| super::events::scope_link(s))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{from}{prefix} to {scopes}")
}
