//! `GET /ui/events/{id}`: one event, its payload, and the deliveries it made.

use axum::extract::{Path, State};
use axum::response::Html;
use hookrelay_store::model::{DeliveryFilter, DeliveryRecord, PageRequest};
use serde::Deserialize;

use super::events::scope_links;
use super::html::{UiError, escape, page, time};
use super::json::pre;
use super::links::{next_page, path_segment};
use super::params::non_empty;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::extract::ApiQuery;
use crate::tenancy;

/// Deliveries per page (one per subscribed endpoint, so usually one page).
const PAGE_SIZE: u32 = 50;

/// The cursor of the deliveries table.
#[derive(Deserialize, Default)]
pub struct DetailQuery {
    cursor: Option<String>,
}

/// `GET /ui/events/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    session: UiSession,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> Result<Html<String>, UiError> {
    let caller = &session.session.caller;
    let e = tenancy::event(&state, caller, &id).await?;
    // The same call and scope rule as `GET /api/v1/deliveries?event=`.
    let filter = DeliveryFilter {
        event_id: Some(e.id.to_string()),
        allowed_scopes: caller.scopes.clone(),
        ..DeliveryFilter::default()
    };
    let page_request = PageRequest {
        limit: PAGE_SIZE,
        cursor: non_empty(&q.cursor),
    };
    let deliveries = state.store().list_deliveries(filter, page_request).await?;

    let mut body = format!(
        "<h1>Event {id}</h1>\
         <table><tbody>\
         <tr><th scope=\"row\">Id</th><td><code>{id}</code></td></tr>\
         <tr><th scope=\"row\">Type</th><td><a href=\"/ui/catalog/{type_link}\">{event_type}</a></td></tr>\
         <tr><th scope=\"row\">Scopes</th><td>{scopes}</td></tr>\
         <tr><th scope=\"row\">Idempotency key</th><td>{key}</td></tr>\
         <tr><th scope=\"row\">Published</th><td>{published}</td></tr>\
         </tbody></table>\
         <h2>Payload</h2>{payload}\
         <h2>Deliveries</h2>",
        id = escape(e.id.as_str()),
        type_link = escape(&path_segment(&e.event_type)),
        event_type = escape(&e.event_type),
        scopes = scope_links(&e.scopes, caller),
        key = escape(e.idempotency_key.as_deref().unwrap_or("—")),
        published = time(e.created_at),
        payload = pre(&e.data),
    );
    if deliveries.data.is_empty() {
        body.push_str(
            "<p>No deliveries: no enabled endpoint of these scopes subscribes to this type. \
             Add one under <a href=\"/ui/endpoints\">Endpoints</a> \
             (or <code>hookrelay endpoints apply</code> and \
             <code>hookrelay subscriptions apply</code>); later events will be delivered to it.</p>",
        );
    } else {
        body.push_str(&table(&deliveries.data));
    }
    if let Some(next) = &deliveries.next_cursor {
        body.push_str(&next_page(
            &format!("/ui/events/{}", path_segment(e.id.as_str())),
            &[],
            next,
            "More deliveries →",
        ));
    }
    let title = format!("Event {}", e.id.as_str());
    Ok(Html(page(&title, Some(&session.session.csrf), &body)))
}

fn table(rows: &[DeliveryRecord]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Delivery</th><th scope=\"col\">Scope / endpoint</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Attempts</th>\
         <th scope=\"col\">Created</th></tr></thead><tbody>",
    );
    for d in rows {
        out.push_str(&format!(
            "<tr><td><a href=\"/ui/deliveries/{link}\">{id}</a></td><td>{scope} / {endpoint}</td>\
             <td class=\"status-{status}\">{status}</td><td>{attempts}</td><td>{created}</td></tr>",
            link = escape(&path_segment(d.id.as_str())),
            id = escape(d.id.as_str()),
            scope = escape(&d.scope),
            endpoint = escape(&d.endpoint),
            status = d.status.as_str(),
            attempts = d.attempts,
            created = time(d.created_at),
        ));
    }
    out.push_str("</tbody></table>");
    out
}
