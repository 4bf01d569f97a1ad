//! Scoped tokens: a token of one scope is refused on every route of another scope and on
//! every admin-only route, and afterwards nothing of the other scope has changed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Answer, TestApp, TestReceiver};

/// What the admin sees of scope `theirs` and of the admin-only resources.
async fn snapshot(app: &TestApp, delivery: &str) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    for path in [
        "/scopes/theirs/endpoints".to_owned(),
        "/scopes/theirs/endpoints/e".to_owned(),
        "/scopes/theirs/endpoints/e/secret".to_owned(),
        "/scopes/theirs/subscriptions".to_owned(),
        format!("/deliveries/{delivery}"),
        "/deliveries?scope=theirs".to_owned(),
        "/events?scope=theirs".to_owned(),
        "/events?scope=mine".to_owned(),
        "/event-types?include_archived=true".to_owned(),
        "/tokens".to_owned(),
        "/sources".to_owned(),
        "/sources/gh".to_owned(),
    ] {
        let (s, body) = app.get(&path).await;
        assert_eq!(s, 200, "the admin reads {path}: {body}");
        seen.push((path, body));
    }
    seen
}

#[tokio::test]
async fn a_scoped_token_is_refused_on_every_route_of_another_scope_and_every_admin_route() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    // Scope "theirs" fails every attempt, so its delivery ends `failed` and a retry by
    // the wrong token would visibly make it pending again.
    let theirs_receiver = TestReceiver::start().await;
    theirs_receiver.always(Answer::status(500));
    app.event_types(&["a", "b"]).await;
    app.endpoint("mine", "e", &receiver.url("/mine"), &["a"])
        .await;
    app.endpoint("theirs", "e", &theirs_receiver.url("/theirs"), &["a"])
        .await;
    let theirs_event = app.publish("a", &["theirs"], json!({"n": 1})).await;
    let event_id = theirs_event["id"].as_str().unwrap().to_owned();
    let deliveries = app.deliveries_of(&event_id).await;
    let delivery = deliveries[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&delivery, "failed").await;
    let (s, source) = app
        .put(
            "/sources/gh",
            json!({"verify": {"type": "github", "secrets": ["s3cret"]},
                   "forward_to": [receiver.url("/gh")]}),
        )
        .await;
    assert_eq!(s, 201, "{source}");
    let (s, other) = app
        .post("/tokens", json!({"scopes": ["theirs"], "name": "theirs"}))
        .await;
    assert_eq!(s, 201, "{other}");
    let other_token_id = other["id"].as_str().unwrap().to_owned();
    let (s, minted) = app.post("/tokens", json!({"scopes": ["mine"]})).await;
    assert_eq!(s, 201, "{minted}");
    let token = minted["token"].as_str().unwrap().to_owned();
    let before = snapshot(&app, &delivery).await;
    let attempts_before = theirs_receiver.received().len();

    let endpoint = json!({"code": "new", "url": receiver.url("/stolen")});
    let spec = json!({"verify": {"type": "none"}, "forward_to": [receiver.url("/x")]});
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        // Scope "theirs": endpoints, secrets, subscriptions.
        (
            Method::POST,
            "/scopes/theirs/endpoints".into(),
            Some(endpoint.clone()),
        ),
        (
            Method::PUT,
            "/scopes/theirs/endpoints".into(),
            Some(json!([endpoint])),
        ),
        (
            Method::PUT,
            "/scopes/theirs/endpoints".into(),
            Some(json!([])),
        ),
        (Method::GET, "/scopes/theirs/endpoints".into(), None),
        (Method::GET, "/scopes/theirs/endpoints/e".into(), None),
        (
            Method::PATCH,
            "/scopes/theirs/endpoints/e".into(),
            Some(json!({"url": receiver.url("/stolen"), "enabled": false})),
        ),
        (Method::DELETE, "/scopes/theirs/endpoints/e".into(), None),
        (
            Method::POST,
            "/scopes/theirs/endpoints/e/recover".into(),
            Some(json!({"since": "1h"})),
        ),
        (
            Method::GET,
            "/scopes/theirs/endpoints/e/secret".into(),
            None,
        ),
        (
            Method::POST,
            "/scopes/theirs/endpoints/e/secret/rotate".into(),
            Some(json!({})),
        ),
        (Method::GET, "/scopes/theirs/subscriptions".into(), None),
        (
            Method::PUT,
            "/scopes/theirs/subscriptions".into(),
            Some(json!({"e": ["b"]})),
        ),
        // Its deliveries and events.
        (Method::GET, format!("/deliveries/{delivery}"), None),
        (Method::POST, format!("/deliveries/{delivery}/retry"), None),
        (Method::GET, "/deliveries?scope=theirs".into(), None),
        (Method::GET, "/events?scope=theirs".into(), None),
        (Method::GET, format!("/events/{event_id}"), None),
        // A publish that names both scopes is refused whole.
        (
            Method::POST,
            "/events".into(),
            Some(json!({"type": "a", "scopes": ["mine", "theirs"], "data": {}})),
        ),
        (
            Method::POST,
            "/events".into(),
            Some(json!({"type": "a", "scope": "theirs", "scopes": ["mine"], "data": {}})),
        ),
        // The registry.
        (
            Method::PUT,
            "/event-types".into(),
            Some(json!({"version": 1, "events": [{"code": "a", "name": "a"}]})),
        ),
        (
            Method::PUT,
            "/event-types/a".into(),
            Some(json!({"name": "renamed"})),
        ),
        (
            Method::PUT,
            "/event-types/c".into(),
            Some(json!({"name": "c"})),
        ),
        (Method::DELETE, "/event-types/a".into(), None),
        // Tokens.
        (
            Method::POST,
            "/tokens".into(),
            Some(json!({"scopes": ["mine"]})),
        ),
        (
            Method::POST,
            "/tokens".into(),
            Some(json!({"scopes": ["theirs"]})),
        ),
        (Method::GET, "/tokens".into(), None),
        (Method::DELETE, format!("/tokens/{other_token_id}"), None),
        // Sources.
        (Method::PUT, "/sources/gh".into(), Some(spec.clone())),
        (Method::PUT, "/sources/new".into(), Some(spec.clone())),
        (Method::GET, "/sources".into(), None),
        (Method::GET, "/sources/gh".into(), None),
        (Method::GET, "/sources/gh/requests".into(), None),
        (Method::DELETE, "/sources/gh".into(), None),
        // The forwards of a source are a scope of their own.
        (Method::GET, "/scopes/inbound:gh/endpoints".into(), None),
        (Method::GET, "/deliveries?scope=inbound:gh".into(), None),
    ];
    for (method, path, body) in calls {
        let (s, answer) = app.call_as(&token, method.clone(), &path, body).await;
        assert!(
            s == 403 || s == 404,
            "{method} {path} with a token of scope mine: {s} {answer}"
        );
        assert!(
            answer["error"]["code"].is_string(),
            "{method} {path}: an error answer: {answer}"
        );
        let text = answer.to_string();
        assert!(
            !text.contains("whsec_") && !text.contains("/theirs"),
            "{method} {path}: nothing of the other scope is shown: {answer}"
        );
    }

    // Lists without a scope filter show only the token's own scope.
    for path in [
        "/events".to_owned(),
        format!("/deliveries?event={event_id}"),
        "/deliveries?endpoint=e".to_owned(),
        "/deliveries?status=failed".to_owned(),
    ] {
        let (s, answer) = app.call_as(&token, Method::GET, &path, None).await;
        assert_eq!(s, 200, "{path}: {answer}");
        assert!(
            !answer.to_string().contains("theirs"),
            "{path} shows nothing of scope theirs: {answer}"
        );
    }

    let after = snapshot(&app, &delivery).await;
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{path} changed");
    }
    assert_eq!(
        theirs_receiver.received().len(),
        attempts_before,
        "no attempt was made for scope theirs"
    );
    // The token does work on its own scope, so the refusals above are about scope.
    let (s, answer) = app
        .call_as(
            &token,
            Method::POST,
            "/events",
            Some(json!({"type": "a", "scopes": ["mine"], "data": {}})),
        )
        .await;
    assert_eq!(s, 202, "{answer}");
    receiver.wait_for(1).await;
    app.stop().await;
}

#[tokio::test]
async fn a_scoped_token_is_not_told_the_other_scopes_an_event_went_to() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let event = app
        .publish("order.paid", &["tenant-a", "tenant-b"], json!({}))
        .await;
    let id = event["id"].as_str().unwrap();
    let (s, token) = app.post("/tokens", json!({"scopes": ["tenant-a"]})).await;
    assert_eq!(s, 201, "{token}");
    let token = token["token"].as_str().unwrap();

    let (s, one) = app
        .call_as(token, Method::GET, &format!("/events/{id}"), None)
        .await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["scopes"], json!(["tenant-a"]));
    let (_, listed) = app.call_as(token, Method::GET, "/events", None).await;
    assert_eq!(listed["data"][0]["scopes"], json!(["tenant-a"]), "{listed}");
    // The admin sees every scope.
    let (_, all) = app.get(&format!("/events/{id}")).await;
    assert_eq!(all["scopes"], json!(["tenant-a", "tenant-b"]));
}

/// Two tenants that happen to use the same idempotency key: each gets its own event,
/// delivered to its own endpoint, and neither learns of the other's. The admin's keys
/// are a namespace of their own too.
#[tokio::test]
async fn an_idempotency_key_is_private_to_the_tenant_that_used_it() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let receiver_a = TestReceiver::start().await;
    let receiver_b = TestReceiver::start().await;
    app.endpoint("tenant-a", "e", &receiver_a.url("/"), &["*"])
        .await;
    app.endpoint("tenant-b", "e", &receiver_b.url("/"), &["*"])
        .await;
    let mut tokens = Vec::new();
    for scope in ["tenant-a", "tenant-b"] {
        let (s, minted) = app.post("/tokens", json!({ "scopes": [scope] })).await;
        assert_eq!(s, 201, "{minted}");
        tokens.push(minted["token"].as_str().unwrap().to_owned());
    }
    async fn publish(app: &TestApp, token: &str, scope: &str) -> (u16, Value) {
        let body = json!({
            "type": "order.paid",
            "scopes": [scope],
            "data": {"scope": scope},
            "idempotency_key": "order-1001"
        });
        app.call_as(token, Method::POST, "/events", Some(body))
            .await
    }

    let (s, a) = publish(&app, &tokens[0], "tenant-a").await;
    assert_eq!(s, 202, "{a}");
    let (s, b) = publish(&app, &tokens[1], "tenant-b").await;
    assert_eq!(
        s, 202,
        "tenant-b's event is new, not tenant-a's duplicate: {b}"
    );
    assert_ne!(b["id"], a["id"]);
    assert_eq!(b["deliveries"], 1);
    assert!(b.get("duplicate").is_none(), "{b}");
    // Each tenant's repeat finds its own event.
    let (s, again) = publish(&app, &tokens[1], "tenant-b").await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (&again["id"], &again["duplicate"]),
        (&b["id"], &json!(true))
    );
    // The admin's key is its own.
    let (s, admin) = app
        .post(
            "/events",
            json!({"type": "order.paid", "scopes": ["tenant-a"], "data": {},
                   "idempotency_key": "order-1001"}),
        )
        .await;
    assert_eq!(s, 202, "{admin}");

    let got = receiver_b.wait_for(1).await;
    assert_eq!(got[0].json()["id"], b["id"]);
    assert_eq!(got[0].json()["data"], json!({"scope": "tenant-b"}));
    // Searching by the key, tenant-b sees its own event only.
    let (s, found) = app
        .call_as(
            &tokens[1],
            Method::GET,
            "/events?idempotency_key=order-1001",
            None,
        )
        .await;
    assert_eq!(s, 200, "{found}");
    let ids: Vec<&Value> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&b["id"]]);
    receiver_a.wait_for(2).await;
    app.stop().await;
}
