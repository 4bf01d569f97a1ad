//! Endpoint CRUD.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn create_read_patch_delete() {
    let app = TestApp::spawn().await;
    let (s, created) = app
        .post(
            "/scopes/biz:biz1/endpoints",
            json!({"code": "webhook1", "name": "Main", "url": "https://example.com/hook", "timeout_ms": 5000, "rate_limit": 10}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert!(created["id"].as_str().unwrap().starts_with("ep_"));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["timeout_ms"], 5000);
    assert!(
        created.get("secret").is_none(),
        "the secret has its own route"
    );

    let (s, secret) = app.get("/scopes/biz:biz1/endpoints/webhook1/secret").await;
    assert_eq!(s, 200);
    assert!(hookrelay_signature::Secret::parse(secret["secret"].as_str().unwrap()).is_ok());

    let (s, patched) = app
        .patch(
            "/scopes/biz:biz1/endpoints/webhook1",
            json!({"enabled": false, "timeout_ms": null}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["enabled"], false);
    assert_eq!(patched["disabled_reason"], "disabled by user");
    assert!(patched["timeout_ms"].is_null());
    assert_eq!(patched["rate_limit"], 10, "untouched fields stay");

    let (s, unknown) = app
        .patch(
            "/scopes/biz:biz1/endpoints/webhook1",
            json!({"colour": "blue"}),
        )
        .await;
    assert_eq!(s, 422, "{unknown}");

    let (_, list) = app.get("/scopes/biz:biz1/endpoints").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());
    let (_, other) = app.get("/scopes/biz:biz2/endpoints").await;
    assert_eq!(other["data"], json!([]));

    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            "/scopes/biz:biz1/endpoints/webhook1",
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            "/scopes/biz:biz1/endpoints/webhook1",
            None,
        )
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_given_secret_is_used() {
    let app = TestApp::spawn().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (s, _) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": "https://example.com/", "secret": secret}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, got) = app.get("/scopes/s/endpoints/e/secret").await;
    assert_eq!(got["secret"], secret);
    app.stop().await;
}

#[tokio::test]
async fn credentials_that_cannot_be_sent_are_refused_at_create_and_patch() {
    let app = TestApp::spawn().await;
    let broken = json!({"type": "bearer", "token": "abc\ndef"});
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": "https://example.com/hook", "auth": broken}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "auth.token", "{body}");
    let (s, _) = app.get("/scopes/s/endpoints/e").await;
    assert_eq!(s, 404, "nothing was created");

    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": "https://example.com/hook",
                   "auth": {"type": "bearer", "token": "good"}}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app
        .patch(
            "/scopes/s/endpoints/e",
            json!({"auth": {"type": "basic", "username": "a:b", "password": "p"}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        body["error"]["details"][0]["field"], "auth.username",
        "{body}"
    );
    app.stop().await;
}
