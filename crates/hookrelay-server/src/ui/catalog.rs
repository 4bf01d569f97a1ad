//! `GET /ui/catalog` (every event type with its schema and an example payload) and
//! `GET /ui/catalog/{code}` (one type, archived or not).
//!
//! Like `GET /api/v1/event-types`, the registry is open to every logged-in session: a
//! scoped token's integrators need to know what they can receive.

use axum::extract::{Path, State};
use axum::response::Html;
use hookrelay_core::example::example;
use hookrelay_core::operational::{SYSTEM_SCOPE, is_builtin};
use hookrelay_store::model::{EventTypeRecord, PageRequest};
use serde::Deserialize;

use super::html::{UiError, escape, page};
use super::json::pretty;
use super::links::{next_page, path_segment};
use super::params::non_empty;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, flag};

/// Types per page.
const PAGE_SIZE: u32 = 50;

/// `?archived=true` and the cursor.
#[derive(Deserialize, Default)]
pub struct CatalogQuery {
    archived: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/catalog`: the types in code order, the built-in operational ones apart.
pub async fn list(
    State(state): State<AppState>,
    session: UiSession,
    ApiQuery(q): ApiQuery<CatalogQuery>,
) -> Result<Html<String>, UiError> {
    let include_archived = flag("archived", q.archived.as_deref())?;
    let cursor = non_empty(&q.cursor);
    let first_page = cursor.is_none();
    let found = state
        .store()
        .list_event_types(
            include_archived,
            PageRequest {
                limit: PAGE_SIZE,
                cursor,
            },
        )
        .await?;
    let (builtin, own): (Vec<_>, Vec<_>) = found.data.iter().partition(|t| is_builtin(&t.code));

    let mut body = String::from("<h1>Event types</h1>");
    body.push_str(&filters_form(include_archived));
    if own.is_empty() && first_page && found.next_cursor.is_none() {
        body.push_str(
            "<p>No event types registered yet. Describe them in a YAML file \
             (<code>version: 1</code>, <code>events: [{code, name, description, schema}]</code>) \
             and run <code>hookrelay event-types sync webhook_events.yaml</code>, or \
             <code>PUT /api/v1/event-types/{code}</code> one at a time.</p>",
        );
    } else if !own.is_empty() {
        body.push_str(&contents(&own));
        for t in &own {
            body.push_str(&section(t, "h2"));
        }
    }
    if !builtin.is_empty() {
        body.push_str(&format!(
            "<h2 id=\"operational\">Operational event types</h2>\
             <p>Hookrelay publishes these itself, into the scope <code>{}</code>: subscribe an \
             endpoint of that scope to be alerted.</p>",
            escape(SYSTEM_SCOPE)
        ));
        for t in &builtin {
            body.push_str(&section(t, "h3"));
        }
    }
    if let Some(next) = &found.next_cursor {
        let archived = include_archived.then_some("true");
        body.push_str(&next_page(
            "/ui/catalog",
            &[("archived", archived)],
            next,
            "More event types →",
        ));
    }
    Ok(Html(page(
        "Event types",
        Some(&session.session.csrf),
        &body,
    )))
}

/// `GET /ui/catalog/{code}`: one type, also when archived (old events link here).
pub async fn detail(
    State(state): State<AppState>,
    session: UiSession,
    Path(code): Path<String>,
) -> Result<Html<String>, UiError> {
    let found = state.store().get_event_type(&code).await?;
    let t = found.ok_or_else(|| ApiError::not_found(format!("event type {code:?} not found")))?;
    let body = format!(
        "<p><a href=\"/ui/catalog\">← All event types</a></p>{}",
        section(&t, "h1")
    );
    Ok(Html(page(&t.code, Some(&session.session.csrf), &body)))
}

fn filters_form(include_archived: bool) -> String {
    let checked = if include_archived { " checked" } else { "" };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/catalog\">\
         <label for=\"f-archived\">Include archived types\
         <input id=\"f-archived\" type=\"checkbox\" name=\"archived\" value=\"true\"{checked}></label>\
         <button type=\"submit\">Show</button></form>"
    )
}

/// A table of the page's types, linking to their sections.
fn contents(types: &[&EventTypeRecord]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Description</th></tr></thead><tbody>",
    );
    for t in types {
        let archived = if t.archived { " (archived)" } else { "" };
        out.push_str(&format!(
            "<tr><td><a href=\"#{anchor}\"><code>{code}</code></a>{archived}</td>\
             <td>{name}</td><td>{description}</td></tr>",
            anchor = escape(&anchor(&t.code)),
            code = escape(&t.code),
            name = escape(&t.name),
            description = escape(t.description.as_deref().unwrap_or("—")),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The id of a type's section (`type-order.paid`).
fn anchor(code: &str) -> String {
    format!("type-{code}")
}

/// One type: what it is, its schema, and an example `data` built from the schema.
fn section(t: &EventTypeRecord, heading: &str) -> String {
    let archived = if t.archived {
        "<p><strong>Archived:</strong> kept for history, no longer publishable.</p>"
    } else {
        ""
    };
    let (schema, example) = match &t.schema {
        Some(schema) => (
            format!("<pre>{}</pre>", escape(&pretty(schema))),
            format!("<pre>{}</pre>", escape(&pretty(&example(schema)))),
        ),
        None => (
            "<p>No schema: any JSON is accepted as <code>data</code>.</p>".to_owned(),
            "<pre>{}</pre>".to_owned(),
        ),
    };
    format!(
        "<section id=\"{anchor}\" aria-labelledby=\"{anchor}-h\">\
         <{heading} id=\"{anchor}-h\"><a href=\"/ui/catalog/{link}\"><code>{code}</code></a> — {name}</{heading}>\
         {archived}<p>{description}</p>\
         <p><a href=\"/ui/events?type={query}\">Events of this type</a></p>\
         <details open><summary>Schema of <code>data</code></summary>{schema}</details>\
         <details open><summary>Example <code>data</code></summary>{example}</details>\
         </section>",
        anchor = escape(&anchor(&t.code)),
        link = escape(&path_segment(&t.code)),
        query = escape(&super::html::query_value(&t.code)),
        code = escape(&t.code),
        name = escape(&t.name),
        description = escape(t.description.as_deref().unwrap_or("No description.")),
    )
}
