//! `GET /ui/overview`: the last 24 hours at a glance — attempts per hour as a chart,
//! failing endpoints, the oldest pending delivery and inbound requests.

use axum::extract::State;
use axum::response::Html;
use hookrelay_core::clock::now_ms;
use hookrelay_store::model::{HourStats, Overview, OverviewRequest};

use super::html::{UiError, escape, page, query_value, time};
use super::session::UiSession;
use crate::app::AppState;

const HOUR_MS: i64 = 3_600_000;
/// Hours the chart covers.
const HOURS: i64 = 24;

/// `GET /ui/overview`: a scoped session counts only its scopes; inbound requests are
/// shown to admins (the gateway is theirs).
pub async fn show(
    State(state): State<AppState>,
    session: UiSession,
) -> Result<Html<String>, UiError> {
    let caller = &session.session.caller;
    let now = now_ms();
    let this_hour = now - now.rem_euclid(HOUR_MS);
    let first_hour = this_hour - (HOURS - 1) * HOUR_MS;
    let overview = state
        .store()
        .overview(&OverviewRequest {
            since: first_hour,
            allowed_scopes: caller.scopes.clone(),
            inbound: caller.is_admin(),
        })
        .await?;
    let mut body = String::from("<h1>Overview</h1>");
    body.push_str(&attempts_section(&overview, first_hour));
    body.push_str(&failing_section(&overview));
    body.push_str(&pending_section(&overview, now));
    if caller.is_admin() {
        body.push_str(&inbound_section(&overview));
    }
    body.push_str(&super::history::retention_note(state.config()));
    Ok(Html(page("Overview", Some(&session.session.csrf), &body)))
}

/// The 24 hours from `first_hour`, with zero for hours without attempts.
fn every_hour(overview: &Overview, first_hour: i64) -> Vec<HourStats> {
    (0..HOURS)
        .map(|i| {
            let hour_start = first_hour + i * HOUR_MS;
            overview
                .hours
                .iter()
                .find(|h| h.hour_start == hour_start)
                .copied()
                .unwrap_or(HourStats {
                    hour_start,
                    ..HourStats::default()
                })
        })
        .collect()
}

fn attempts_section(overview: &Overview, first_hour: i64) -> String {
    let hours = every_hour(overview, first_hour);
    let (ok, bad) = hours
        .iter()
        .fold((0, 0), |(s, f), h| (s + h.succeeded, f + h.failed));
    let mut out = String::from(
        "<section aria-labelledby=\"attempts-h\"><h2 id=\"attempts-h\">Delivery attempts, last 24 hours</h2>",
    );
    if ok + bad == 0 {
        out.push_str(
            "<p>No delivery attempts in the last 24 hours — publish an event with \
             <code>hookrelay send order.paid --scope biz:biz1 --data '{}'</code> \
             or <code>POST /api/v1/events</code>.</p></section>",
        );
        return out;
    }
    let rate = ok as f64 * 100.0 / (ok + bad) as f64;
    out.push_str(&format!(
        "<p class=\"totals\"><span class=\"status-succeeded\">{ok} succeeded</span> · \
         <span class=\"status-failed\">{bad} failed</span> · {rate:.1}% success</p>"
    ));
    out.push_str(&chart(&hours));
    // The same numbers as text, for screen readers and for copying.
    out.push_str(
        "<details><summary>Attempts per hour as a table</summary><table><thead><tr>\
         <th scope=\"col\">Hour (UTC)</th><th scope=\"col\">Succeeded</th><th scope=\"col\">Failed</th>\
         </tr></thead><tbody>",
    );
    for h in hours.iter().filter(|h| h.succeeded + h.failed > 0) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(h.hour_start),
            h.succeeded,
            h.failed
        ));
    }
    out.push_str("</tbody></table></details></section>");
    out
}

/// Stacked bars per hour (succeeded below, failed on top) as inline SVG: no script, no
/// library, and it scales with the page.
fn chart(hours: &[HourStats]) -> String {
    const W: f64 = 24.0 * 30.0;
    const H: f64 = 160.0;
    let max = hours
        .iter()
        .map(|h| h.succeeded + h.failed)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut bars = String::new();
    for (i, h) in hours.iter().enumerate() {
        let x = i as f64 * 30.0 + 3.0;
        let ok_h = h.succeeded as f64 / max * (H - 20.0);
        let bad_h = h.failed as f64 / max * (H - 20.0);
        let full = hookrelay_core::clock::to_rfc3339(h.hour_start);
        let hh_mm = full.get(11..16).unwrap_or("");
        let label = format!("{hh_mm}: {} succeeded, {} failed", h.succeeded, h.failed);
        bars.push_str(&format!(
            "<g><title>{label}</title>\
             <rect class=\"ok\" x=\"{x:.1}\" y=\"{:.1}\" width=\"24\" height=\"{ok_h:.1}\"/>\
             <rect class=\"bad\" x=\"{x:.1}\" y=\"{:.1}\" width=\"24\" height=\"{bad_h:.1}\"/></g>",
            H - 16.0 - ok_h,
            H - 16.0 - ok_h - bad_h,
        ));
        if i % 6 == 0 {
            bars.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\">{hh_mm}</text>",
                H - 2.0
            ));
        }
    }
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"Attempts per hour over the last 24 hours: green succeeded, red failed\">{bars}</svg>"
    )
}

fn failing_section(overview: &Overview) -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"failing-h\"><h2 id=\"failing-h\">Failing endpoints</h2>",
    );
    if overview.failing.is_empty() {
        out.push_str("<p>No endpoint is failing.</p></section>");
        return out;
    }
    out.push_str(
        "<table><thead><tr><th scope=\"col\">Endpoint</th><th scope=\"col\">URL</th>\
         <th scope=\"col\">Failures in a row</th><th scope=\"col\">Failing since</th>\
         <th scope=\"col\">State</th></tr></thead><tbody>",
    );
    for f in &overview.failing {
        let state = if f.enabled {
            "enabled".to_owned()
        } else {
            format!(
                "disabled: {}",
                f.disabled_reason.as_deref().unwrap_or("by hand")
            )
        };
        out.push_str(&format!(
            "<tr><td><a href=\"/ui/endpoints?scope={scope_q}\">{scope} / {code}</a></td>\
             <td>{url}</td><td>{streak}</td><td>{since}</td><td>{state}</td></tr>",
            scope_q = escape(&query_value(&f.scope)),
            scope = escape(&f.scope),
            code = escape(&f.code),
            url = escape(&f.url),
            streak = f.failure_streak,
            since = f.failing_since.map(time).unwrap_or_else(|| "—".into()),
            state = escape(&state),
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

fn pending_section(overview: &Overview, now: i64) -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"pending-h\"><h2 id=\"pending-h\">Oldest pending delivery</h2>",
    );
    match &overview.oldest_pending {
        None => out.push_str("<p>Nothing is waiting: every delivery has succeeded or failed.</p>"),
        Some(p) => out.push_str(&format!(
            "<p><a href=\"/ui/deliveries/{id}\">{id}</a> to {scope} / {endpoint}, created {created} \
             ({age} ago), {attempts} attempt(s) so far.</p>",
            id = escape(p.id.as_str()),
            scope = escape(&p.scope),
            endpoint = escape(&p.endpoint),
            created = time(p.created_at),
            age = age(now - p.created_at),
            attempts = p.attempts,
        )),
    }
    out.push_str("</section>");
    out
}

fn inbound_section(overview: &Overview) -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"inbound-h\"><h2 id=\"inbound-h\">Inbound requests, last 24 hours</h2>",
    );
    if overview.inbound.is_empty() {
        out.push_str(
            "<p>No inbound requests — <a href=\"/ui/inbound\">set up a source</a> to receive webhooks.</p>",
        );
    } else {
        let items: String = overview
            .inbound
            .iter()
            .map(|(status, n)| format!("<li>{}: {n}</li>", escape(status)))
            .collect();
        out.push_str(&format!(
            "<ul>{items}</ul><p><a href=\"/ui/inbound\">Sources and their request logs</a></p>"
        ));
    }
    out.push_str("</section>");
    out
}

/// A duration for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(45_000), "45 s");
        assert_eq!(age(12 * 60_000 + 5), "12 min");
        assert_eq!(age(3 * HOUR_MS + 5 * 60_000), "3 h 5 min");
        assert_eq!(age(52 * HOUR_MS), "2 d 4 h");
    }

    #[test]
    fn the_chart_has_a_bar_per_hour_scaled_to_the_busiest() {
        let hours: Vec<HourStats> = (0..24)
            .map(|i| HourStats {
                hour_start: i * HOUR_MS,
                succeeded: if i == 3 { 10 } else { 0 },
                failed: if i == 3 { 5 } else { 0 },
            })
            .collect();
        let svg = chart(&hours);
        assert_eq!(svg.matches("<title>").count(), 24);
        assert!(svg.contains("<title>03:00: 10 succeeded, 5 failed</title>"));
        // The busiest hour fills the drawing height (140 = 160 - 20): 2/3 green, 1/3 red.
        assert!(svg.contains("height=\"93.3\""), "{svg}");
        assert!(svg.contains("height=\"46.7\""));
    }
}
