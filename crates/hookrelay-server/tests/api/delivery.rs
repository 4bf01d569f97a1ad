//! A published event arrives signed the Standard Webhooks way.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::support::{TestApp, TestReceiver};

/// An independent Standard Webhooks check, written from the spec, not with our crate.
fn independent_verify(secret: &str, id: &str, ts: &str, body: &[u8], header: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|s| s == expected)
}

#[tokio::test]
async fn delivery_is_signed_and_carries_the_envelope() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["template_update"]).await;
    app.endpoint(
        "biz:biz1",
        "webhook1",
        &receiver.url("/hook"),
        &["template_update"],
    )
    .await;
    let (_, secret) = app.get("/scopes/biz:biz1/endpoints/webhook1/secret").await;
    let secret = secret["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    let published = app
        .publish(
            "template_update",
            &["biz:biz1"],
            json!({"template": 7, "name": "ünïcode"}),
        )
        .await;
    assert_eq!(published["deliveries"], 1);
    let event_id = published["id"].as_str().unwrap();

    let got = receiver.wait_for(1).await;
    let r = &got[0];
    assert_eq!(r.path, "/hook");
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(r.headers["user-agent"].starts_with("Hookrelay/"));
    assert_eq!(r.headers["webhook-id"], event_id);
    let ts = &r.headers["webhook-timestamp"];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 30);
    assert!(independent_verify(
        &secret,
        event_id,
        ts,
        &r.body,
        &r.headers["webhook-signature"]
    ));
    hookrelay_signature::verify(
        &[hookrelay_signature::Secret::parse(&secret).unwrap()],
        event_id,
        ts.parse().unwrap(),
        &r.body,
        &r.headers["webhook-signature"],
        now,
        300,
    )
    .expect("our own verifier agrees");

    let body = r.json();
    assert_eq!(body["id"], event_id);
    assert_eq!(body["type"], "template_update");
    assert_eq!(body["scope"], "biz:biz1");
    assert_eq!(body["data"], json!({"template": 7, "name": "ünïcode"}));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    let deliveries = app.deliveries_of(event_id).await;
    let d = app
        .wait_for_status(deliveries[0]["id"].as_str().unwrap(), "succeeded")
        .await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["status_code"], 200);
    assert_eq!(attempts[0]["response_body"], "receiver says hi");
    assert_eq!(attempts[0]["request_headers"]["webhook-id"], event_id);
    app.stop().await;
}

#[tokio::test]
async fn credentials_are_sent_but_never_recorded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    let (s, body) = app
        .post(
            "/scopes/shop/endpoints",
            json!({
                "code": "billing",
                "url": receiver.url("/billing"),
                "headers": {"X-Api-Key": "header-secret-1"},
                "auth": {"type": "bearer", "token": "bearer-secret-2"}
            }),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["headers"]["X-Api-Key"], "[redacted]");
    assert_eq!(body["auth"]["token"], "[redacted]");
    app.put(
        "/scopes/shop/subscriptions",
        json!({"billing": ["order.*"]}),
    )
    .await;
    let event = app.publish("order.paid", &["shop"], json!({})).await;

    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].headers["x-api-key"], "header-secret-1");
    assert_eq!(got[0].headers["authorization"], "Bearer bearer-secret-2");

    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app.wait_for_status(&id, "succeeded").await;
    let recorded = d["attempts"][0]["request_headers"].to_string();
    assert!(!recorded.contains("header-secret-1"), "{recorded}");
    assert!(!recorded.contains("bearer-secret-2"), "{recorded}");
    assert_eq!(
        d["attempts"][0]["request_headers"]["authorization"],
        "[redacted]"
    );
    app.stop().await;
}

#[tokio::test]
async fn basic_auth_is_sent() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.post(
        "/scopes/s/endpoints",
        json!({"code": "e", "url": receiver.url("/"), "auth": {"type": "basic", "username": "u", "password": "p"}}),
    )
    .await;
    app.put("/scopes/s/subscriptions", json!({"e": ["a"]}))
        .await;
    app.publish("a", &["s"], json!(1)).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(
        got[0].headers["authorization"],
        format!("Basic {}", STANDARD.encode("u:p"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_delivery_log_filters_by_event_type_and_time() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid", "user.created"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/h"), &["*"])
        .await;
    app.publish("order.paid", &["biz:1"], json!({})).await;
    app.publish("user.created", &["biz:1"], json!({})).await;
    let count = |v: &serde_json::Value| v["data"].as_array().map_or(0, Vec::len);

    let (s, typed) = app.get("/deliveries?type=user.created").await;
    assert_eq!(s, 200, "{typed}");
    assert_eq!(count(&typed), 1);
    assert_eq!(typed["data"][0]["event_type"], "user.created", "{typed}");
    let (_, window) = app
        .get("/deliveries?since=2020-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(count(&window), 2);
    let (_, later) = app.get("/deliveries?since=2999-01-01T00:00:00Z").await;
    assert_eq!(count(&later), 0);
    let (_, earlier) = app.get("/deliveries?until=2020-01-01T00:00:00Z").await;
    assert_eq!(count(&earlier), 0);
    let (s, bad) = app.get("/deliveries?since=yesterday").await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["error"]["details"][0]["field"], "since", "{bad}");
}
