//! The dashboard's inbound pages: sources, a source's request log (status filter,
//! cursors) and one request's headers and body; admin-only.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Browser, assert_login_required, next_href};
use crate::support::{ADMIN, TestApp, TestReceiver, wait_until};

/// The key the source accepts; it must never show on a page.
const KEY: &str = "key-that-must-stay-secret";

/// A source `shop` that checks `x-api-key`, deduplicates on `x-delivery` and forwards
/// to `receiver`.
async fn shop_source(app: &TestApp, receiver: &TestReceiver) {
    let (s, body) = app
        .put(
            "/sources/shop",
            json!({
                "verify": {"type": "api_key", "header": "x-api-key", "values": [KEY]},
                "dedupe": {"header": "x-delivery"},
                "forward_to": [receiver.url("/shop")]
            }),
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

/// `POST /in/shop` as the provider would; returns the status.
async fn send(app: &TestApp, key: &str, delivery: &str, body: &str) -> u16 {
    app.client
        .post(format!("{}/in/shop", app.base))
        .header("x-api-key", key)
        .header("x-delivery", delivery)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

/// The request log as the API shows it.
async fn log(app: &TestApp) -> Vec<Value> {
    let (s, body) = app.get("/sources/shop/requests").await;
    assert_eq!(s, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

/// Rows of a request log page (each links to its request).
fn rows(html: &str) -> usize {
    html.matches("<tr><td><a href=\"/ui/inbound/shop/").count()
}

#[tokio::test]
async fn inbound_pages_send_a_logged_out_browser_to_login() {
    let app = TestApp::spawn().await;
    let paths = ["/ui/inbound", "/ui/inbound/gh", "/ui/inbound/gh/req_0"];
    assert_login_required(&app, &paths).await;
}

#[tokio::test]
async fn sources_and_their_request_log_show_what_the_gateway_decided() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    shop_source(&app, &receiver).await;
    let body = r#"{"order":7,"note":"<script>alert(1)</script>"}"#;
    assert_eq!(send(&app, KEY, "d-1", body).await, 202);
    assert_eq!(send(&app, KEY, "d-1", body).await, 200, "a duplicate");
    assert_eq!(send(&app, "a-wrong-key", "d-2", body).await, 401);
    receiver.wait_for(1).await;
    // Wait until the forward is recorded as succeeded, so the page shows its outcome.
    let accepted = wait_until(Duration::from_secs(15), || async {
        log(&app).await.into_iter().find(|r| {
            r["status"] == "accepted"
                && r["forwards"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f["status"] == "succeeded"))
        })
    })
    .await
    .expect("the forward succeeds");
    let entries = log(&app).await;
    let rejected = entries.iter().find(|r| r["status"] == "rejected").unwrap();
    let reason = rejected["reason"].as_str().expect("a reason").to_owned();
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let sources = b.get(Some(&cookie), "/ui/inbound").await;
    assert_eq!(sources.status, 200, "{}", sources.body);
    let html = &sources.body;
    assert!(html.contains("<th scope=\"row\">shop</th>"), "{html}");
    assert!(html.contains("<td>api_key</td>"), "{html}");
    assert!(html.contains(&receiver.url("/shop")), "{html}");
    assert!(html.contains("<td>yes</td>"), "enabled: {html}");
    assert!(html.contains("href=\"/ui/inbound/shop\""), "{html}");
    assert!(!html.contains(KEY), "{html}");

    let page = b.get(Some(&cookie), "/ui/inbound/shop").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert_eq!(rows(html), 3, "{html}");
    for status in ["accepted", "duplicate", "rejected"] {
        assert!(
            html.contains(&format!("\">{status}</td>")),
            "{status}: {html}"
        );
    }
    assert!(
        html.contains(&format!(
            "<td>{}</td>",
            reason.replace('"', "&quot;").replace('\'', "&#39;")
        )),
        "the reason {reason:?}: {html}"
    );
    assert!(html.contains("<td>127.0.0.1</td>"), "{html}");
    assert!(html.contains("verified (api_key)"), "{html}");
    assert!(html.contains("not verified"), "{html}");
    assert!(html.contains("<td>d-1</td>"), "the dedupe key: {html}");
    let forward = accepted["forwards"][0]["delivery_id"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"/ui/deliveries/{forward}\"")),
        "{html}"
    );
    assert!(html.contains(">succeeded</span>"), "{html}");
    assert!(html.contains("<th scope=\"col\">Dedupe key</th>"));

    let only = b
        .get(Some(&cookie), "/ui/inbound/shop?status=rejected")
        .await;
    assert_eq!(rows(&only.body), 1, "{}", only.body);
    assert!(only.body.contains("\">rejected</td>"));
    assert!(only.body.contains("<option value=\"rejected\" selected>"));
    let bad = b.get(Some(&cookie), "/ui/inbound/shop?status=lost").await;
    assert_eq!(bad.status, 422);

    let id = accepted["id"].as_str().unwrap();
    let one = b
        .get(Some(&cookie), &format!("/ui/inbound/shop/{id}"))
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    let html = &one.body;
    assert!(
        html.contains("<th scope=\"row\">x-delivery</th><td>d-1</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">x-api-key</th><td>[redacted]</td>"),
        "{html}"
    );
    assert!(!html.contains(KEY), "the key is never shown: {html}");
    assert!(
        html.contains("\n  &quot;order&quot;: 7"),
        "pretty JSON: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    let missing = b.get(Some(&cookie), "/ui/inbound/shop/req_0").await;
    assert_eq!(missing.status, 404);
    let missing = b.get(Some(&cookie), "/ui/inbound/nowhere").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn inbound_pages_are_admin_only() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    shop_source(&app, &receiver).await;
    assert_eq!(send(&app, KEY, "d-1", "{}").await, 202);
    let id = log(&app).await[0]["id"].as_str().unwrap().to_owned();
    let (s, token) = app.post("/tokens", json!({"scopes": ["tenant-a"]})).await;
    assert_eq!(s, 201, "{token}");
    let b = Browser::new(&app);
    let cookie = b.login(token["token"].as_str().unwrap()).await;
    for path in [
        "/ui/inbound".to_owned(),
        "/ui/inbound/shop".to_owned(),
        format!("/ui/inbound/shop/{id}"),
    ] {
        let page = b.get(Some(&cookie), &path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(
            page.body.contains("Inbound sources are admin-only"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains(&id) && !page.body.contains("d-1"));
        assert!(page.body.contains("<nav>"), "still logged in: {path}");
    }
}

#[tokio::test]
async fn empty_inbound_pages_say_what_to_do() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/inbound").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("No inbound sources yet"),
        "{}",
        page.body
    );
    assert!(page.body.contains("PUT /api/v1/sources/{name}"));

    let receiver = TestReceiver::start().await;
    shop_source(&app, &receiver).await;
    let page = b.get(Some(&cookie), "/ui/inbound/shop").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No requests yet"), "{}", page.body);
    assert!(page.body.contains("POST /in/shop"), "{}", page.body);
}

#[tokio::test]
async fn the_request_log_pages_with_cursors_and_keeps_its_filter() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    shop_source(&app, &receiver).await;
    // Rejected requests forward nothing, so the log fills without deliveries.
    for n in 0..51 {
        assert_eq!(send(&app, "wrong", &format!("d-{n}"), "{}").await, 401);
    }
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let first = b
        .get(Some(&cookie), "/ui/inbound/shop?status=rejected")
        .await;
    assert_eq!(rows(&first.body), 50);
    let next = next_href(&first.body).expect("a next link");
    assert!(
        next.starts_with("/ui/inbound/shop?status=rejected&cursor=req_"),
        "{next}"
    );
    let second = b.get(Some(&cookie), &next).await;
    assert_eq!(rows(&second.body), 1, "{}", second.body);
    assert!(next_href(&second.body).is_none());
}
