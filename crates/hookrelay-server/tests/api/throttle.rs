//! Per-endpoint traffic control: the rate limit holds, and a 429 slows the whole endpoint.

use std::time::Duration;

use serde_json::json;

use crate::support::{Answer, TestApp, TestReceiver};

#[tokio::test]
async fn the_rate_limit_holds_within_ten_percent() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    let (s, _) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": receiver.url("/"), "rate_limit": 20}),
        )
        .await;
    assert_eq!(s, 201);
    app.put("/scopes/s/subscriptions", json!({"e": ["*"]}))
        .await;
    for i in 0..41 {
        app.publish("a", &["s"], json!({"i": i})).await;
    }
    let got = receiver.wait_for(41).await;
    let span = got[40].at.duration_since(got[0].at).as_secs_f64();
    let rate = 40.0 / span;
    assert!(
        (18.0..=22.0).contains(&rate),
        "{rate:.1} deliveries/s against a limit of 20"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_429_pauses_the_endpoint_not_just_the_delivery() {
    pauses_the_whole_endpoint(429).await;
}

#[tokio::test]
async fn a_503_pauses_the_endpoint_not_just_the_delivery() {
    pauses_the_whole_endpoint(503).await;
}

/// A receiver answering `status` with `Retry-After: 1` holds back the endpoint's next
/// delivery, another event's, for that second.
async fn pauses_the_whole_endpoint(status: u16) {
    let app = TestApp::with(|c| {
        c.max_in_flight_per_endpoint = 1;
        c.retry_schedule = Some("10ms".into());
    })
    .await;
    let receiver = TestReceiver::start().await;
    receiver.script([Answer::status(status).with_header("retry-after", "1")]);
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    for i in 0..3 {
        app.publish("a", &["s"], json!({"i": i})).await;
    }
    let got = receiver.wait_for(4).await;
    let gap = got[1].at.duration_since(got[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "the next delivery went out {gap:?} after a {status} asking for 1 s"
    );
    assert_ne!(
        got[0].headers["webhook-id"], got[1].headers["webhook-id"],
        "the held-back request is another event's, so the whole endpoint paused"
    );
    app.stop().await;
}
