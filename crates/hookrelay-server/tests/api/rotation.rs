//! Secret rotation: the new secret at once, the old one still signing during the grace
//! period.

use hookrelay_signature::{Secret, verify};
use serde_json::json;

use crate::support::{ADMIN, TestApp, TestReceiver};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_during_the_grace_period() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let (_, old) = app.get("/scopes/s/endpoints/e/secret").await;
    let old = Secret::parse(old["secret"].as_str().unwrap()).unwrap();

    // `{}` generates the new secret; the default grace period is 24 h.
    let (s, rotated) = app
        .post("/scopes/s/endpoints/e/secret/rotate", json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    assert!(rotated["previous_secret_expires_at"].is_string());
    let (_, shown) = app.get("/scopes/s/endpoints/e/secret").await;
    assert_eq!(
        shown["secret"], rotated["secret"],
        "GET shows the new secret"
    );
    let new = Secret::parse(shown["secret"].as_str().unwrap()).unwrap();
    assert_ne!(new, old);

    app.publish("a", &["s"], json!({"n": 1})).await;
    let got = receiver.wait_for(1).await;
    let r = &got[0];
    let header = &r.headers["webhook-signature"];
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    assert_eq!(
        header.split(' ').filter(|p| p.starts_with("v1,")).count(),
        2,
        "{header}"
    );
    for secret in [old.clone(), new.clone()] {
        verify(
            &[secret],
            &r.headers["webhook-id"],
            ts,
            &r.body,
            header,
            now(),
            300,
        )
        .expect("both secrets verify");
    }

    // A rotation without grace period: only the newest secret signs.
    let given = Secret::generate().to_text();
    let (s, body) = app
        .post(
            "/scopes/s/endpoints/e/secret/rotate",
            json!({"secret": given, "grace_period_s": 0}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["previous_secret_expires_at"].is_null());
    app.publish("a", &["s"], json!({"n": 2})).await;
    let got = receiver.wait_for(2).await;
    let header = &got[1].headers["webhook-signature"];
    assert_eq!(header.split(' ').count(), 1, "{header}");
    let ts: i64 = got[1].headers["webhook-timestamp"].parse().unwrap();
    verify(
        &[Secret::parse(&given).unwrap()],
        &got[1].headers["webhook-id"],
        ts,
        &got[1].body,
        header,
        now(),
        300,
    )
    .unwrap();
    assert!(
        verify(
            &[new],
            &got[1].headers["webhook-id"],
            ts,
            &got[1].body,
            header,
            now(),
            300
        )
        .is_err()
    );
    app.stop().await;
}

#[tokio::test]
async fn rotation_refuses_bad_input() {
    let app = TestApp::spawn().await;
    app.post(
        "/scopes/s/endpoints",
        json!({"code": "e", "url": "https://example.com/"}),
    )
    .await;
    let (s, body) = app
        .post(
            "/scopes/s/endpoints/e/secret/rotate",
            json!({"secret": "plain"}),
        )
        .await;
    assert_eq!(
        (s, body["error"]["details"][0]["field"].clone()),
        (422, json!("secret"))
    );
    let (s, _) = app
        .post(
            "/scopes/s/endpoints/e/secret/rotate",
            json!({"grace_period_s": 99_999_999}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .post("/scopes/s/endpoints/ghost/secret/rotate", json!({}))
        .await;
    assert_eq!(s, 404);
    // An empty body is accepted as `{}`.
    let resp = app
        .client
        .post(app.url("/scopes/s/endpoints/e/secret/rotate"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    app.stop().await;
}
