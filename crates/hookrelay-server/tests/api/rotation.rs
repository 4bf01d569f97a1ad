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

#[tokio::test]
async fn ed25519_endpoints_sign_v1a_and_rotate_to_and_from_hmac() {
    use hookrelay_signature::{Keys, PublicKey, verify_with};

    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    let (s, e) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": receiver.url("/"), "key_type": "ed25519"}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["key_type"], "ed25519");
    app.put("/scopes/s/subscriptions", json!({"e": ["a"]}))
        .await;
    let (_, shown) = app.get("/scopes/s/endpoints/e/secret").await;
    assert!(
        shown["secret"].as_str().unwrap().starts_with("whsk_"),
        "{shown}"
    );
    let public = PublicKey::parse(shown["public_key"].as_str().unwrap()).unwrap();

    app.publish("a", &["s"], json!({"n": 1})).await;
    let r = &receiver.wait_for(1).await[0];
    let header = &r.headers["webhook-signature"];
    assert!(
        header.starts_with("v1a,") && !header.contains(' '),
        "{header}"
    );
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    let keys = Keys {
        secrets: &[],
        public_keys: std::slice::from_ref(&public),
    };
    verify_with(
        keys,
        &r.headers["webhook-id"],
        ts,
        &r.body,
        header,
        now(),
        300,
    )
    .expect("the public key verifies the v1a signature");

    // Rotating to an HMAC secret: both signatures during the grace period.
    let (s, rotated) = app
        .post(
            "/scopes/s/endpoints/e/secret/rotate",
            json!({"key_type": "hmac"}),
        )
        .await;
    assert_eq!(s, 200, "{rotated}");
    assert!(rotated.get("public_key").is_none());
    let new = Secret::parse(rotated["secret"].as_str().unwrap()).unwrap();
    app.publish("a", &["s"], json!({"n": 2})).await;
    let r = &receiver.wait_for(2).await[1];
    let header = &r.headers["webhook-signature"];
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    assert!(
        header.starts_with("v1,") && header.contains(" v1a,"),
        "{header}"
    );
    let both = Keys {
        secrets: std::slice::from_ref(&new),
        public_keys: &[],
    };
    verify_with(
        both,
        &r.headers["webhook-id"],
        ts,
        &r.body,
        header,
        now(),
        300,
    )
    .unwrap();
    verify_with(
        keys,
        &r.headers["webhook-id"],
        ts,
        &r.body,
        header,
        now(),
        300,
    )
    .expect("the old public key still verifies during the grace period");

    let (s, bad) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "x", "url": receiver.url("/"), "secret": "whpk_AAAA"}),
        )
        .await;
    assert_eq!(s, 422, "a public key cannot sign: {bad}");
    assert_eq!(bad["error"]["details"][0]["field"], "secret");
    app.stop().await;
}
