//! `GET /metrics`: Prometheus text, no token, numbers that move with the traffic, and
//! one recorder per server (two servers in one process keep their own numbers).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use hookrelay_server::Role;

use crate::support::{Answer, TestApp, TestReceiver, on_postgres, wait_until};

/// One sample line of the exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape: its samples, and the metric names that have `# HELP` and `# TYPE` lines.
#[derive(Debug)]
struct Scrape {
    samples: Vec<Sample>,
    help: Vec<String>,
    types: Vec<String>,
}

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`, if there is one.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }

    /// Like [`Scrape::get`], 0 when absent (a series not created yet).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }
}

/// Parses `name{k="v",…} value` lines, skipping blank and `#` lines (collecting the
/// names that `# HELP` and `# TYPE` lines describe); panics on a line that does not
/// parse.
fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape {
        samples: Vec::new(),
        help: Vec::new(),
        types: Vec::new(),
    };
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            match (words.next(), words.next()) {
                (Some("HELP"), Some(name)) => scrape.help.push(name.to_owned()),
                (Some("TYPE"), Some(name)) => scrape.types.push(name.to_owned()),
                _ => {}
            }
            continue;
        }
        scrape
            .samples
            .push(parse_sample(line).unwrap_or_else(|| panic!("unparsable line {line:?}")));
    }
    scrape
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !valid_name {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(mut body) = rest.strip_prefix('{') {
        // `k="v"` pairs, comma separated; values may hold `\"`, `\\`, `\n`, `,`, `}`.
        loop {
            body = body.strip_prefix(',').unwrap_or(body);
            if let Some(after) = body.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = body.split_once("=\"")?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i + 1,
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    (_, other) => value.push(other),
                }
            };
            labels.insert(key.to_owned(), value);
            body = &after[end..];
        }
    }
    let value = rest.strip_prefix(' ')?.trim();
    Some(Sample {
        name: name.to_owned(),
        labels,
        value: value.parse().ok()?,
    })
}

/// `GET /metrics` without a token; asserts a 200 in the text format, parses it.
async fn scrape(app: &TestApp) -> Scrape {
    let resp = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("scrape sent");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.text().await.expect("scrape body");
    parse(&text)
}

/// Publishes with an idempotency key; returns the status.
async fn publish_keyed(app: &TestApp, event_type: &str, key: &str) -> u16 {
    let body = json!({ "type": event_type, "scopes": ["s"], "idempotency_key": key });
    app.post("/events", body).await.0
}

#[tokio::test]
async fn metrics_answer_without_a_token_with_help_and_type_for_every_metric() {
    let app = TestApp::spawn().await;
    let got = scrape(&app).await;
    for name in [
        "hookrelay_events_published_total",
        "hookrelay_deliveries_total",
        "hookrelay_attempts_total",
        "hookrelay_deliveries_pending",
        "hookrelay_oldest_pending_delivery_age_seconds",
        "hookrelay_endpoint_circuits",
        "hookrelay_store_transactions_total",
        "hookrelay_store_writes_total",
    ] {
        assert!(got.help.iter().any(|h| h == name), "no HELP for {name}");
        assert!(got.types.iter().any(|t| t == name), "no TYPE for {name}");
        assert!(got.get(name, &[]).is_some(), "no sample of {name}");
    }
    // Every sample of ours is described.
    for s in got
        .samples
        .iter()
        .filter(|s| s.name.starts_with("hookrelay_"))
    {
        assert!(
            got.types.iter().any(|t| s.name.starts_with(t.as_str())),
            "{} has no TYPE",
            s.name
        );
    }
    assert_eq!(got.get("hookrelay_deliveries_pending", &[]), Some(0.0));
    assert_eq!(
        got.get(
            "hookrelay_events_published_total",
            &[("outcome", "accepted")]
        ),
        Some(0.0)
    );
    // A wrong token changes nothing: the route needs none.
    let resp = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn counters_histogram_and_gauges_follow_publishes_and_deliveries() {
    let app = TestApp::with(|c| c.retry_schedule = Some("50ms,50ms".into())).await;
    let ok = TestReceiver::start().await;
    ok.always(Answer::status(200));
    let bad = TestReceiver::start().await;
    bad.always(Answer::status(500));
    app.event_types(&["ok.ping", "bad.ping"]).await;
    app.endpoint("s", "ok", &ok.url("/ok"), &["ok.ping"]).await;
    app.endpoint("s", "bad", &bad.url("/bad"), &["bad.ping"])
        .await;

    assert_eq!(publish_keyed(&app, "ok.ping", "once").await, 202);
    assert_eq!(publish_keyed(&app, "ok.ping", "once").await, 200);
    app.publish("ok.ping", &["s"], json!({"n": 2})).await;
    app.publish("ok.ping", &["s"], json!({"n": 3})).await;
    app.publish("bad.ping", &["s"], json!({"n": 4})).await;
    let (s, _) = app
        .post("/events", json!({"type": "nope", "scopes": ["s"]}))
        .await;
    assert_eq!(s, 422);

    let deliveries = "hookrelay_deliveries_total";
    let got = wait_until(Duration::from_secs(15), || async {
        let got = scrape(&app).await;
        let done = got.value(deliveries, &[("outcome", "succeeded")]) == 3.0
            && got.value(deliveries, &[("outcome", "failed")]) == 1.0
            && got.value("hookrelay_deliveries_pending", &[]) == 0.0;
        done.then_some(got)
    })
    .await
    .expect("3 deliveries succeeded, 1 failed and none pending within the deadline");

    let published = "hookrelay_events_published_total";
    assert_eq!(got.value(published, &[("outcome", "accepted")]), 4.0);
    assert_eq!(got.value(published, &[("outcome", "duplicate")]), 1.0);
    assert_eq!(got.value(published, &[("outcome", "rejected")]), 1.0);
    assert_eq!(got.value(deliveries, &[("outcome", "retry")]), 2.0);
    assert_eq!(got.value(deliveries, &[("outcome", "given_up")]), 0.0);
    let attempts = "hookrelay_attempts_total";
    assert_eq!(got.value(attempts, &[("status_class", "2xx")]), 3.0);
    assert_eq!(got.value(attempts, &[("status_class", "5xx")]), 3.0);
    assert_eq!(got.value(attempts, &[("status_class", "network")]), 0.0);
    assert_eq!(ok.received().len() + bad.received().len(), 6);

    let histogram = "hookrelay_attempt_duration_seconds";
    assert_eq!(got.value(&format!("{histogram}_count"), &[]), 6.0);
    assert_eq!(
        got.value(&format!("{histogram}_bucket"), &[("le", "+Inf")]),
        6.0
    );
    assert!(
        got.get(&format!("{histogram}_bucket"), &[("le", "0.005")])
            .is_some()
    );
    let sum = got.value(&format!("{histogram}_sum"), &[]);
    assert!(
        sum > 0.0 && sum < 6.0 * 2.0,
        "6 attempts within their 2 s timeout: {sum}"
    );
    assert!(got.help.iter().any(|h| h == histogram));
    assert!(got.types.iter().any(|t| t == histogram));

    assert_eq!(
        got.value("hookrelay_oldest_pending_delivery_age_seconds", &[]),
        0.0
    );
    let circuits: f64 = ["closed", "open", "half_open"]
        .iter()
        .map(|state| got.value("hookrelay_endpoint_circuits", &[("state", state)]))
        .sum();
    assert_eq!(circuits, 2.0, "both endpoints have a circuit");
    assert!(got.value("hookrelay_store_writes_total", &[]) > 0.0);
    assert!(got.value("hookrelay_store_transactions_total", &[]) > 0.0);
    app.stop().await;
}

#[tokio::test]
async fn pending_gauges_show_a_waiting_delivery() {
    let app = TestApp::with(|c| c.retry_schedule = Some("1h".into())).await;
    let bad = TestReceiver::start().await;
    bad.always(Answer::status(500));
    app.event_types(&["ping"]).await;
    app.endpoint("s", "bad", &bad.url("/bad"), &["ping"]).await;
    app.publish("ping", &["s"], json!({})).await;
    let got = wait_until(Duration::from_secs(15), || async {
        let got = scrape(&app).await;
        (got.value("hookrelay_deliveries_total", &[("outcome", "retry")]) == 1.0).then_some(got)
    })
    .await
    .expect("the first attempt failed and a retry waits");
    assert_eq!(got.value("hookrelay_deliveries_pending", &[]), 1.0);
    let age = got.value("hookrelay_oldest_pending_delivery_age_seconds", &[]);
    assert!((0.0..60.0).contains(&age), "{age}");
    app.stop().await;
}

#[tokio::test]
async fn inbound_requests_count_by_source_and_outcome() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let spec = json!({
        "verify": {"type": "none"},
        "dedupe": {"header": "x-request-id"},
        "forward_to": [receiver.url("/hooks")],
    });
    let (s, body) = app.put("/sources/hooks", spec).await;
    assert_eq!(s, 201, "{body}");
    let spec = json!({
        "verify": {"type": "github", "secrets": ["It's a Secret to Everybody"]},
        "forward_to": [receiver.url("/gh")],
    });
    let (s, body) = app.put("/sources/gh", spec).await;
    assert_eq!(s, 201, "{body}");

    let send = |source: &'static str, id: &'static str| {
        let req = app
            .client
            .post(format!("{}/in/{source}", app.base))
            .header("x-request-id", id)
            .body("{}");
        async move { req.send().await.expect("sent").status().as_u16() }
    };
    assert_eq!(send("hooks", "r-1").await, 202);
    assert_eq!(send("hooks", "r-1").await, 200);
    assert_eq!(send("hooks", "r-2").await, 202);
    assert_eq!(send("gh", "r-3").await, 401, "unsigned");
    assert_eq!(send("nowhere", "r-4").await, 404);

    let got = scrape(&app).await;
    let inbound = "hookrelay_inbound_requests_total";
    let of = |source, outcome| got.value(inbound, &[("source", source), ("outcome", outcome)]);
    assert_eq!(of("hooks", "accepted"), 2.0);
    assert_eq!(of("hooks", "duplicate"), 1.0);
    assert_eq!(of("hooks", "rejected"), 0.0);
    assert_eq!(of("gh", "rejected"), 1.0);
    assert!(got.help.iter().any(|h| h == inbound));
    // An unknown source name makes no series: anyone can send one.
    assert!(got.get(inbound, &[("source", "nowhere")]).is_none());
    app.stop().await;
}

#[tokio::test]
async fn two_servers_in_one_process_keep_their_own_numbers() {
    let (one, two) = tokio::join!(TestApp::spawn(), TestApp::spawn());
    one.event_types(&["ping"]).await;
    two.event_types(&["ping"]).await;
    for n in 0..3 {
        one.publish("ping", &["s"], json!({ "n": n })).await;
    }
    two.publish("ping", &["s"], json!({})).await;
    let accepted = [("outcome", "accepted")];
    let published = "hookrelay_events_published_total";
    assert_eq!(scrape(&one).await.value(published, &accepted), 3.0);
    assert_eq!(scrape(&two).await.value(published, &accepted), 1.0);
    tokio::join!(one.stop(), two.stop());
}

#[tokio::test]
async fn a_worker_serves_metrics_too() {
    if !on_postgres() {
        return; // A worker needs the shared PostgreSQL store.
    }
    let worker = TestApp::with(|c| c.role = Role::Worker).await;
    let got = scrape(&worker).await;
    assert_eq!(got.get("hookrelay_deliveries_pending", &[]), Some(0.0));
    assert!(
        got.get("hookrelay_attempts_total", &[("status_class", "2xx")])
            .is_some()
    );
    worker.stop().await;
}
