//! Payload filters on subscriptions.

use serde_json::json;

use crate::support::{TestApp, TestReceiver};

#[tokio::test]
async fn only_matching_events_reach_a_filtered_endpoint() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    for code in ["big", "all"] {
        let (s, _) = app
            .post(
                "/scopes/shop/endpoints",
                json!({"code": code, "url": receiver.url(&format!("/{code}"))}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let subs = json!({
        "big": {"events": ["order.*"], "filter": {"amount": {"$gte": 100}, "customer.country": {"$in": ["FR", "DE"]}}},
        "all": ["*"]
    });
    let (s, body) = app.put("/scopes/shop/subscriptions", subs.clone()).await;
    assert_eq!(s, 200, "{body}");
    let (_, read_back) = app.get("/scopes/shop/subscriptions").await;
    assert_eq!(read_back, subs);

    let cases = [
        (json!({"amount": 150, "customer": {"country": "FR"}}), 2),
        (json!({"amount": 50, "customer": {"country": "FR"}}), 1),
        (json!({"amount": 150, "customer": {"country": "US"}}), 1),
        (json!({"amount": 150}), 1),
    ];
    for (data, expected) in &cases {
        let e = app.publish("order.paid", &["shop"], data.clone()).await;
        assert_eq!(e["deliveries"], *expected, "{data}");
    }
    let got = receiver.wait_for(5).await;
    let big: Vec<_> = got
        .iter()
        .filter(|r| r.path == "/big")
        .map(|r| r.json()["data"].clone())
        .collect();
    assert_eq!(big, vec![cases[0].0.clone()]);
    app.stop().await;
}

#[tokio::test]
async fn a_bad_filter_is_refused_with_its_path() {
    let app = TestApp::spawn().await;
    app.post(
        "/scopes/s/endpoints",
        json!({"code": "e", "url": "https://example.com/"}),
    )
    .await;
    let (s, body) = app
        .put(
            "/scopes/s/subscriptions",
            json!({"e": {"events": ["*"], "filter": {"amount": {"$between": [1, 2]}}}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        body["error"]["details"][0]["field"],
        "e.filter.amount.$between"
    );
    let (s, body) = app
        .put(
            "/scopes/s/subscriptions",
            json!({"e": {"events": ["*"], "filter": {"$or": {"a": 1}}}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "e.filter.$or");
    let (_, subs) = app.get("/scopes/s/subscriptions").await;
    assert_eq!(subs, json!({}), "nothing applied");
    app.stop().await;
}
