//! The SSRF guard: private and reserved networks are refused when an endpoint is
//! created or changed, and again when a delivery connects.

use serde_json::json;

use crate::support::{TestApp, TestReceiver};

const BLOCKED: &[&str] = &[
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://127.0.0.1:9/hook",
    "http://[::1]:9/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://localhost:9/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    // 6to4 of 169.254.169.254, and a local-use NAT64 translator.
    "http://[2002:a9fe:a9fe::1]/hook",
    "http://[64:ff9b:1::a9fe:a9fe]/hook",
];

fn assert_refused(status: u16, body: &serde_json::Value, field: &str, url: &str) {
    assert_eq!(status, 422, "{url}: {body}");
    let detail = &body["error"]["details"][0];
    assert_eq!(detail["field"], field, "{url}: {body}");
    let message = detail["message"].as_str().unwrap();
    assert!(
        message.contains("HOOKRELAY_ALLOW_NETWORKS="),
        "{url}: {message}"
    );
}

#[tokio::test]
async fn blocked_networks_are_refused_at_create_patch_and_apply() {
    let app = TestApp::with(|c| c.allow_networks = None).await;
    for url in BLOCKED {
        let (s, body) = app
            .post("/scopes/s/endpoints", json!({"code": "e", "url": url}))
            .await;
        assert_refused(s, &body, "url", url);
        let (s, body) = app
            .put(
                "/scopes/s/endpoints",
                json!([{"code": "ok", "url": "https://example.com/"}, {"code": "e", "url": url}]),
            )
            .await;
        assert_refused(s, &body, "[1].url", url);
    }
    let (s, _) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "public", "url": "https://example.com/hook"}),
        )
        .await;
    assert_eq!(s, 201, "a public host is accepted");
    for url in BLOCKED {
        let (s, body) = app
            .patch("/scopes/s/endpoints/public", json!({"url": url}))
            .await;
        assert_refused(s, &body, "url", url);
    }
    let (_, endpoint) = app.get("/scopes/s/endpoints/public").await;
    assert_eq!(
        endpoint["url"], "https://example.com/hook",
        "nothing changed"
    );
    let (_, list) = app.get("/scopes/s/endpoints").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing half-applied"
    );
    app.stop().await;
}

#[tokio::test]
async fn allowed_networks_are_exempt() {
    let app = TestApp::with(|c| c.allow_networks = Some("10.0.0.0/8, ::1/128".into())).await;
    for url in [
        "http://10.0.0.1/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:10.1.2.3]/",
    ] {
        let code = format!("e{}", url.len());
        let (s, body) = app
            .post("/scopes/s/endpoints", json!({"code": code, "url": url}))
            .await;
        assert_eq!(s, 201, "{url}: {body}");
    }
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "x", "url": "http://127.0.0.1/"}),
        )
        .await;
    assert_refused(s, &body, "url", "127.0.0.1");
    app.stop().await;
}

#[tokio::test]
async fn deliveries_are_refused_at_connect_time() {
    // Endpoints registered while loopback was allowed; then the operator removes it.
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    let port = receiver.addr.port();
    app.endpoint(
        "s",
        "literal",
        &format!("http://127.0.0.1:{port}/literal"),
        &["a"],
    )
    .await;
    app.endpoint(
        "s",
        "named",
        &format!("http://localhost:{port}/named"),
        &["a"],
    )
    .await;
    let app = app
        .restart_with(|c| {
            c.allow_networks = None;
            c.retry_schedule = Some(String::new());
        })
        .await;
    let event = app.publish("a", &["s"], json!({})).await;
    assert_eq!(event["deliveries"], 2);
    for d in app.deliveries_of(event["id"].as_str().unwrap()).await {
        let done = app
            .wait_for_status(d["id"].as_str().unwrap(), "failed")
            .await;
        let error = done["attempts"][0]["error"].as_str().unwrap().to_owned();
        assert!(
            error.contains("SSRF guard"),
            "{}: {error}",
            done["endpoint"]
        );
        assert!(done["attempts"][0]["status_code"].is_null());
    }
    assert!(
        receiver.received().is_empty(),
        "no request reached the receiver"
    );
    app.stop().await;
}

#[tokio::test]
async fn https_only_refuses_plain_http_endpoints() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "plain", &receiver.url("/"), &["a"]).await;
    let app = app
        .restart_with(|c| {
            c.https_only = true;
            c.retry_schedule = Some(String::new());
        })
        .await;
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": receiver.url("/")}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "url");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HOOKRELAY_HTTPS_ONLY")
    );
    let (s, _) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "tls", "url": "https://example.com/"}),
        )
        .await;
    assert_eq!(s, 201);

    // An http:// endpoint stored before the setting is refused at delivery time.
    let event = app.publish("a", &["s"], json!({})).await;
    let d = app.deliveries_of(event["id"].as_str().unwrap()).await;
    let done = app
        .wait_for_status(d[0]["id"].as_str().unwrap(), "failed")
        .await;
    assert!(
        done["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("only https://"),
        "{done}"
    );
    assert!(receiver.received().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_source_forwarding_into_a_blocked_network_is_refused_at_configuration() {
    // The test app allows 127.0.0.0/8 (the receiver) and nothing else. No request is ever
    // sent to the refused addresses: only the API's answer is checked.
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let fine = receiver.url("/in");
    for url in ["http://10.0.0.1/x", "http://169.254.169.254/"] {
        let (s, body) = app
            .put(
                "/sources/leaky",
                json!({"verify": {"type": "none"}, "forward_to": [url]}),
            )
            .await;
        assert_refused(s, &body, "forward_to[0]", url);
        let (s, body) = app
            .put(
                "/sources/leaky",
                json!({"verify": {"type": "none"}, "forward_to": [fine, url]}),
            )
            .await;
        assert_refused(s, &body, "forward_to[1]", url);
    }
    let (s, _) = app.get("/sources/leaky").await;
    assert_eq!(s, 404, "nothing was stored");

    // A refused replacement leaves the source and its forward endpoint as they were.
    let (s, body) = app
        .put(
            "/sources/kept",
            json!({"verify": {"type": "none"}, "forward_to": [fine]}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app
        .put(
            "/sources/kept",
            json!({"verify": {"type": "none"}, "forward_to": ["http://169.254.169.254/"]}),
        )
        .await;
    assert_refused(s, &body, "forward_to[0]", "http://169.254.169.254/");
    let (_, kept) = app.get("/sources/kept").await;
    assert_eq!(kept["forward_to"], json!([fine]), "{kept}");
    let (_, endpoints) = app.get("/scopes/inbound:kept/endpoints").await;
    let urls: Vec<_> = endpoints["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].clone())
        .collect();
    assert_eq!(urls, vec![json!(fine)], "{endpoints}");
    app.stop().await;
}
