//! The circuit breaker, auto-disable and the operational events that report them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Answer, TestApp, TestReceiver, wait_until};

/// An operator's endpoint in the system scope, subscribed to every operational event.
async fn operator(app: &TestApp, receiver: &TestReceiver) {
    app.endpoint(
        "hookrelay:system",
        "ops",
        &receiver.url("/ops"),
        &["endpoint.disabled", "endpoint.recovered", "delivery.failed"],
    )
    .await;
}

/// Waits for an operational event of `event_type` at the operator's receiver.
async fn alert(receiver: &TestReceiver, event_type: &str) -> Value {
    wait_until(Duration::from_secs(15), || async {
        receiver
            .received()
            .iter()
            .map(|r| r.json())
            .find(|body| body["type"] == event_type)
    })
    .await
    .unwrap_or_else(|| panic!("no {event_type} event arrived"))
}

fn at_ms(attempt: &Value) -> i64 {
    let text = attempt["at"].as_str().unwrap();
    hookrelay_core::clock::parse_rfc3339(text).unwrap()
}

#[tokio::test]
async fn the_circuit_opens_after_the_threshold_and_a_probe_closes_it() {
    let app = TestApp::with(|c| {
        c.circuit_threshold = 3;
        c.circuit_cooldown = "600ms".to_owned();
        c.retry_schedule = Some(["50ms"; 8].join(","));
    })
    .await;
    let receiver = TestReceiver::start().await;
    let ops = TestReceiver::start().await;
    operator(&app, &ops).await;
    receiver.always(Answer::status(500));
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["a"]).await;
    let event = app.publish("a", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The circuit opens in memory as the third failure is seen; its streak is on
    // record once that attempt's write commits, a moment later.
    let endpoint = wait_until(Duration::from_secs(10), || async {
        let (_, e) = app.get("/scopes/s/endpoints/e").await;
        (e["circuit"] == "open" && e["failure_streak"].as_u64() >= Some(3)).then_some(e)
    })
    .await
    .expect("the circuit opens with the three failures on record");
    assert!(endpoint["failing_since"].is_string());

    // The probe after the cool-down succeeds.
    receiver.always(Answer::status(200));
    let d = app.wait_for_status(&id, "succeeded").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "three failures, then the probe: {d}");
    let gap = at_ms(&attempts[3]) - at_ms(&attempts[2]);
    assert!(
        gap >= 550,
        "the open circuit held the delivery for the cool-down, not the 50 ms retry delay: {gap} ms"
    );

    let recovered = alert(&ops, "endpoint.recovered").await;
    assert_eq!(recovered["scope"], "hookrelay:system");
    assert_eq!(recovered["data"]["scope"], "s");
    assert_eq!(recovered["data"]["endpoint"], "e");
    assert_eq!(recovered["data"]["consecutive_failures"], 3);
    let (_, e) = app.get("/scopes/s/endpoints/e").await;
    assert_eq!(e["circuit"], "closed");
    assert_eq!(e["failure_streak"], 0);
    assert!(e["failing_since"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_failed_probe_keeps_the_circuit_open_and_the_streak_survives_a_restart() {
    let app = TestApp::with(|c| {
        c.circuit_threshold = 2;
        c.circuit_cooldown = "200ms".to_owned();
        c.retry_schedule = Some(["20ms"; 20].join(","));
    })
    .await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(503));
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["a"]).await;
    app.publish("a", &["s"], json!({})).await;
    // Two failures open it; the probe after 200 ms fails and the next waits 400 ms.
    receiver.wait_for(3).await;
    wait_until(Duration::from_secs(10), || async {
        let (_, e) = app.get("/scopes/s/endpoints/e").await;
        (e["failure_streak"].as_u64() >= Some(3) && e["circuit"] == "open").then_some(())
    })
    .await
    .expect("the failed probe is recorded and the circuit is open again");

    let app = app.restart().await;
    let (_, e) = app.get("/scopes/s/endpoints/e").await;
    // Open, or already half-open if the pending delivery is probing right now.
    assert!(
        e["circuit"] == "open" || e["circuit"] == "half_open",
        "a stored streak over the threshold resumes open: {e}"
    );
    receiver.always(Answer::status(200));
    wait_until(Duration::from_secs(10), || async {
        let (_, e) = app.get("/scopes/s/endpoints/e").await;
        (e["circuit"] == "closed" && e["failure_streak"] == 0).then_some(())
    })
    .await
    .expect("the first delivery after the restart probes and closes it");
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_too_long_is_disabled_reported_and_can_be_re_enabled() {
    let app = TestApp::with(|c| {
        c.circuit_threshold = 1000;
        c.disable_failing_after = "300ms".to_owned();
        c.retry_schedule = Some(["100ms"; 20].join(","));
    })
    .await;
    let receiver = TestReceiver::start().await;
    let ops = TestReceiver::start().await;
    operator(&app, &ops).await;
    receiver.always(Answer::status(500));
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["a"]).await;
    let event = app.publish("a", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let disabled = alert(&ops, "endpoint.disabled").await;
    assert_eq!(disabled["data"]["endpoint"], "e");
    let reason = disabled["data"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("failing since "), "{reason}");
    let (_, e) = app.get("/scopes/s/endpoints/e").await;
    assert_eq!(e["enabled"], false);
    assert_eq!(e["disabled_reason"], reason);
    // The delivery stops (recoverable) instead of using up its 20 retries.
    let d = app.wait_for_status(&id, "failed").await;
    assert!(d["attempts"].as_array().unwrap().len() < 10, "{d}");

    let (s, e) = app
        .patch("/scopes/s/endpoints/e", json!({"enabled": true}))
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["failure_streak"], 0, "re-enabling starts afresh");
    assert!(e["disabled_reason"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn gone_disables_and_reports_the_endpoint() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let ops = TestReceiver::start().await;
    operator(&app, &ops).await;
    receiver.always(Answer::status(410));
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["a"]).await;
    app.publish("a", &["s"], json!({})).await;
    let disabled = alert(&ops, "endpoint.disabled").await;
    assert_eq!(disabled["data"]["reason"], "gone (410)");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_delivery_is_reported_once_and_a_failed_report_is_not() {
    let app = TestApp::with(|c| c.retry_schedule = Some("20ms".to_owned())).await;
    let receiver = TestReceiver::start().await;
    let ops = TestReceiver::start().await;
    operator(&app, &ops).await;
    receiver.always(Answer::status(500));
    // The operator's receiver fails too: its failed delivery of the report must not
    // produce a report about the report.
    ops.always(Answer::status(500));
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["a"]).await;
    let event = app.publish("a", &["s"], json!({"n": 1})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_status(&id, "failed").await;

    let report = alert(&ops, "delivery.failed").await;
    assert_eq!(report["data"]["delivery_id"], id.as_str());
    assert_eq!(report["data"]["event_type"], "a");
    assert_eq!(report["data"]["attempts"], 2);
    assert_eq!(report["data"]["last_status"], 500);
    let report_delivery = app.deliveries_of(report["id"].as_str().unwrap()).await;
    app.wait_for_status(report_delivery[0]["id"].as_str().unwrap(), "failed")
        .await;
    let (_, reports) = app
        .get("/events?scope=hookrelay:system&type=delivery.failed")
        .await;
    assert_eq!(reports["data"].as_array().unwrap().len(), 1, "{reports}");
    app.stop().await;
}

#[tokio::test]
async fn operational_event_types_belong_to_hookrelay() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .put("/event-types/endpoint.disabled", json!({"name": "mine"}))
        .await;
    assert_eq!(s, 409, "{body}");
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            "/event-types/delivery.failed",
            None,
        )
        .await;
    assert_eq!(s, 409);
    let (s, body) = app
        .post(
            "/events",
            json!({"type": "endpoint.recovered", "scopes": ["s"], "data": {}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "type");
    let (s, report) = app
        .put("/event-types", json!({"version": 1, "events": []}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(report["archived"], json!([]), "{report}");
    app.stop().await;
}

/// A client that syncs its own registry tells Hookrelay's types from its own by
/// `operational`.
#[tokio::test]
async fn the_registry_marks_hookrelays_own_types_as_operational() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let (s, list) = app.get("/event-types").await;
    assert_eq!(s, 200, "{list}");
    let mut flags: Vec<(String, bool)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let flag = t["operational"].as_bool().unwrap_or_else(|| panic!("{t}"));
            (t["code"].as_str().unwrap().to_owned(), flag)
        })
        .collect();
    flags.sort();
    assert_eq!(
        flags,
        [
            ("delivery.failed".to_owned(), true),
            ("endpoint.disabled".to_owned(), true),
            ("endpoint.recovered".to_owned(), true),
            ("order.paid".to_owned(), false),
        ]
    );
    let (s, one) = app.get("/event-types/endpoint.disabled").await;
    assert_eq!(s, 200);
    assert_eq!(one["operational"], true, "{one}");
    app.stop().await;
}
