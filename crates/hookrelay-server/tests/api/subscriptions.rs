//! Who receives what: exact codes, `*`, prefixes, several scopes, declarative apply.

use serde_json::json;

use crate::support::{TestApp, TestReceiver};

#[tokio::test]
async fn exact_star_and_prefix_patterns() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid", "order.refunded", "template_update"])
        .await;
    app.endpoint("s", "all", &receiver.url("/all"), &["*"])
        .await;
    app.endpoint("s", "orders", &receiver.url("/orders"), &["order.*"])
        .await;
    app.endpoint(
        "s",
        "templates",
        &receiver.url("/templates"),
        &["template_update"],
    )
    .await;

    assert_eq!(
        app.publish("order.paid", &["s"], json!({})).await["deliveries"],
        2
    );
    assert_eq!(
        app.publish("template_update", &["s"], json!({})).await["deliveries"],
        2
    );
    assert_eq!(
        app.publish("order.refunded", &["s"], json!({})).await["deliveries"],
        2
    );

    let got = receiver.wait_for(6).await;
    let count = |path: &str| got.iter().filter(|r| r.path == path).count();
    assert_eq!(count("/all"), 3);
    assert_eq!(count("/orders"), 2);
    assert_eq!(count("/templates"), 1);
    let orders: Vec<String> = got
        .iter()
        .filter(|r| r.path == "/orders")
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(orders.iter().all(|t| t.starts_with("order.")), "{orders:?}");

    // The delivery log filters by endpoint and by status.
    let (_, by_endpoint) = app.get("/deliveries?scope=s&endpoint=orders").await;
    let listed = by_endpoint["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|d| d["endpoint"] == "orders"));
    let (s, body) = app.get("/deliveries?status=lost").await;
    assert_eq!(s, 422, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn one_publish_reaches_every_target_scope() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["template_update"]).await;
    app.endpoint("biz:biz1", "webhook1", &receiver.url("/one"), &["*"])
        .await;
    app.endpoint(
        "biz:biz2",
        "webhook1",
        &receiver.url("/two"),
        &["template_update"],
    )
    .await;
    app.endpoint("biz:biz3", "webhook1", &receiver.url("/three"), &["*"])
        .await;

    let event = app
        .publish(
            "template_update",
            &["biz:biz1", "biz:biz2"],
            json!({"v": 1}),
        )
        .await;
    assert_eq!(event["deliveries"], 2);
    let got = receiver.wait_for(2).await;
    let mut scopes: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.json()["scope"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    scopes.sort();
    assert_eq!(
        scopes,
        vec![
            ("/one".to_owned(), "biz:biz1".to_owned()),
            ("/two".to_owned(), "biz:biz2".to_owned())
        ]
    );
    assert!(
        got.iter()
            .all(|r| r.headers["webhook-id"] == event["id"].as_str().unwrap())
    );

    let (_, events) = app.get("/events?scope=biz:biz2").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let (_, events) = app.get("/events?scope=biz:biz3").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn apply_replaces_endpoints_and_subscriptions() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a", "b"]).await;
    let url = receiver.url("/");
    let (s, body) = app
        .put(
            "/scopes/s/endpoints",
            json!([{"code": "one", "url": url}, {"code": "two", "url": url}, {"code": "three", "url": url}]),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["created"], json!(["one", "two", "three"]));

    let (s, body) = app
        .put(
            "/scopes/s/subscriptions",
            json!({"one": ["a"], "two": ["*"], "three": ["b"]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(app.publish("a", &["s"], json!({})).await["deliveries"], 2);

    // "three" left out of the endpoint list: deleted. "two" left out of subscriptions: unsubscribed.
    let (s, body) = app
        .put(
            "/scopes/s/endpoints",
            json!([{"code": "one", "url": url}, {"code": "two", "url": url, "name": "Two"}]),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["deleted"], json!(["three"]));
    assert_eq!(body["updated"], json!(["two"]));
    assert_eq!(body["unchanged"], json!(["one"]));
    let (s, _) = app.get("/scopes/s/endpoints/three").await;
    assert_eq!(s, 404);

    let (_, body) = app
        .put("/scopes/s/subscriptions", json!({"one": ["a", "b"]}))
        .await;
    assert_eq!(body["deleted"], json!(["two"]));
    let (_, subs) = app.get("/scopes/s/subscriptions").await;
    assert_eq!(subs, json!({"one": ["a", "b"]}));
    assert_eq!(app.publish("a", &["s"], json!({})).await["deliveries"], 1);
    assert_eq!(app.publish("b", &["s"], json!({})).await["deliveries"], 1);

    // A subscription for an endpoint that does not exist is refused whole.
    let (s, body) = app
        .put(
            "/scopes/s/subscriptions",
            json!({"one": ["a"], "ghost": ["*"]}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "ghost");
    let (_, subs) = app.get("/scopes/s/subscriptions").await;
    assert_eq!(subs, json!({"one": ["a", "b"]}), "nothing half-applied");
    app.stop().await;
}

#[tokio::test]
async fn a_scope_without_endpoints_accepts_with_no_deliveries() {
    let app = TestApp::spawn().await;
    app.event_types(&["a"]).await;
    let event = app.publish("a", &["nobody-here"], json!({})).await;
    assert_eq!(event["deliveries"], 0);
    let (s, e) = app
        .get(&format!("/events/{}", event["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(e["scopes"], json!(["nobody-here"]));
    app.stop().await;
}
