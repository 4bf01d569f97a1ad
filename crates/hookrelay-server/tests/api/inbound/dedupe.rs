//! Rotation and deduplication: two secrets side by side, and a request seen again within
//! its window (by provider id, header or JSON path) is a duplicate, forwarded once.

use std::time::Duration;

use hookrelay_signature::{Secret, SigningKey, standard};
use serde_json::json;

use crate::support::{TestApp, TestReceiver, wait_until};

use super::{
    GITHUB_SECRET, STRIPE_SECRET, assert_forwarded, forward_deliveries, forwarding_source, gateway,
    github_headers, log_of, now, put_source, secrets, send, standard_headers, stripe_headers, uuid,
};

#[tokio::test]
async fn a_source_with_two_secrets_accepts_either() {
    let (app, receiver) = gateway(&[
        (
            "gh",
            json!({"type": "github", "secrets": ["old-secret", "new-secret"]}),
        ),
        (
            "stripe",
            json!({"type": "stripe", "secrets": ["whsec_old", "whsec_new"]}),
        ),
    ])
    .await;
    let secret = Secret::generate();
    let key = SigningKey::generate();
    forwarding_source(
        &app,
        &receiver,
        "std",
        json!({"type": "standard", "secrets": [secret.to_text(), key.public_key().to_text()]}),
    )
    .await;
    let body = br#"{"id":"evt_rot","n":1}"#;

    for s in ["old-secret", "new-secret"] {
        let reply = send(&app, "gh", &github_headers(s, body, &uuid()), body).await;
        assert_eq!(reply.status, 202, "signed with {s}: {}", reply.text);
        assert_forwarded(&receiver, "gh", "github", &reply, body).await;
    }
    let reply = send(
        &app,
        "gh",
        &github_headers("retired-secret", body, &uuid()),
        body,
    )
    .await;
    assert_eq!(
        reply.status, 401,
        "a third secret is refused: {}",
        reply.text
    );

    // Stripe dedupes on the body id, so each secret signs another event.
    for (s, event) in [("whsec_old", "evt_a"), ("whsec_new", "evt_b")] {
        let body = format!(r#"{{"id":"{event}","object":"event"}}"#);
        let reply = send(
            &app,
            "stripe",
            &stripe_headers(s, now(), body.as_bytes()),
            body.as_bytes(),
        )
        .await;
        assert_eq!(reply.status, 202, "signed with {s}: {}", reply.text);
        assert_forwarded(&receiver, "stripe", "stripe", &reply, body.as_bytes()).await;
    }

    // A whsec_ secret and a whpk_ key side by side: v1 and v1a both pass.
    let t = now();
    let msg = format!("msg_{}", uuid());
    let reply = send(
        &app,
        "std",
        &standard_headers(&msg, t, standard::sign(&secret, &msg, t, body)),
        body,
    )
    .await;
    assert_eq!(reply.status, 202, "v1: {}", reply.text);
    assert_forwarded(&receiver, "std", "standard", &reply, body).await;
    let msg = format!("msg_{}", uuid());
    let reply = send(
        &app,
        "std",
        &standard_headers(&msg, t, standard::sign_v1a(&key, &msg, t, body)),
        body,
    )
    .await;
    assert_eq!(reply.status, 202, "v1a: {}", reply.text);
    assert_forwarded(&receiver, "std", "standard", &reply, body).await;
    app.stop().await;
}

#[tokio::test]
async fn a_key_is_new_again_once_its_dedupe_window_has_passed() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "short",
        json!({
            "verify": {"type": "github", "secrets": [GITHUB_SECRET]},
            "dedupe": {"header": "X-GitHub-Delivery", "window_s": 1},
            "forward_to": [receiver.url("/short")]
        }),
    )
    .await;
    let body = br#"{"ref":"refs/heads/main"}"#;
    let headers = github_headers(GITHUB_SECRET, body, &uuid());
    let first_sent = std::time::Instant::now();
    let first = send(&app, "short", &headers, body).await;
    assert_forwarded(&receiver, "short", "github", &first, body).await;
    let again = send(&app, "short", &headers, body).await;
    assert_eq!(
        again.json["duplicate"], true,
        "within the window: {}",
        again.text
    );

    // The same request once the one-second window is over is accepted and forwarded.
    let later = wait_until(Duration::from_secs(10), || async {
        let r = send(&app, "short", &headers, body).await;
        (r.status == 202).then_some(r)
    })
    .await
    .expect("the key is new again after its window");
    assert!(
        first_sent.elapsed() >= Duration::from_millis(900),
        "accepted again only once the window had passed: {:?}",
        first_sent.elapsed()
    );
    assert_forwarded(&receiver, "short", "github", &later, body).await;
    assert_eq!(forward_deliveries(&app, "short").await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_github_request_is_a_duplicate_and_forwarded_once() {
    let (app, receiver) = gateway(&[("gh", secrets("github", GITHUB_SECRET))]).await;
    let body = br#"{"ref":"refs/heads/main"}"#;
    let delivery = uuid();
    let headers = github_headers(GITHUB_SECRET, body, &delivery);

    let first = send(&app, "gh", &headers, body).await;
    let (first_id, _) = assert_forwarded(&receiver, "gh", "github", &first, body).await;
    let again = send(&app, "gh", &headers, body).await;
    assert_eq!(
        again.status, 200,
        "a redelivery is a duplicate: {}",
        again.text
    );
    assert_eq!(again.json["duplicate"], true, "{}", again.text);

    // Another delivery id is new; once it arrived, the duplicate has had its chance.
    let other = send(
        &app,
        "gh",
        &github_headers(GITHUB_SECRET, body, &uuid()),
        body,
    )
    .await;
    assert_forwarded(&receiver, "gh", "github", &other, body).await;
    assert_eq!(
        forward_deliveries(&app, "gh").await.len(),
        2,
        "the duplicate queued nothing"
    );
    assert_eq!(
        receiver.received().len(),
        2,
        "the duplicate was not forwarded"
    );

    let log = log_of(&app, "gh", "").await;
    let statuses: Vec<&str> = log.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["accepted", "duplicate", "accepted"],
        "newest first: {log:?}"
    );
    assert_eq!(log[2]["id"], first_id.as_str());
    assert_eq!(log[1]["dedupe_key"], delivery.as_str());
    assert!(
        log[1]["forwards"].as_array().is_none_or(Vec::is_empty),
        "a duplicate has no forwards: {}",
        log[1]
    );
    let duplicates = log_of(&app, "gh", "?status=duplicate").await;
    assert_eq!(duplicates.len(), 1, "{duplicates:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_stripe_event_id_seen_twice_is_a_duplicate() {
    let (app, receiver) = gateway(&[("stripe", secrets("stripe", STRIPE_SECRET))]).await;
    let body = br#"{"id":"evt_same","object":"event","type":"charge.succeeded"}"#;
    let t = now();

    let first = send(
        &app,
        "stripe",
        &stripe_headers(STRIPE_SECRET, t, body),
        body,
    )
    .await;
    assert_forwarded(&receiver, "stripe", "stripe", &first, body).await;
    // A retry by Stripe is signed again at another time: the key is the body id, not the
    // signature.
    let retry = send(
        &app,
        "stripe",
        &stripe_headers(STRIPE_SECRET, t - 1, body),
        body,
    )
    .await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.json["duplicate"], true, "{}", retry.text);

    let other = br#"{"id":"evt_other","object":"event","type":"charge.succeeded"}"#;
    let reply = send(
        &app,
        "stripe",
        &stripe_headers(STRIPE_SECRET, t, other),
        other,
    )
    .await;
    assert_forwarded(&receiver, "stripe", "stripe", &reply, other).await;
    assert_eq!(forward_deliveries(&app, "stripe").await.len(), 2);
    assert_eq!(receiver.received().len(), 2);
    let duplicates = log_of(&app, "stripe", "?status=duplicate").await;
    assert_eq!(duplicates.len(), 1, "{duplicates:?}");
    assert_eq!(duplicates[0]["dedupe_key"], "evt_same");
    app.stop().await;
}

#[tokio::test]
async fn a_custom_dedupe_header_or_json_path_finds_duplicates() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "by-header",
        json!({
            "verify": {"type": "none"},
            "dedupe": {"header": "x-request-id"},
            "forward_to": [receiver.url("/by-header")],
        }),
    )
    .await;
    put_source(
        &app,
        "by-path",
        json!({
            "verify": {"type": "none"},
            "dedupe": {"json_path": "data.id", "window_s": 3600},
            "forward_to": [receiver.url("/by-path")],
        }),
    )
    .await;

    // The header decides, not the body.
    let a = br#"{"n":1}"#;
    let b = br#"{"n":2}"#;
    let reply = send(&app, "by-header", &[("x-request-id", "r-1".to_owned())], a).await;
    assert_forwarded(&receiver, "by-header", "none", &reply, a).await;
    let reply = send(&app, "by-header", &[("X-Request-Id", "r-1".to_owned())], b).await;
    assert_eq!(reply.status, 200, "same x-request-id: {}", reply.text);
    assert_eq!(reply.json["duplicate"], true);
    let reply = send(&app, "by-header", &[("x-request-id", "r-2".to_owned())], b).await;
    assert_forwarded(&receiver, "by-header", "none", &reply, b).await;
    assert_eq!(forward_deliveries(&app, "by-header").await.len(), 2);
    let dup = log_of(&app, "by-header", "?status=duplicate").await;
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0]["dedupe_key"], "r-1");

    // A value inside the body.
    let first = br#"{"data":{"id":"ord_1"},"attempt":1}"#;
    let second = br#"{"attempt":2, "data": {"id": "ord_1"}}"#;
    let third = br#"{"data":{"id":"ord_2"},"attempt":1}"#;
    let reply = send(&app, "by-path", &[], first).await;
    assert_forwarded(&receiver, "by-path", "none", &reply, first).await;
    let reply = send(&app, "by-path", &[], second).await;
    assert_eq!(reply.status, 200, "same data.id: {}", reply.text);
    assert_eq!(reply.json["duplicate"], true);
    let reply = send(&app, "by-path", &[], third).await;
    assert_forwarded(&receiver, "by-path", "none", &reply, third).await;
    assert_eq!(forward_deliveries(&app, "by-path").await.len(), 2);
    let dup = log_of(&app, "by-path", "?status=duplicate").await;
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0]["dedupe_key"], "ord_1");
    assert_eq!(receiver.received().len(), 4, "no duplicate was forwarded");
    app.stop().await;
}

#[tokio::test]
async fn with_dedupe_off_every_request_is_forwarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "gh",
        json!({
            "verify": {"type": "github", "secrets": [GITHUB_SECRET]},
            "dedupe": false,
            "forward_to": [receiver.url("/gh")],
        }),
    )
    .await;
    let body = br#"{"ref":"refs/heads/main"}"#;
    let headers = github_headers(GITHUB_SECRET, body, &uuid());

    let first = send(&app, "gh", &headers, body).await;
    let second = send(&app, "gh", &headers, body).await;
    let (a, _) = assert_forwarded(&receiver, "gh", "github", &first, body).await;
    let (b, _) = assert_forwarded(&receiver, "gh", "github", &second, body).await;
    assert_ne!(a, b, "two requests, two ids");
    assert_eq!(forward_deliveries(&app, "gh").await.len(), 2);
    assert!(log_of(&app, "gh", "?status=duplicate").await.is_empty());
    app.stop().await;
}
