//! Accepted and forwarded, one provider at a time: each verification scheme passes a
//! genuine request, which reaches the target byte for byte and is logged.

use hookrelay_signature::providers::{github, hmac, shopify, slack, stripe};
use hookrelay_signature::{Keys, Secret, SigningKey, standard};
use serde_json::json;

use super::{
    BASIC_PASSWORD, BASIC_USER, DJANGO_SECRET, GITHUB_SECRET, ODD_BODY, SHOPIFY_SECRET,
    SLACK_SECRET, STRIPE_SECRET, assert_forwarded, assert_rejected_not_forwarded, basic_auth,
    django_scheme, forward_deliveries, gateway, github_headers, log_entry, log_of, now, secrets,
    send, shopify_headers, slack_headers, standard_headers, stripe_headers, uuid, wait_forwarded,
};

#[tokio::test]
async fn a_signed_github_request_is_forwarded_byte_for_byte_and_logged() {
    let (app, receiver) = gateway(&[("gh", secrets("github", GITHUB_SECRET))]).await;
    let body = ODD_BODY.as_bytes();
    let delivery = uuid();
    let mut headers = github_headers(GITHUB_SECRET, body, &delivery);
    headers.push(("x-github-hook-id", "292430182".to_owned()));

    let reply = send(&app, "gh", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "gh", "github", &reply, body).await;

    let signature = &got.headers["x-hub-signature-256"];
    assert_eq!(
        signature,
        &github::sign(GITHUB_SECRET.as_bytes(), body),
        "the signature header arrives unchanged"
    );
    github::verify(&[GITHUB_SECRET], &got.body, Some(signature))
        .expect("the forwarded request still verifies with the GitHub secret");
    assert_eq!(got.headers["x-github-event"], "push");
    assert_eq!(got.headers["x-github-delivery"], delivery);
    assert_eq!(
        got.headers["x-github-hook-id"], "292430182",
        "the provider's other headers are kept"
    );
    assert_eq!(got.headers["content-type"], "application/json");
    assert_eq!(
        got.headers.get("host").map(String::as_str),
        Some(receiver.addr.to_string().as_str()),
        "the host header is the target's, not the gateway's"
    );

    // The log: accepted, with the forward delivery, which succeeds.
    let entry = wait_forwarded(&app, "gh", &id).await;
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["status"], "accepted");
    assert!(
        entry["reason"].is_null(),
        "no reason when accepted: {entry}"
    );
    assert!(entry["received_at"].is_string(), "{entry}");
    assert_eq!(entry["client_ip"], "127.0.0.1");
    assert_eq!(entry["dedupe_key"], delivery.as_str());
    assert_eq!(entry["body_size"], body.len());
    assert!(entry["event_id"].is_null(), "nothing published: {entry}");
    let forwards = entry["forwards"].as_array().unwrap();
    assert_eq!(forwards.len(), 1, "{entry}");
    assert_eq!(forwards[0]["url"], receiver.url("/gh"));
    let delivery_id = forwards[0]["delivery_id"].as_str().unwrap().to_owned();
    let d = app.wait_for_status(&delivery_id, "succeeded").await;
    assert_eq!(d["attempts"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["attempts"][0]["status_code"], 200);

    // The detail keeps the headers and the raw body.
    assert_eq!(entry["headers"]["x-github-event"], "push", "{entry}");
    assert_eq!(entry["headers"]["x-github-delivery"], delivery.as_str());
    assert_eq!(entry["body"], ODD_BODY, "the raw body, as text");

    let listed = log_of(&app, "gh", "").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["status"], "accepted");
    assert_eq!(
        listed[0]["forwards"][0]["delivery_id"],
        delivery_id.as_str()
    );
    assert_eq!(listed[0]["forwards"][0]["status"], "succeeded");

    // Forwards are ordinary deliveries in the scope inbound:gh.
    let deliveries = forward_deliveries(&app, "gh").await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["id"], delivery_id.as_str());
    let (s, endpoints) = app.get("/scopes/inbound:gh/endpoints").await;
    assert_eq!(s, 200, "{endpoints}");
    assert!(
        endpoints["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["url"] == receiver.url("/gh")),
        "the forward target is an endpoint of inbound:gh: {endpoints}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stripe_request_signed_now_is_verified_and_forwarded() {
    let (app, receiver) = gateway(&[("stripe", secrets("stripe", STRIPE_SECRET))]).await;
    let body = br#"{
  "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
  "object": "event",
  "type": "payment_intent.succeeded",
  "data": {"object": {"id": "pi_1", "amount": 2000}}
}"#;
    let headers = stripe_headers(STRIPE_SECRET, now(), body);

    let reply = send(&app, "stripe", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "stripe", "stripe", &reply, body).await;
    assert_eq!(got.headers["stripe-signature"], headers[1].1);
    stripe::verify(
        &[STRIPE_SECRET],
        &got.body,
        got.headers.get("stripe-signature").map(String::as_str),
        now(),
        300,
    )
    .expect("the forwarded request still verifies with the Stripe secret");
    let entry = wait_forwarded(&app, "stripe", &id).await;
    assert_eq!(entry["status"], "accepted");
    assert_eq!(
        entry["dedupe_key"], "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "Stripe deduplicates on the body's id"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_shopify_request_is_verified_and_forwarded() {
    let (app, receiver) = gateway(&[("shop", secrets("shopify", SHOPIFY_SECRET))]).await;
    let body = br#"{"id":820982911946154508,"email":"jon@example.com","note":"K\u00f6ln"}"#;
    let webhook_id = uuid();
    let headers = shopify_headers(SHOPIFY_SECRET, body, &webhook_id);

    let reply = send(&app, "shop", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "shop", "shopify", &reply, body).await;
    assert_eq!(got.headers["x-shopify-topic"], "orders/create");
    shopify::verify(
        &[SHOPIFY_SECRET],
        &got.body,
        got.headers.get("x-shopify-hmac-sha256").map(String::as_str),
    )
    .expect("the forwarded request still verifies with the Shopify secret");
    let entry = wait_forwarded(&app, "shop", &id).await;
    assert_eq!(entry["dedupe_key"], webhook_id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_slack_request_signed_now_is_verified_and_forwarded() {
    let (app, receiver) = gateway(&[("slack", secrets("slack", SLACK_SECRET))]).await;
    let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";
    let t = now();
    let headers = slack_headers(SLACK_SECRET, t, body);

    let reply = send(&app, "slack", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "slack", "slack", &reply, body).await;
    assert_eq!(
        got.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    slack::verify(
        &[SLACK_SECRET],
        &got.body,
        got.headers
            .get("x-slack-request-timestamp")
            .map(String::as_str),
        got.headers.get("x-slack-signature").map(String::as_str),
        now(),
        300,
    )
    .expect("the forwarded request still verifies with the Slack secret");
    let entry = wait_forwarded(&app, "slack", &id).await;
    assert!(
        entry["dedupe_key"].is_null(),
        "Slack requests carry no id, so nothing is deduplicated by default: {entry}"
    );
    app.stop().await;
}

#[tokio::test]
async fn slack_url_verification_is_answered_with_the_challenge_and_not_forwarded() {
    let (app, receiver) = gateway(&[("slack", secrets("slack", SLACK_SECRET))]).await;
    let challenge =
        br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"abc","type":"url_verification"}"#;

    // Unsigned, the challenge is refused like any other request.
    let reply = send(
        &app,
        "slack",
        &[("content-type", "application/json".to_owned())],
        challenge,
    )
    .await;
    assert_eq!(
        reply.status, 401,
        "an unsigned challenge is not answered: {}",
        reply.text
    );

    let mut headers = slack_headers(SLACK_SECRET, now(), challenge);
    headers[0].1 = "application/json".to_owned();
    let reply = send(&app, "slack", &headers, challenge).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json, json!({"challenge": "abc"}));

    // Nothing was queued for the challenge; a later event is the only thing forwarded.
    assert!(
        forward_deliveries(&app, "slack").await.is_empty(),
        "the challenge is not forwarded"
    );
    let body = b"token=x&team_id=T1&command=%2Fdeploy";
    let reply = send(
        &app,
        "slack",
        &slack_headers(SLACK_SECRET, now(), body),
        body,
    )
    .await;
    assert_forwarded(&receiver, "slack", "slack", &reply, body).await;
    assert_eq!(receiver.received().len(), 1, "only the event was forwarded");
    app.stop().await;
}

#[tokio::test]
async fn standard_webhooks_v1_and_v1a_requests_are_verified_and_forwarded() {
    let secret = Secret::generate();
    let key = SigningKey::generate();
    let (app, receiver) = gateway(&[
        (
            "hmac-std",
            json!({"type": "standard", "secrets": [secret.to_text()]}),
        ),
        (
            "ed-std",
            json!({"type": "standard", "secrets": [key.public_key().to_text()]}),
        ),
    ])
    .await;
    let body = br#"{"type":"invoice.paid", "data":{"id":"inv_1"}}"#;

    // v1: HMAC with a whsec_ secret.
    let msg = format!("msg_{}", uuid());
    let t = now();
    let headers = standard_headers(&msg, t, standard::sign(&secret, &msg, t, body));
    let reply = send(&app, "hmac-std", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "hmac-std", "standard", &reply, body).await;
    assert_eq!(
        got.headers["webhook-id"], msg,
        "the sender's webhook-id is kept"
    );
    assert_eq!(got.headers["webhook-timestamp"], t.to_string());
    assert_eq!(
        got.headers["webhook-signature"], headers[3].1,
        "the sender's signature is kept, not replaced by Hookrelay's"
    );
    standard::verify(
        std::slice::from_ref(&secret),
        &got.headers["webhook-id"],
        got.headers["webhook-timestamp"].parse().unwrap(),
        &got.body,
        &got.headers["webhook-signature"],
        now(),
        300,
    )
    .expect("the forwarded request still verifies with the whsec_ secret");
    let entry = wait_forwarded(&app, "hmac-std", &id).await;
    assert_eq!(entry["dedupe_key"], msg.as_str());

    // v1a: ed25519, the source holds only the whpk_ public key.
    let msg = format!("msg_{}", uuid());
    let t = now();
    let headers = standard_headers(&msg, t, standard::sign_v1a(&key, &msg, t, body));
    let reply = send(&app, "ed-std", &headers, body).await;
    let (_, got) = assert_forwarded(&receiver, "ed-std", "standard", &reply, body).await;
    assert_eq!(got.headers["webhook-signature"], headers[3].1);
    let public = [key.public_key()];
    standard::verify_with(
        Keys {
            secrets: &[],
            public_keys: &public,
        },
        &got.headers["webhook-id"],
        got.headers["webhook-timestamp"].parse().unwrap(),
        &got.body,
        &got.headers["webhook-signature"],
        now(),
        300,
    )
    .expect("the forwarded request still verifies with the whpk_ public key");
    app.stop().await;
}

#[tokio::test]
async fn a_django_style_hmac_header_is_verified_and_forwarded() {
    // algorithm and encoding left to their defaults: sha256, hex.
    let (app, receiver) = gateway(&[(
        "django",
        json!({"type": "hmac", "header": "x-signature", "secrets": [DJANGO_SECRET]}),
    )])
    .await;
    // json.dumps() output: a space after every ':' and ','.
    let body = br#"{"event": "template_update", "scope": "biz:biz1", "data": {"template_id": 7}}"#;
    let scheme = django_scheme();
    let signature = hmac::sign(&scheme, DJANGO_SECRET.as_bytes(), body);
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("X-Signature", signature.clone()),
    ];

    let reply = send(&app, "django", &headers, body).await;
    let (id, got) = assert_forwarded(&receiver, "django", "hmac", &reply, body).await;
    assert_eq!(got.headers["x-signature"], signature);
    hmac::verify(
        &scheme,
        &[DJANGO_SECRET],
        &got.body,
        got.headers.get("x-signature").map(String::as_str),
    )
    .expect("the forwarded request still verifies with the shared secret");
    wait_forwarded(&app, "django", &id).await;
    app.stop().await;
}

#[tokio::test]
async fn basic_auth_api_key_and_unverified_sources_accept_and_forward() {
    let (app, receiver) = gateway(&[
        (
            "basic",
            json!({"type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD}),
        ),
        (
            "keyed",
            json!({"type": "api_key", "header": "x-api-key", "values": ["key-one", "key-two"]}),
        ),
        ("open", json!({"type": "none"})),
    ])
    .await;
    let body = br#"{"ping": true}"#;

    let reply = send(
        &app,
        "basic",
        &[("authorization", basic_auth(BASIC_USER, BASIC_PASSWORD))],
        body,
    )
    .await;
    let (basic_id, _) = assert_forwarded(&receiver, "basic", "basic", &reply, body).await;

    // Either value of the rotation is accepted.
    for value in ["key-one", "key-two"] {
        let reply = send(&app, "keyed", &[("x-api-key", value.to_owned())], body).await;
        assert_forwarded(&receiver, "keyed", "api_key", &reply, body).await;
    }

    let reply = send(&app, "open", &[], body).await;
    assert_forwarded(&receiver, "open", "none", &reply, body).await;

    // The accepted basic request's credentials are not kept in the log either.
    let entry = log_entry(&app, "basic", &basic_id).await;
    assert_eq!(entry["status"], "accepted");
    assert_eq!(entry["headers"]["authorization"], "[redacted]", "{entry}");
    let keyed = log_of(&app, "keyed", "").await;
    let entry = log_entry(&app, "keyed", keyed[0]["id"].as_str().unwrap()).await;
    assert_eq!(entry["headers"]["x-api-key"], "[redacted]", "{entry}");
    app.stop().await;
}

#[tokio::test]
async fn github_legacy_sha1_signatures_count_only_where_the_source_enables_them() {
    let (app, receiver) = gateway(&[
        (
            "legacy",
            json!({"type": "github", "secrets": [GITHUB_SECRET], "legacy_sha1": true}),
        ),
        ("modern", secrets("github", GITHUB_SECRET)),
    ])
    .await;
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    // What an old GitHub (Enterprise) hook sends: only the SHA-1 header.
    let sha1_only = |secret: &str| {
        vec![
            ("content-type", "application/json".to_owned()),
            ("x-github-event", "ping".to_owned()),
            ("x-github-delivery", uuid()),
            (
                github::LEGACY_HEADER,
                github::sign_sha1(secret.as_bytes(), body),
            ),
        ]
    };

    let reply = send(&app, "legacy", &sha1_only(GITHUB_SECRET), body).await;
    let (_, got) = assert_forwarded(&receiver, "legacy", "github", &reply, body).await;
    github::verify_sha1(
        &[GITHUB_SECRET],
        &got.body,
        got.headers.get("x-hub-signature").map(String::as_str),
    )
    .expect("the SHA-1 signature is forwarded and still verifies");

    let reply = send(&app, "legacy", &sha1_only("another secret"), body).await;
    assert_eq!(reply.status, 401, "a wrong SHA-1 signature: {}", reply.text);

    let reply = send(&app, "modern", &sha1_only(GITHUB_SECRET), body).await;
    assert_eq!(
        reply.status, 401,
        "without legacy_sha1 a SHA-1 signature is not enough: {}",
        reply.text
    );
    assert!(
        reply.message().contains(github::HEADER),
        "the refusal names the missing SHA-256 header: {}",
        reply.text
    );
    assert_rejected_not_forwarded(&app, "modern", 1).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the legacy source forwarded"
    );
    app.stop().await;
}
