//! Publish mode: a request becomes an event for subscribers, and is refused (422) when its
//! type or body would not be published by `POST /events`.

use serde_json::{Value, json};

use crate::support::{TestApp, TestReceiver};

use super::{
    GITHUB_SECRET, Reply, forward_deliveries, github_headers, log_entry, log_of, put_source, send,
    uuid,
};

#[tokio::test]
async fn publish_mode_turns_a_github_request_into_an_event_for_subscribers() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["github.push"]).await;
    app.endpoint("acme", "ci", &receiver.url("/ci"), &["github.*"])
        .await;
    put_source(
        &app,
        "gh",
        json!({
            "verify": {"type": "github", "secrets": [GITHUB_SECRET]},
            "publish": {"type_header": "X-GitHub-Event", "type_prefix": "github.", "scopes": ["acme"]},
        }),
    )
    .await;
    let body = br#"{"ref": "refs/heads/main", "commits": [{"id": "abc", "message": "caf\u00e9"}], "size": 1}"#;
    let posted: Value = serde_json::from_slice(body).unwrap();

    let reply = send(
        &app,
        "gh",
        &github_headers(GITHUB_SECRET, body, &uuid()),
        body,
    )
    .await;
    let id = reply.id();
    let got = receiver.wait_for(1).await;
    let envelope = got[0].json();
    assert_eq!(got[0].path, "/ci");
    assert_eq!(envelope["type"], "github.push", "{envelope}");
    assert_eq!(envelope["scope"], "acme");
    assert_eq!(envelope["data"], posted, "data is the posted JSON");

    let entry = log_entry(&app, "gh", &id).await;
    assert_eq!(entry["status"], "accepted");
    let event_id = entry["event_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the log names the published event: {entry}"));
    assert!(event_id.starts_with("evt_"), "{event_id}");
    assert_eq!(envelope["id"], event_id);
    assert_eq!(got[0].headers["webhook-id"], event_id);
    assert!(
        entry["forwards"].as_array().is_none_or(Vec::is_empty),
        "nothing to forward to: {entry}"
    );
    let (s, event) = app.get(&format!("/events/{event_id}")).await;
    assert_eq!(s, 200, "{event}");
    assert_eq!(event["type"], "github.push");
    app.stop().await;
}

#[tokio::test]
async fn publish_mode_takes_the_type_from_a_json_path_into_several_scopes() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["shop.order_paid"]).await;
    app.endpoint(
        "acme",
        "orders",
        &receiver.url("/acme"),
        &["shop.order_paid"],
    )
    .await;
    app.endpoint("beta", "orders", &receiver.url("/beta"), &["*"])
        .await;
    put_source(
        &app,
        "shop",
        json!({
            "verify": {"type": "none"},
            "publish": {"type_path": "event.kind", "type_prefix": "shop.", "scopes": ["acme", "beta"]},
        }),
    )
    .await;
    let body = br#"{"event": {"kind": "order_paid"}, "order": {"id": 7, "total": "12.50"}}"#;
    let posted: Value = serde_json::from_slice(body).unwrap();

    let reply = send(&app, "shop", &[], body).await;
    let id = reply.id();
    let got = receiver.wait_for(2).await;
    let mut scopes = Vec::new();
    for r in &got {
        let envelope = r.json();
        assert_eq!(envelope["type"], "shop.order_paid", "{envelope}");
        assert_eq!(envelope["data"], posted);
        assert_eq!(
            r.path,
            format!("/{}", envelope["scope"].as_str().unwrap()),
            "each endpoint gets its own scope"
        );
        scopes.push(envelope["scope"].as_str().unwrap().to_owned());
    }
    scopes.sort();
    assert_eq!(scopes, ["acme", "beta"]);
    let entry = log_entry(&app, "shop", &id).await;
    assert_eq!(entry["event_id"], got[0].json()["id"]);
    app.stop().await;
}

/// Asserts a publish-mode refusal: 422 naming the problem, logged as `rejected` with that
/// reason, nothing forwarded, no event in `scope`.
async fn assert_publish_refused(
    app: &TestApp,
    receiver: &TestReceiver,
    source: &str,
    reply: &Reply,
    names: &[&str],
) {
    assert_eq!(reply.status, 422, "{}", reply.text);
    let message = reply.message();
    for name in names {
        assert!(
            message.contains(name),
            "the message names {name:?}: {message}"
        );
    }
    let rejected = log_of(app, source, "?status=rejected").await;
    let entry = rejected
        .iter()
        .find(|e| e["reason"].as_str() == Some(message.as_str()))
        .unwrap_or_else(|| panic!("logged as rejected with the reason {message:?}: {rejected:?}"));
    assert!(
        entry["event_id"].is_null(),
        "a rejected request published nothing: {entry}"
    );
    assert!(
        forward_deliveries(app, source).await.is_empty(),
        "nothing was queued for forwarding"
    );
    let (s, events) = app.get("/events?scope=acme").await;
    assert_eq!(s, 200, "{events}");
    assert_eq!(events["data"], json!([]), "no event was published");
    assert!(receiver.received().is_empty(), "nothing was sent anywhere");
}

/// A source that publishes `X-Event` as `shop.<value>` into `acme` and also forwards.
async fn publishing_source(app: &TestApp, receiver: &TestReceiver, name: &str) {
    app.endpoint("acme", "sub", &receiver.url("/sub"), &["*"])
        .await;
    put_source(
        app,
        name,
        json!({
            "verify": {"type": "none"},
            "forward_to": [receiver.url(&format!("/{name}"))],
            "publish": {"type_header": "X-Event", "type_prefix": "shop.", "scopes": ["acme"]},
        }),
    )
    .await;
}

#[tokio::test]
async fn publish_mode_refuses_an_unregistered_archived_or_operational_type() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    publishing_source(&app, &receiver, "shop").await;
    let body = br#"{"order": 7}"#;
    let event = |t: &str| vec![("x-event", t.to_owned())];

    let reply = send(&app, "shop", &event("order_paid"), body).await;
    assert_publish_refused(
        &app,
        &receiver,
        "shop",
        &reply,
        &["unknown event type", "shop.order_paid"],
    )
    .await;

    app.event_types(&["shop.order_old"]).await;
    let (s, archived) = app
        .call(reqwest::Method::DELETE, "/event-types/shop.order_old", None)
        .await;
    assert!(s == 200 || s == 204, "{s} {archived}");
    let reply = send(&app, "shop", &event("order_old"), body).await;
    assert_publish_refused(
        &app,
        &receiver,
        "shop",
        &reply,
        &["archived", "shop.order_old"],
    )
    .await;

    let reply = send(&app, "shop", &event("bad code!"), body).await;
    assert_publish_refused(
        &app,
        &receiver,
        "shop",
        &reply,
        &["invalid event type code"],
    )
    .await;

    // Hookrelay's own alerts cannot be forged through a source either.
    put_source(
        &app,
        "alerts",
        json!({
            "verify": {"type": "none"},
            "forward_to": [receiver.url("/alerts")],
            "publish": {"type_path": "kind", "scopes": ["acme"]},
        }),
    )
    .await;
    let reply = send(&app, "alerts", &[], br#"{"kind": "endpoint.disabled"}"#).await;
    assert_publish_refused(
        &app,
        &receiver,
        "alerts",
        &reply,
        &["operational", "endpoint.disabled"],
    )
    .await;
    assert_eq!(log_of(&app, "shop", "?status=rejected").await.len(), 3);

    // Registered, the same request goes through: the refusals were about the type.
    app.event_types(&["shop.order_paid"]).await;
    let reply = send(&app, "shop", &event("order_paid"), body).await;
    let id = reply.id();
    let got = receiver.wait_for(2).await;
    let mut paths: Vec<_> = got.iter().map(|r| r.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, ["/shop", "/sub"], "forwarded and published");
    let entry = log_entry(&app, "shop", &id).await;
    assert!(entry["event_id"].as_str().is_some(), "{entry}");
    app.stop().await;
}

#[tokio::test]
async fn publish_mode_refuses_a_body_that_fails_the_type_schema() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let (s, body) = app
        .put(
            "/event-types/shop.order_paid",
            json!({
                "name": "order paid",
                "schema": {
                    "type": "object",
                    "required": ["order"],
                    "properties": {"order": {"type": "integer"}},
                },
            }),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    publishing_source(&app, &receiver, "shop").await;
    let headers = [("x-event", "order_paid".to_owned())];

    let reply = send(&app, "shop", &headers, br#"{"order": "seven"}"#).await;
    assert_publish_refused(
        &app,
        &receiver,
        "shop",
        &reply,
        &["order", "shop.order_paid"],
    )
    .await;
    let reply = send(&app, "shop", &headers, br#"{"total": 3}"#).await;
    assert_publish_refused(&app, &receiver, "shop", &reply, &["order"]).await;
    let reply = send(&app, "shop", &headers, b"not json at all").await;
    assert_publish_refused(&app, &receiver, "shop", &reply, &["shop.order_paid"]).await;
    assert_eq!(log_of(&app, "shop", "?status=rejected").await.len(), 3);

    let reply = send(&app, "shop", &headers, br#"{"order": 7}"#).await;
    reply.id();
    let got = receiver.wait_for(2).await;
    let published = got.iter().find(|r| r.path == "/sub").expect("published");
    assert_eq!(published.json()["data"], json!({"order": 7}));
    app.stop().await;
}

#[tokio::test]
async fn publish_mode_refuses_a_request_that_names_no_type() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["shop.order_paid"]).await;
    publishing_source(&app, &receiver, "shop").await;
    put_source(
        &app,
        "bypath",
        json!({
            "verify": {"type": "none"},
            "forward_to": [receiver.url("/bypath")],
            "publish": {"type_path": "meta.kind", "type_prefix": "shop.", "scopes": ["acme"]},
        }),
    )
    .await;

    let reply = send(&app, "shop", &[], br#"{"order": 7}"#).await;
    assert_publish_refused(&app, &receiver, "shop", &reply, &["X-Event", "missing"]).await;
    let reply = send(&app, "bypath", &[], br#"{"meta": {}}"#).await;
    assert_publish_refused(&app, &receiver, "bypath", &reply, &["meta.kind"]).await;
    let reply = send(&app, "bypath", &[], b"kind=order_paid").await;
    assert_publish_refused(&app, &receiver, "bypath", &reply, &["meta.kind"]).await;

    let reply = send(&app, "bypath", &[], br#"{"meta": {"kind": "order_paid"}}"#).await;
    reply.id();
    receiver.wait_for(2).await;
    app.stop().await;
}
