//! `GET /ui/endpoints`: a scope's endpoints with their state, subscriptions, success
//! rate and last attempt, and the forms of their actions (see [`super::endpoint_actions`]).

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Html;
use hookrelay_core::clock::now_ms;
use hookrelay_core::subscription::Subscription;
use hookrelay_store::model::{EndpointRecord, EndpointStats, PageRequest};
use serde::Deserialize;

use super::csrf::hidden_field;
use super::html::{UiError, escape, page, query_value, time};
use super::params::non_empty;
use super::session::UiSession;
use crate::app::AppState;
use crate::http::extract::ApiQuery;
use crate::tenancy;

/// Endpoints per page.
const PAGE_SIZE: u32 = 50;
/// The window of the success rate.
const DAY_MS: i64 = 24 * 3_600_000;

/// The query: which scope, which page, and what an action just did.
#[derive(Deserialize, Default)]
pub struct EndpointsQuery {
    scope: Option<String>,
    cursor: Option<String>,
    /// Set by the redirect after an action: `enabled`, `disabled`.
    done: Option<String>,
    /// The endpoint the action was on.
    endpoint: Option<String>,
}

/// `GET /ui/endpoints`: the scope asked for, or the first one the session may see.
pub async fn list(
    State(state): State<AppState>,
    session: UiSession,
    ApiQuery(q): ApiQuery<EndpointsQuery>,
) -> Result<Html<String>, UiError> {
    let caller = &session.session.caller;
    let scopes = match &caller.scopes {
        None => state.store().list_scopes(None).await?,
        // A scoped token's own scopes, with or without endpoints yet.
        Some(own) => {
            let mut own = own.clone();
            own.sort();
            own
        }
    };
    let chosen = non_empty(&q.scope).or_else(|| scopes.first().cloned());
    let mut body = String::from("<h1>Endpoints</h1>");
    if let Some(notice) = notice(&q) {
        body.push_str(&notice);
    }
    let Some(chosen) = chosen else {
        body.push_str(
            "<p>No endpoints yet — create one with <code>hookrelay endpoints apply biz:biz1 endpoints.yaml</code> \
             or <code>POST /api/v1/scopes/{scope}/endpoints</code>.</p>",
        );
        return Ok(Html(page("Endpoints", Some(&session.session.csrf), &body)));
    };
    let scope = tenancy::scope(caller, &chosen)?;
    body.push_str(&scope_picker(&scopes, &chosen));

    let found = state
        .store()
        .list_endpoints(
            &scope,
            PageRequest {
                limit: PAGE_SIZE,
                cursor: non_empty(&q.cursor),
            },
        )
        .await?;
    if found.data.is_empty() {
        body.push_str(&format!(
            "<p>No endpoints in {} yet — create one with <code>hookrelay endpoints apply {} endpoints.yaml</code>.</p>",
            escape(&chosen),
            escape(&chosen)
        ));
    } else {
        let now = now_ms();
        let ids: Vec<String> = found.data.iter().map(|e| e.id.to_string()).collect();
        let stats: HashMap<String, EndpointStats> = state
            .store()
            .endpoint_stats(&ids, now - DAY_MS, now)
            .await?
            .into_iter()
            .map(|s| (s.endpoint_id.clone(), s))
            .collect();
        let types = test_types(&state).await?;
        body.push_str(
            "<table class=\"endpoints\"><thead><tr><th scope=\"col\">Endpoint</th>\
             <th scope=\"col\">Destination</th><th scope=\"col\">State</th>\
             <th scope=\"col\">Subscribed to</th><th scope=\"col\">Success (24 h)</th>\
             <th scope=\"col\">Last attempt</th><th scope=\"col\">Actions</th></tr></thead><tbody>",
        );
        for e in &found.data {
            body.push_str(&row(
                &state,
                e,
                stats.get(e.id.as_str()),
                &types,
                &session.session.csrf,
            ));
        }
        body.push_str("</tbody></table>");
    }
    if let Some(next) = &found.next_cursor {
        body.push_str(&format!(
            "<p><a rel=\"next\" href=\"/ui/endpoints?scope={}&amp;cursor={}\">More endpoints →</a></p>",
            escape(&query_value(&chosen)),
            escape(&query_value(next))
        ));
    }
    Ok(Html(page("Endpoints", Some(&session.session.csrf), &body)))
}

/// What the action before the redirect did, from fixed words only (a link cannot make
/// the page say something else).
fn notice(q: &EndpointsQuery) -> Option<String> {
    let what = match q.done.as_deref()? {
        "enabled" => "enabled",
        "disabled" => "disabled",
        _ => return None,
    };
    let code = non_empty(&q.endpoint)?;
    Some(format!(
        "<p class=\"notice\" role=\"status\">Endpoint {} {what}.</p>",
        escape(&code)
    ))
}

fn scope_picker(scopes: &[String], chosen: &str) -> String {
    let mut options: String = scopes
        .iter()
        .map(|s| {
            let selected = if s == chosen { " selected" } else { "" };
            format!("<option{selected}>{}</option>", escape(s))
        })
        .collect();
    if !scopes.iter().any(|s| s == chosen) {
        options.push_str(&format!("<option selected>{}</option>", escape(chosen)));
    }
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/endpoints\">\
         <label for=\"f-scope\">Scope<select id=\"f-scope\" name=\"scope\">{options}</select></label>\
         <button type=\"submit\">Show</button></form>"
    )
}

/// The types a test event may be: registered, not archived, and not operational (only
/// Hookrelay publishes those), with their schemas for the example payload.
pub(super) async fn test_types(
    state: &AppState,
) -> Result<Vec<hookrelay_store::model::EventTypeRecord>, UiError> {
    let page = state
        .store()
        .list_event_types(
            false,
            PageRequest {
                limit: 1000,
                cursor: None,
            },
        )
        .await?;
    Ok(page
        .data
        .into_iter()
        .filter(|t| !hookrelay_core::operational::is_builtin(&t.code))
        .collect())
}

fn row(
    state: &AppState,
    e: &EndpointRecord,
    stats: Option<&EndpointStats>,
    types: &[hookrelay_store::model::EventTypeRecord],
    csrf: &str,
) -> String {
    let destination = match &e.targets {
        Some(t) => {
            let items: String = t
                .targets
                .iter()
                .map(|t| format!("<li class=\"wrap\">{}</li>", escape(&t.url)))
                .collect();
            // The API's name of the strategy (its serde name), e.g. `weighted_round_robin`.
            let strategy = serde_json::to_value(t.strategy)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} over:<ul>{items}</ul>", escape(&strategy))
        }
        None => format!("<span class=\"wrap\">{}</span>", escape(&e.url)),
    };
    let circuit = state.circuit_state(e);
    let state_text = if !e.enabled {
        format!(
            "<span class=\"status-failed\">disabled</span>: {}",
            escape(e.disabled_reason.as_deref().unwrap_or("by hand"))
        )
    } else if circuit != "closed" {
        format!(
            "<span class=\"status-pending\">circuit {}</span> after {} failures",
            circuit.replace('_', "-"),
            e.failure_streak
        )
    } else {
        "<span class=\"status-succeeded\">enabled</span>".to_owned()
    };
    let subscribed = if e.subscriptions.is_empty() {
        "nothing".to_owned()
    } else {
        e.subscriptions
            .iter()
            .map(|p| format!("<code>{}</code>", escape(p)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (rate, last) = match stats {
        Some(s) => {
            let total = s.succeeded + s.failed;
            let rate = if total == 0 {
                "no attempts".to_owned()
            } else {
                format!(
                    "{:.1}% of {total}",
                    s.succeeded as f64 * 100.0 / total as f64
                )
            };
            let last = match (s.last_attempt_at, s.last_ok) {
                (Some(at), Some(ok)) => format!(
                    "{} <span class=\"status-{}\">{}</span>",
                    time(at),
                    if ok { "succeeded" } else { "failed" },
                    if ok { "succeeded" } else { "failed" }
                ),
                _ => "—".to_owned(),
            };
            (rate, last)
        }
        None => ("no attempts".to_owned(), "—".to_owned()),
    };
    let scope_q = escape(&query_value(&e.scope));
    let code_q = escape(&query_value(&e.code));
    let base = format!("/ui/endpoints/{scope_q}/{code_q}");
    let (value, label) = if e.enabled {
        ("false", "Disable")
    } else {
        ("true", "Enable")
    };
    let toggle = format!(
        "<form method=\"post\" action=\"{base}/enabled\">{}\
         <input type=\"hidden\" name=\"enabled\" value=\"{value}\">\
         <button type=\"submit\">{label}</button></form>",
        hidden_field(csrf)
    );
    let rotate = format!(
        "<form method=\"post\" action=\"{base}/rotate\">{}<button type=\"submit\">Rotate secret</button></form>",
        hidden_field(csrf)
    );
    let test = test_form(&base, e, types, csrf);
    format!(
        "<tr><th scope=\"row\"><a href=\"/ui/deliveries?scope={scope_q}&amp;endpoint={code_q}\">{code}</a>\
         <br><small>{name}</small></th><td>{destination}</td><td>{state_text}</td><td>{subscribed}</td>\
         <td>{rate}</td><td>{last}</td><td class=\"actions\">{toggle}{rotate}{test}</td></tr>",
        code = escape(&e.code),
        name = escape(&e.name),
    )
}

/// The "send test event" form: a type the endpoint subscribes to (any registered type
/// when none matches, so an endpoint can be tried before it is subscribed).
fn test_form(
    base: &str,
    e: &EndpointRecord,
    types: &[hookrelay_store::model::EventTypeRecord],
    csrf: &str,
) -> String {
    if !e.enabled {
        return String::new();
    }
    if e.subscriptions.is_empty() {
        return "<p><small>Subscribe it to send a test event.</small></p>".to_owned();
    }
    let sub = Subscription::parse(&e.subscriptions).ok();
    let matching: Vec<&str> = types
        .iter()
        .map(|t| t.code.as_str())
        .filter(|code| sub.as_ref().is_some_and(|s| s.matches(code)))
        .collect();
    let offered: Vec<&str> = if matching.is_empty() {
        types.iter().map(|t| t.code.as_str()).collect()
    } else {
        matching
    };
    if offered.is_empty() {
        return "<p><small>Register an event type to send a test event.</small></p>".to_owned();
    }
    let options: String = offered
        .iter()
        .map(|c| format!("<option>{}</option>", escape(c)))
        .collect();
    let id = format!("t-{}", escape(&e.code));
    format!(
        "<form method=\"post\" action=\"{base}/test\">{}\
         <label for=\"{id}\">Test event type<select id=\"{id}\" name=\"type\">{options}</select></label>\
         <button type=\"submit\">Send test event</button></form>",
        hidden_field(csrf)
    )
}
