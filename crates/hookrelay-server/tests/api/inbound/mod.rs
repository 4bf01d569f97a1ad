//! The inbound gateway at `/in/{source}`: provider verification, forwarding byte for byte,
//! deduplication, limits, the request log, publish mode, and the sources API.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hookrelay_signature::providers::hmac::{Algorithm, Encoding, Scheme};
use hookrelay_signature::providers::{github, hmac, shopify, slack, stripe};
use hookrelay_signature::{Keys, Secret, SigningKey, standard};
use serde_json::{Value, json};

use crate::support::{Answer, Received, TestApp, TestReceiver, wait_until};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STRIPE_SECRET: &str = "whsec_test_secret_for_hookrelay";
const SHOPIFY_SECRET: &str = "shopify_app_secret";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const DJANGO_SECRET: &str = "django-settings-WEBHOOK_SECRET";
const BASIC_USER: &str = "provider";
const BASIC_PASSWORD: &str = "correct horse battery staple";

/// A body that any re-serialisation would change: spacing, tabs, CRLF, a `\u00e9` escape,
/// raw multi-byte UTF-8 and a number with a trailing zero.
const ODD_BODY: &str = concat!(
    "{ \"ref\" :\"refs/heads/main\",\n",
    "\t\"head_commit\": {\"message\": \"caf\\u00e9 \u{2615} \u{2014} fix\"},\r\n",
    "  \"zen\":\"\u{dc}n\u{ef}c\u{f8}d\u{e9}\", \"ratio\": 1.50 }   \n"
);

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// A random UUID-shaped id, like GitHub's `X-GitHub-Delivery`.
fn uuid() -> String {
    let h = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Request headers as `send` takes them.
type Headers = Vec<(&'static str, String)>;

/// What the gateway answered.
struct Reply {
    status: u16,
    content_type: Option<String>,
    text: String,
    json: Value,
}

impl Reply {
    /// The `req_…` id of an accepted request (asserts the 202).
    fn id(&self) -> String {
        assert_eq!(self.status, 202, "the request is accepted: {}", self.text);
        let id = self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("the 202 names the request: {}", self.text));
        assert!(
            id.starts_with("req_"),
            "a request id starts with req_: {id}"
        );
        id.to_owned()
    }

    /// The error message of a refusal.
    fn message(&self) -> String {
        self.json["error"]["message"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "a refusal carries error.message: {} {}",
                    self.status, self.text
                )
            })
            .to_owned()
    }
}

/// `POST /in/{source}` without a token, as a provider would.
async fn send(app: &TestApp, source: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut req = app
        .client
        .post(format!("{}/in/{source}", app.base))
        .body(body.to_vec());
    for (name, value) in headers {
        req = req.header(*name, value.as_str());
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.text().await.expect("answer body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        text,
        json,
    }
}

/// Creates a source; asserts the 201.
async fn put_source(app: &TestApp, name: &str, spec: Value) -> Value {
    let (s, body) = app.put(&format!("/sources/{name}"), spec).await;
    assert_eq!(s, 201, "creating source {name}: {body}");
    body
}

/// A source named `name` verified by `verify` that forwards to `receiver` at `/{name}`.
async fn forwarding_source(app: &TestApp, receiver: &TestReceiver, name: &str, verify: Value) {
    put_source(
        app,
        name,
        json!({"verify": verify, "forward_to": [receiver.url(&format!("/{name}"))]}),
    )
    .await;
}

/// The request log of a source (`query` is e.g. `?status=rejected`).
async fn log_of(app: &TestApp, source: &str, query: &str) -> Vec<Value> {
    let (s, body) = app.get(&format!("/sources/{source}/requests{query}")).await;
    assert_eq!(s, 200, "the request log of {source}: {body}");
    body["data"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("the request log is a list: {body}"))
}

/// One logged request with its headers and body.
async fn log_entry(app: &TestApp, source: &str, request_id: &str) -> Value {
    let (s, body) = app
        .get(&format!("/sources/{source}/requests/{request_id}"))
        .await;
    assert_eq!(s, 200, "the logged request {request_id}: {body}");
    body
}

/// The forward deliveries of a source (scope `inbound:{source}`).
async fn forward_deliveries(app: &TestApp, source: &str) -> Vec<Value> {
    let (s, body) = app
        .get(&format!("/deliveries?scope=inbound:{source}"))
        .await;
    assert_eq!(s, 200, "the deliveries of inbound:{source}: {body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

/// Waits until every forward of a logged request has succeeded; returns the log entry.
async fn wait_forwarded(app: &TestApp, source: &str, request_id: &str) -> Value {
    let path = format!("/sources/{source}/requests/{request_id}");
    wait_until(Duration::from_secs(15), || async {
        let (s, entry) = app.get(&path).await;
        let forwards = entry["forwards"].as_array()?;
        (s == 200 && !forwards.is_empty() && forwards.iter().all(|f| f["status"] == "succeeded"))
            .then_some(entry)
    })
    .await
    .unwrap_or_else(|| panic!("the forwards of {request_id} never all succeeded"))
}

/// Waits for the forwarded copy of the request `request_id`.
async fn arrival(receiver: &TestReceiver, request_id: &str) -> Received {
    wait_until(Duration::from_secs(15), || async {
        receiver.received().into_iter().find(|r| {
            r.headers.get("x-hookrelay-request-id").map(String::as_str) == Some(request_id)
        })
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "request {request_id} was never forwarded; the receiver got {:?}",
            receiver
                .received()
                .iter()
                .map(|r| (
                    r.path.clone(),
                    r.headers.get("x-hookrelay-request-id").cloned()
                ))
                .collect::<Vec<_>>()
        )
    })
}

/// Asserts a 202 whose request reaches `receiver` byte for byte with the gateway's headers.
async fn assert_forwarded(
    receiver: &TestReceiver,
    source: &str,
    verified: &str,
    reply: &Reply,
    body: &[u8],
) -> (String, Received) {
    let id = reply.id();
    let got = arrival(receiver, &id).await;
    assert_eq!(
        got.path,
        format!("/{source}"),
        "forwarded to the configured URL"
    );
    assert_eq!(
        got.body.as_ref(),
        body,
        "the forwarded body is byte-identical to the received one"
    );
    assert_eq!(got.headers["x-hookrelay-source"], source);
    assert_eq!(got.headers["x-hookrelay-request-id"], id);
    assert_eq!(
        got.headers["x-hookrelay-verified"], verified,
        "the forward says how the request was verified"
    );
    (id, got)
}

/// The headers GitHub sends for `body`, signed with `secret`.
fn github_headers(secret: &str, body: &[u8], delivery: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", delivery.to_owned()),
        (github::HEADER, github::sign(secret.as_bytes(), body)),
    ]
}

fn stripe_headers(secret: &str, t: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json; charset=utf-8".to_owned()),
        (stripe::HEADER, stripe::sign(secret.as_bytes(), t, body)),
    ]
}

fn slack_headers(secret: &str, t: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
        (slack::TIMESTAMP_HEADER, t.to_string()),
        (
            slack::SIGNATURE_HEADER,
            slack::sign(secret.as_bytes(), t, body),
        ),
    ]
}

fn shopify_headers(secret: &str, body: &[u8], webhook_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-shopify-topic", "orders/create".to_owned()),
        ("x-shopify-shop-domain", "example.myshopify.com".to_owned()),
        ("x-shopify-webhook-id", webhook_id.to_owned()),
        (shopify::HEADER, shopify::sign(secret.as_bytes(), body)),
    ]
}

/// Standard Webhooks headers around an already computed `webhook-signature`.
fn standard_headers(id: &str, t: i64, signature: String) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", t.to_string()),
        ("webhook-signature", signature),
    ]
}

/// How a Django view signs: `hmac.new(SECRET, request.body, hashlib.sha256).hexdigest()`
/// in `X-Signature`, no prefix.
fn django_scheme() -> Scheme {
    Scheme {
        header: "X-Signature".to_owned(),
        algorithm: Algorithm::Sha256,
        encoding: Encoding::Hex,
        prefix: String::new(),
    }
}

fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

// ---------------------------------------------------------------------------------------
// Accepted and forwarded, one provider at a time
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_signed_github_request_is_forwarded_byte_for_byte_and_logged() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "gh",
        json!({"type": "github", "secrets": [GITHUB_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "stripe",
        json!({"type": "stripe", "secrets": [STRIPE_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "shop",
        json!({"type": "shopify", "secrets": [SHOPIFY_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "slack",
        json!({"type": "slack", "secrets": [SLACK_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "slack",
        json!({"type": "slack", "secrets": [SLACK_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let secret = Secret::generate();
    let key = SigningKey::generate();
    forwarding_source(
        &app,
        &receiver,
        "hmac-std",
        json!({"type": "standard", "secrets": [secret.to_text()]}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "ed-std",
        json!({"type": "standard", "secrets": [key.public_key().to_text()]}),
    )
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    // algorithm and encoding left to their defaults: sha256, hex.
    forwarding_source(
        &app,
        &receiver,
        "django",
        json!({"type": "hmac", "header": "x-signature", "secrets": [DJANGO_SECRET]}),
    )
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "basic",
        json!({"type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "keyed",
        json!({"type": "api_key", "header": "x-api-key", "values": ["key-one", "key-two"]}),
    )
    .await;
    forwarding_source(&app, &receiver, "open", json!({"type": "none"})).await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "legacy",
        json!({"type": "github", "secrets": [GITHUB_SECRET], "legacy_sha1": true}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "modern",
        json!({"type": "github", "secrets": [GITHUB_SECRET]}),
    )
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

// ---------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------

/// One request expected to be refused with 401.
struct Refusal {
    what: &'static str,
    source: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// The message names the problem: it contains one of these (any case).
    names: &'static [&'static str],
}

/// Sends every refusal; each must be a 401 whose message names the problem.
async fn assert_refused(app: &TestApp, refusals: &[Refusal]) {
    for r in refusals {
        let reply = send(app, r.source, &r.headers, &r.body).await;
        assert_eq!(reply.status, 401, "{}: {}", r.what, reply.text);
        let message = reply.message();
        let lower = message.to_lowercase();
        assert!(
            r.names.iter().any(|n| lower.contains(&n.to_lowercase())),
            "{}: the message names the problem ({:?}): {message}",
            r.what,
            r.names
        );
    }
}

/// Asserts that `source` logged `count` rejected requests, with reasons, and forwarded none.
async fn assert_rejected_not_forwarded(app: &TestApp, source: &str, count: usize) -> Vec<Value> {
    let rejected = log_of(app, source, "?status=rejected").await;
    assert_eq!(
        rejected.len(),
        count,
        "every refusal of {source} is logged: {rejected:?}"
    );
    for entry in &rejected {
        assert_eq!(entry["status"], "rejected", "{entry}");
        assert!(
            entry["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "a rejected request says why: {entry}"
        );
        assert_eq!(entry["client_ip"], "127.0.0.1");
        assert!(
            entry["forwards"].as_array().is_none_or(Vec::is_empty),
            "a rejected request has no forwards: {entry}"
        );
    }
    assert!(
        log_of(app, source, "?status=accepted").await.is_empty(),
        "nothing of {source} was accepted"
    );
    assert!(
        forward_deliveries(app, source).await.is_empty(),
        "nothing of {source} was queued for forwarding"
    );
    rejected
}

#[tokio::test]
async fn wrong_missing_and_tampered_signatures_are_401_and_never_forwarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let std_secret = Secret::generate();
    for (name, verify) in [
        ("gh", json!({"type": "github", "secrets": [GITHUB_SECRET]})),
        (
            "shop",
            json!({"type": "shopify", "secrets": [SHOPIFY_SECRET]}),
        ),
        (
            "django",
            json!({"type": "hmac", "header": "x-signature", "secrets": [DJANGO_SECRET]}),
        ),
        (
            "stripe",
            json!({"type": "stripe", "secrets": [STRIPE_SECRET]}),
        ),
        ("slack", json!({"type": "slack", "secrets": [SLACK_SECRET]})),
        (
            "std",
            json!({"type": "standard", "secrets": [std_secret.to_text()]}),
        ),
    ] {
        forwarding_source(&app, &receiver, name, verify).await;
    }
    let body = br#"{"action":"opened","number":1}"#.to_vec();
    let tampered = br#"{"action":"opened","number":2}"#.to_vec();
    let t = now();
    let poisoned_delivery = uuid();
    let scheme = django_scheme();
    let without = |mut headers: Vec<(&'static str, String)>, name: &str| {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers
    };
    let msg = format!("msg_{}", uuid());

    let refusals = vec![
        Refusal {
            what: "github: wrong secret",
            source: "gh",
            headers: github_headers("not the secret", &body, &poisoned_delivery),
            body: body.clone(),
            names: &["X-Hub-Signature-256"],
        },
        Refusal {
            what: "github: no signature header",
            source: "gh",
            headers: without(
                github_headers(GITHUB_SECRET, &body, &uuid()),
                github::HEADER,
            ),
            body: body.clone(),
            names: &["X-Hub-Signature-256"],
        },
        Refusal {
            what: "github: tampered body",
            source: "gh",
            headers: github_headers(GITHUB_SECRET, &body, &uuid()),
            body: tampered.clone(),
            names: &["X-Hub-Signature-256"],
        },
        Refusal {
            what: "shopify: wrong secret",
            source: "shop",
            headers: shopify_headers("other_app_secret", &body, &uuid()),
            body: body.clone(),
            names: &["X-Shopify-Hmac-Sha256"],
        },
        Refusal {
            what: "shopify: no signature header",
            source: "shop",
            headers: without(
                shopify_headers(SHOPIFY_SECRET, &body, &uuid()),
                shopify::HEADER,
            ),
            body: body.clone(),
            names: &["X-Shopify-Hmac-Sha256"],
        },
        Refusal {
            what: "shopify: tampered body",
            source: "shop",
            headers: shopify_headers(SHOPIFY_SECRET, &body, &uuid()),
            body: tampered.clone(),
            names: &["X-Shopify-Hmac-Sha256"],
        },
        Refusal {
            what: "hmac: wrong secret",
            source: "django",
            headers: vec![("x-signature", hmac::sign(&scheme, b"guess", &body))],
            body: body.clone(),
            names: &["x-signature"],
        },
        Refusal {
            what: "hmac: no signature header",
            source: "django",
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.clone(),
            names: &["x-signature"],
        },
        Refusal {
            what: "hmac: tampered body",
            source: "django",
            headers: vec![(
                "x-signature",
                hmac::sign(&scheme, DJANGO_SECRET.as_bytes(), &body),
            )],
            body: tampered.clone(),
            names: &["x-signature"],
        },
        Refusal {
            what: "stripe: wrong secret",
            source: "stripe",
            headers: stripe_headers("whsec_someone_else", t, &body),
            body: body.clone(),
            names: &["Stripe-Signature"],
        },
        Refusal {
            what: "stripe: no signature header",
            source: "stripe",
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.clone(),
            names: &["Stripe-Signature"],
        },
        Refusal {
            what: "stripe: tampered body",
            source: "stripe",
            headers: stripe_headers(STRIPE_SECRET, t, &body),
            body: tampered.clone(),
            names: &["Stripe-Signature"],
        },
        Refusal {
            what: "slack: wrong secret",
            source: "slack",
            headers: slack_headers("not-the-signing-secret", t, &body),
            body: body.clone(),
            names: &["X-Slack-Signature"],
        },
        Refusal {
            what: "slack: no signature header",
            source: "slack",
            headers: without(
                slack_headers(SLACK_SECRET, t, &body),
                slack::SIGNATURE_HEADER,
            ),
            body: body.clone(),
            names: &["X-Slack-Signature"],
        },
        Refusal {
            what: "slack: no timestamp header",
            source: "slack",
            headers: without(
                slack_headers(SLACK_SECRET, t, &body),
                slack::TIMESTAMP_HEADER,
            ),
            body: body.clone(),
            names: &["X-Slack-Request-Timestamp"],
        },
        Refusal {
            what: "slack: tampered body",
            source: "slack",
            headers: slack_headers(SLACK_SECRET, t, &body),
            body: tampered.clone(),
            names: &["X-Slack-Signature"],
        },
        Refusal {
            what: "standard: wrong secret",
            source: "std",
            headers: standard_headers(&msg, t, standard::sign(&Secret::generate(), &msg, t, &body)),
            body: body.clone(),
            names: &["signature"],
        },
        Refusal {
            what: "standard: no signature header",
            source: "std",
            headers: without(
                standard_headers(&msg, t, standard::sign(&std_secret, &msg, t, &body)),
                "webhook-signature",
            ),
            body: body.clone(),
            names: &["webhook-signature"],
        },
        Refusal {
            what: "standard: tampered body",
            source: "std",
            headers: standard_headers(&msg, t, standard::sign(&std_secret, &msg, t, &body)),
            body: tampered.clone(),
            names: &["signature"],
        },
    ];
    assert_refused(&app, &refusals).await;

    for source in ["gh", "shop", "django", "stripe", "slack", "std"] {
        let count = refusals.iter().filter(|r| r.source == source).count();
        let rejected = assert_rejected_not_forwarded(&app, source, count).await;
        if source == "gh" {
            for entry in &rejected {
                assert!(
                    entry["reason"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .contains("x-hub-signature-256"),
                    "the logged reason names the signature header: {entry}"
                );
            }
        }
    }

    // A refused request does not claim its delivery id: the genuine one is still accepted.
    let reply = send(
        &app,
        "gh",
        &github_headers(GITHUB_SECRET, &body, &poisoned_delivery),
        &body,
    )
    .await;
    assert_eq!(
        reply.status, 202,
        "a forged request must not make the real delivery a duplicate: {}",
        reply.text
    );
    assert_forwarded(&receiver, "gh", "github", &reply, &body).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the genuine request was forwarded"
    );
    app.stop().await;
}

#[tokio::test]
async fn stale_and_future_timestamps_are_401_and_never_forwarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let std_secret = Secret::generate();
    forwarding_source(
        &app,
        &receiver,
        "stripe",
        json!({"type": "stripe", "secrets": [STRIPE_SECRET]}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "slack",
        json!({"type": "slack", "secrets": [SLACK_SECRET]}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "std",
        json!({"type": "standard", "secrets": [std_secret.to_text()]}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "strict",
        json!({"type": "slack", "secrets": [SLACK_SECRET], "tolerance_s": 30}),
    )
    .await;
    let body = br#"{"id":"evt_stale","object":"event"}"#.to_vec();
    let t = now();
    let std_request = |at: i64| {
        let msg = format!("msg_{}", uuid());
        standard_headers(&msg, at, standard::sign(&std_secret, &msg, at, &body))
    };

    let mut refusals = Vec::new();
    // Ten minutes old, then ten minutes ahead.
    for at in [t - 600, t + 600] {
        refusals.push(Refusal {
            what: if at < t {
                "stripe: stale"
            } else {
                "stripe: future"
            },
            source: "stripe",
            headers: stripe_headers(STRIPE_SECRET, at, &body),
            body: body.clone(),
            names: &["timestamp"],
        });
        refusals.push(Refusal {
            what: if at < t {
                "slack: stale"
            } else {
                "slack: future"
            },
            source: "slack",
            headers: slack_headers(SLACK_SECRET, at, &body),
            body: body.clone(),
            names: &["timestamp"],
        });
        refusals.push(Refusal {
            what: if at < t {
                "standard: stale"
            } else {
                "standard: future"
            },
            source: "std",
            headers: std_request(at),
            body: body.clone(),
            names: &["timestamp"],
        });
    }
    // A tolerance of 30 s refuses what the default 300 s would take.
    refusals.push(Refusal {
        what: "slack with tolerance_s 30: two minutes old",
        source: "strict",
        headers: slack_headers(SLACK_SECRET, t - 120, &body),
        body: body.clone(),
        names: &["timestamp"],
    });
    assert_refused(&app, &refusals).await;
    for (source, count) in [("stripe", 2), ("slack", 2), ("std", 2), ("strict", 1)] {
        assert_rejected_not_forwarded(&app, source, count).await;
    }

    // Within the window (a minute old) the same schemes accept.
    let reply = send(
        &app,
        "stripe",
        &stripe_headers(STRIPE_SECRET, t - 60, &body),
        &body,
    )
    .await;
    assert_forwarded(&receiver, "stripe", "stripe", &reply, &body).await;
    let reply = send(
        &app,
        "slack",
        &slack_headers(SLACK_SECRET, t - 60, &body),
        &body,
    )
    .await;
    assert_forwarded(&receiver, "slack", "slack", &reply, &body).await;
    let reply = send(&app, "std", &std_request(t - 60), &body).await;
    assert_forwarded(&receiver, "std", "standard", &reply, &body).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "only the fresh requests arrived"
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_401_and_logged_with_the_credentials_redacted() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "basic",
        json!({"type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "keyed",
        json!({"type": "api_key", "header": "x-api-key", "values": ["the-right-key"]}),
    )
    .await;
    let body = br#"{"order":42}"#.to_vec();
    let refusals = vec![
        Refusal {
            what: "basic: wrong password",
            source: "basic",
            headers: vec![("authorization", basic_auth(BASIC_USER, "wrong-password"))],
            body: body.clone(),
            names: &["authorization", "credential", "password", "basic"],
        },
        Refusal {
            what: "basic: no authorization header",
            source: "basic",
            headers: vec![],
            body: body.clone(),
            names: &["authorization", "credential", "password", "basic"],
        },
        Refusal {
            what: "api_key: wrong value",
            source: "keyed",
            headers: vec![("x-api-key", "a-wrong-key".to_owned())],
            body: body.clone(),
            names: &["x-api-key"],
        },
        Refusal {
            what: "api_key: no key header",
            source: "keyed",
            headers: vec![],
            body: body.clone(),
            names: &["x-api-key"],
        },
    ];
    assert_refused(&app, &refusals).await;
    // The refusal never tells the caller the expected password.
    let reply = send(&app, "basic", &refusals[0].headers, &body).await;
    assert_eq!(reply.status, 401);
    assert!(
        !reply.text.contains(BASIC_PASSWORD),
        "the 401 leaks the password: {}",
        reply.text
    );

    let rejected = assert_rejected_not_forwarded(&app, "basic", 3).await;
    // Newest first: the last wrong-password request.
    let entry = log_entry(&app, "basic", rejected[0]["id"].as_str().unwrap()).await;
    assert_eq!(entry["status"], "rejected");
    assert_eq!(
        entry["headers"]["authorization"], "[redacted]",
        "the log keeps no credentials: {entry}"
    );
    assert_eq!(entry["body"], r#"{"order":42}"#);
    let text = entry.to_string();
    assert!(
        !text.contains("wrong-password")
            && !text.contains(&basic_auth(BASIC_USER, "wrong-password")),
        "the wrong password is not in the log: {text}"
    );

    let rejected = assert_rejected_not_forwarded(&app, "keyed", 2).await;
    let with_key = rejected
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let mut redacted = false;
    for id in with_key {
        let entry = log_entry(&app, "keyed", &id).await;
        if !entry["headers"]["x-api-key"].is_null() {
            assert_eq!(entry["headers"]["x-api-key"], "[redacted]", "{entry}");
            redacted = true;
        }
        assert!(!entry.to_string().contains("a-wrong-key"), "{entry}");
    }
    assert!(
        redacted,
        "the request with a wrong key is logged with its header redacted"
    );

    // The right credentials pass, and are the only thing forwarded.
    let reply = send(
        &app,
        "basic",
        &[("authorization", basic_auth(BASIC_USER, BASIC_PASSWORD))],
        &body,
    )
    .await;
    assert_forwarded(&receiver, "basic", "basic", &reply, &body).await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Rotation and deduplication
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_source_with_two_secrets_accepts_either() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "gh",
        json!({"type": "github", "secrets": ["old-secret", "new-secret"]}),
    )
    .await;
    forwarding_source(
        &app,
        &receiver,
        "stripe",
        json!({"type": "stripe", "secrets": ["whsec_old", "whsec_new"]}),
    )
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "gh",
        json!({"type": "github", "secrets": [GITHUB_SECRET]}),
    )
    .await;
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
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(
        &app,
        &receiver,
        "stripe",
        json!({"type": "stripe", "secrets": [STRIPE_SECRET]}),
    )
    .await;
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

// ---------------------------------------------------------------------------------------
// Limits, addresses, answers
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_max_body_bytes_is_413_and_not_forwarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "small",
        json!({
            "verify": {"type": "none"},
            "max_body_bytes": 1024,
            "forward_to": [receiver.url("/small")],
        }),
    )
    .await;

    let too_big = vec![b'a'; 1025];
    let reply = send(&app, "small", &[], &too_big).await;
    assert_eq!(
        reply.status, 413,
        "1025 bytes over a 1024 limit: {}",
        reply.text
    );
    assert!(
        log_of(&app, "small", "?status=accepted").await.is_empty(),
        "the oversized request was not accepted"
    );
    let rejected = log_of(&app, "small", "?status=rejected").await;
    assert_eq!(rejected.len(), 1, "the 413 is logged: {rejected:?}");
    assert_eq!(rejected[0]["status"], "rejected");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("larger than 1024 bytes")),
        "the log says why: {rejected:?}"
    );
    assert!(
        forward_deliveries(&app, "small").await.is_empty(),
        "the oversized request was not queued"
    );

    // Exactly the limit is fine.
    let fits = vec![b'b'; 1024];
    let reply = send(&app, "small", &[], &fits).await;
    let (id, _) = assert_forwarded(&receiver, "small", "none", &reply, &fits).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the request that fits arrived"
    );
    let entry = log_entry(&app, "small", &id).await;
    assert_eq!(entry["body_size"], 1024);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_disabled_sources_are_404() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let reply = send(&app, "nobody", &[], b"{}").await;
    assert_eq!(reply.status, 404, "an unknown source: {}", reply.text);

    let spec = |enabled: bool| {
        json!({
            "verify": {"type": "none"},
            "forward_to": [receiver.url("/paused")],
            "enabled": enabled,
        })
    };
    let created = put_source(&app, "paused", spec(false)).await;
    assert_eq!(created["enabled"], false);
    let reply = send(&app, "paused", &[], b"{}").await;
    assert_eq!(reply.status, 404, "a disabled source: {}", reply.text);
    assert!(forward_deliveries(&app, "paused").await.is_empty());

    let (s, body) = app.put("/sources/paused", spec(true)).await;
    assert_eq!(s, 200, "{body}");
    let reply = send(&app, "paused", &[], b"{}").await;
    assert_forwarded(&receiver, "paused", "none", &reply, b"{}").await;
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing sent while it was disabled"
    );
    app.stop().await;
}

#[tokio::test]
async fn allowed_ips_admit_only_listed_addresses() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    for (name, allowed) in [
        ("elsewhere", json!(["10.0.0.0/8"])),
        ("local", json!(["127.0.0.1"])),
        ("mixed", json!(["10.0.0.0/8", "127.0.0.0/8"])),
    ] {
        put_source(
            &app,
            name,
            json!({
                "verify": {"type": "none"},
                "allowed_ips": allowed,
                "forward_to": [receiver.url(&format!("/{name}"))],
            }),
        )
        .await;
    }
    let body = br#"{"n":1}"#;

    let reply = send(&app, "elsewhere", &[], body).await;
    assert_eq!(
        reply.status, 403,
        "127.0.0.1 is outside 10.0.0.0/8: {}",
        reply.text
    );
    assert!(forward_deliveries(&app, "elsewhere").await.is_empty());
    let rejected = log_of(&app, "elsewhere", "").await;
    assert_eq!(rejected.len(), 1, "the 403 is logged: {rejected:?}");
    assert_eq!(rejected[0]["status"], "rejected", "{rejected:?}");
    assert_eq!(rejected[0]["client_ip"], "127.0.0.1");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("127.0.0.1") && r.contains("allowed_ips")),
        "the log says why: {rejected:?}"
    );

    let reply = send(&app, "local", &[], body).await;
    assert_forwarded(&receiver, "local", "none", &reply, body).await;
    let reply = send(&app, "mixed", &[], body).await;
    assert_forwarded(&receiver, "mixed", "none", &reply, body).await;
    assert_eq!(receiver.received().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
    let spec = |receiver: &TestReceiver| {
        json!({
            "verify": {"type": "none"},
            "allowed_ips": ["203.0.113.0/24"],
            "forward_to": [receiver.url("/proxied")],
        })
    };
    let body = br#"{"n":1}"#;

    // Behind trusted proxies (the socket is in 127.0.0.0/8, a second hop in 10.0.0.0/8),
    // the rightmost X-Forwarded-For entry that is not a trusted proxy is the client.
    let app =
        TestApp::with(|c| c.trusted_proxies = Some("127.0.0.0/8, 10.0.0.0/8".to_owned())).await;
    let receiver = TestReceiver::start().await;
    put_source(&app, "proxied", spec(&receiver)).await;
    let cases: [(&str, Headers, &str); 3] = [
        (
            "one proxy",
            vec![("x-forwarded-for", "203.0.113.7".to_owned())],
            "203.0.113.7",
        ),
        (
            "two proxies: the inner one (10.9.9.9) is skipped",
            vec![("x-forwarded-for", "203.0.113.8, 10.9.9.9".to_owned())],
            "203.0.113.8",
        ),
        (
            "two headers are one list, in order",
            vec![
                ("x-forwarded-for", "203.0.113.9".to_owned()),
                ("x-forwarded-for", "10.9.9.9".to_owned()),
            ],
            "203.0.113.9",
        ),
    ];
    for (what, headers, client) in cases {
        let reply = send(&app, "proxied", &headers, body).await;
        let (id, _) = assert_forwarded(&receiver, "proxied", "none", &reply, body).await;
        let entry = log_entry(&app, "proxied", &id).await;
        assert_eq!(entry["client_ip"], client, "{what}: {entry}");
    }

    // The entry the trusted proxy appended is a stranger outside allowed_ips.
    let reply = send(
        &app,
        "proxied",
        &[("x-forwarded-for", "203.0.113.8, 192.0.2.1".to_owned())],
        body,
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "the address the proxy saw counts, not what is left of it: {}",
        reply.text
    );
    assert!(reply.message().contains("192.0.2.1"), "{}", reply.text);

    let reply = send(&app, "proxied", &[], body).await;
    assert_eq!(
        reply.status, 403,
        "without the header the proxy itself is the client: {}",
        reply.text
    );
    assert_eq!(
        receiver.received().len(),
        3,
        "only the admitted ones arrived"
    );
    app.stop().await;

    // Without trusted proxies, the header is the caller's claim and is ignored.
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(&app, "proxied", spec(&receiver)).await;
    let reply = send(
        &app,
        "proxied",
        &[("x-forwarded-for", "203.0.113.7".to_owned())],
        body,
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "a spoofed X-Forwarded-For is ignored: {}",
        reply.text
    );
    assert!(forward_deliveries(&app, "proxied").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_caller_prepending_an_allowed_address_to_x_forwarded_for_is_still_403() {
    // One trusted proxy in front (the socket, 127.0.0.1). It appends the address it saw
    // (here 198.51.100.4, outside allowed_ips) to whatever the caller sent, and the
    // caller sent an allowed address first.
    let app = TestApp::with(|c| c.trusted_proxies = Some("127.0.0.0/8".to_owned())).await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "guarded",
        json!({
            "verify": {"type": "none"},
            "allowed_ips": ["203.0.113.0/24"],
            "forward_to": [receiver.url("/guarded")],
        }),
    )
    .await;
    let body = br#"{"n":1}"#;
    let spoofs: [Headers; 3] = [
        vec![("x-forwarded-for", "203.0.113.7, 198.51.100.4".to_owned())],
        vec![
            ("x-forwarded-for", "203.0.113.7".to_owned()),
            ("x-forwarded-for", "198.51.100.4".to_owned()),
        ],
        vec![(
            "x-forwarded-for",
            "203.0.113.7, 203.0.113.8, 198.51.100.4".to_owned(),
        )],
    ];
    for headers in &spoofs {
        let reply = send(&app, "guarded", headers, body).await;
        assert_eq!(
            reply.status, 403,
            "{headers:?}: the prepended address is ignored: {}",
            reply.text
        );
        assert!(
            reply.message().contains("198.51.100.4"),
            "the refusal names the real caller: {}",
            reply.text
        );
    }
    let rejected = log_of(&app, "guarded", "?status=rejected").await;
    assert_eq!(rejected.len(), spoofs.len(), "{rejected:?}");
    for entry in &rejected {
        assert_eq!(entry["client_ip"], "198.51.100.4", "{entry}");
    }
    assert!(forward_deliveries(&app, "guarded").await.is_empty());

    // The same proxy relaying a real allowed caller is admitted, so the 403s above are
    // about the spoof and nothing else.
    let reply = send(
        &app,
        "guarded",
        &[("x-forwarded-for", "203.0.113.7".to_owned())],
        body,
    )
    .await;
    assert_forwarded(&receiver, "guarded", "none", &reply, body).await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_configured_response_replaces_the_202() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "plain",
        json!({
            "verify": {"type": "none"},
            "response": {"status": 200, "body": "ok"},
            "forward_to": [receiver.url("/plain")],
        }),
    )
    .await;
    put_source(
        &app,
        "jsonish",
        json!({
            "verify": {"type": "none"},
            "response": {"status": 201, "body": "{\"received\":true}", "content_type": "application/json"},
            "forward_to": [receiver.url("/jsonish")],
        }),
    )
    .await;
    let body = br#"{"n":1}"#;

    let reply = send(&app, "plain", &[], body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "ok");
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].body.as_ref(), body, "still forwarded");
    assert!(
        got[0].headers["x-hookrelay-request-id"].starts_with("req_"),
        "{:?}",
        got[0].headers
    );
    let log = log_of(&app, "plain", "").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "accepted");
    assert_eq!(
        log[0]["id"],
        got[0].headers["x-hookrelay-request-id"].as_str()
    );

    let reply = send(&app, "jsonish", &[], body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json, json!({"received": true}));
    assert!(
        reply
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.content_type
    );
    receiver.wait_for(2).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Publish mode
// ---------------------------------------------------------------------------------------

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

/// The values a forwarded request carried for `name`, every line of it.
fn lines_of(got: &Received, name: &str) -> Vec<String> {
    got.header_lines
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

#[tokio::test]
async fn forwards_drop_the_headers_the_connection_header_names() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "hop", json!({"type": "none"})).await;
    let body = br#"{"n":1}"#;
    // Written by hand: an HTTP client library would manage Connection itself.
    let request = format!(
        "POST /in/hop HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\
         Connection: close, X-Hop-Secret\r\nConnection: X-Other-Hop\r\n\
         X-Hop-Secret: meant-for-the-proxy-only\r\nX-Other-Hop: also-not\r\n\
         X-Kept: end-to-end\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("the gateway answers and closes (Connection: close)")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or(""))
        .unwrap_or_else(|_| panic!("a JSON answer: {answer}"));
    let id = json["id"].as_str().expect("a request id").to_owned();

    // The log keeps the request as received …
    let entry = log_entry(&app, "hop", &id).await;
    assert_eq!(
        entry["headers"]["x-hop-secret"], "meant-for-the-proxy-only",
        "{entry}"
    );
    // … the forward drops what the Connection headers named.
    let got = arrival(&receiver, &id).await;
    assert_eq!(got.body.as_ref(), body);
    for name in ["x-hop-secret", "x-other-hop", "connection"] {
        assert!(
            lines_of(&got, name).is_empty(),
            "{name} is hop-by-hop and not forwarded: {:?}",
            got.header_lines
        );
    }
    assert_eq!(
        lines_of(&got, "x-kept"),
        ["end-to-end"],
        "other headers are kept"
    );
    let entry = wait_forwarded(&app, "hop", &id).await;
    let delivery_id = entry["forwards"][0]["delivery_id"].as_str().unwrap();
    let d = app.wait_for_status(delivery_id, "succeeded").await;
    let recorded = d["attempts"][0]["request_headers"].to_string();
    assert!(
        !recorded.contains("meant-for-the-proxy-only") && recorded.contains("end-to-end"),
        "the attempt records what was sent: {recorded}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sender_cannot_forge_the_gateway_x_hookrelay_headers() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "open", json!({"type": "none"})).await;
    let body = br#"{"n":1}"#;
    let forged = [
        ("x-hookrelay-verified", "github".to_owned()),
        ("X-Hookrelay-Source", "payments".to_owned()),
        ("x-hookrelay-request-id", "req_forged".to_owned()),
        ("x-hookrelay-anything", "trust me".to_owned()),
    ];
    let reply = send(&app, "open", &forged, body).await;
    let (id, got) = assert_forwarded(&receiver, "open", "none", &reply, body).await;
    assert_eq!(
        lines_of(&got, "x-hookrelay-verified"),
        ["none"],
        "only the gateway's own verdict arrives: {:?}",
        got.header_lines
    );
    assert_eq!(lines_of(&got, "x-hookrelay-source"), ["open"]);
    assert_eq!(lines_of(&got, "x-hookrelay-request-id"), [id]);
    assert!(lines_of(&got, "x-hookrelay-anything").is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Forwards are deliveries: retried and durable
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failed_forward_is_retried_until_it_succeeds() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    receiver.script([Answer::status(500)]);
    forwarding_source(&app, &receiver, "flaky", json!({"type": "none"})).await;
    let body = br#"{"n":1}"#;

    let reply = send(&app, "flaky", &[], body).await;
    let id = reply.id();
    let entry = wait_forwarded(&app, "flaky", &id).await;
    let delivery_id = entry["forwards"][0]["delivery_id"].as_str().unwrap();
    let d = app.wait_for_status(delivery_id, "succeeded").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "a 500, then the retry: {d}");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[1]["status_code"], 200);

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(
            r.body.as_ref(),
            body,
            "every attempt carries the same bytes"
        );
        assert_eq!(r.headers["x-hookrelay-request-id"], id);
    }
    assert!(
        forward_deliveries(&app, "flaky")
            .await
            .iter()
            .any(|d| d["id"] == delivery_id),
        "listed among the deliveries of inbound:flaky"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_accepted_request_is_forwarded_after_a_restart() {
    let app = TestApp::with(|c| c.retry_schedule = Some("300ms".into())).await;
    let receiver = TestReceiver::start().await;
    receiver.script([Answer::status(503)]);
    forwarding_source(
        &app,
        &receiver,
        "durable",
        json!({"type": "github", "secrets": [GITHUB_SECRET]}),
    )
    .await;
    let body = ODD_BODY.as_bytes();
    let reply = send(
        &app,
        "durable",
        &github_headers(GITHUB_SECRET, body, &uuid()),
        body,
    )
    .await;
    let id = reply.id();

    // Whatever the first attempt managed, the 202 means the forward is on disk.
    let app = app.restart().await;
    let entry = wait_forwarded(&app, "durable", &id).await;
    assert_eq!(entry["status"], "accepted");
    let delivery_id = entry["forwards"][0]["delivery_id"].as_str().unwrap();
    let d = app.wait_for_status(delivery_id, "succeeded").await;
    assert!(
        d["attempts"].as_array().unwrap().len() >= 2,
        "the scripted 503, then a success: {d}"
    );
    let got = receiver.received();
    assert!(got.len() >= 2, "{}", got.len());
    let last = got.last().unwrap();
    assert_eq!(last.body.as_ref(), body, "byte-identical after the restart");
    assert_eq!(last.headers["x-hookrelay-request-id"], id);
    github::verify(
        &[GITHUB_SECRET],
        &last.body,
        last.headers.get("x-hub-signature-256").map(String::as_str),
    )
    .expect("still verifies after the restart");

    let (s, source) = app.get("/sources/durable").await;
    assert_eq!(s, 200, "the source survives the restart: {source}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// The sources API
// ---------------------------------------------------------------------------------------

/// Asserts that none of `secrets` appears anywhere in `value`.
fn assert_no_secrets(value: &Value, secrets: &[&str]) {
    let text = value.to_string();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} is shown: {text}");
    }
}

#[tokio::test]
async fn sources_are_created_replaced_listed_and_deleted_with_secrets_redacted() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let (s, created) = app
        .put(
            "/sources/gh",
            json!({
                "verify": {"type": "github", "secrets": ["first-secret", "second-secret"], "legacy_sha1": true},
                "forward_to": [receiver.url("/a")],
                "allowed_ips": ["192.30.252.0/22"],
            }),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["name"], "gh");
    assert_eq!(created["verify"]["type"], "github");
    assert_eq!(
        created["verify"]["secrets"],
        json!(["[redacted]", "[redacted]"]),
        "{created}"
    );
    assert_eq!(created["verify"]["legacy_sha1"], true);
    assert_eq!(created["forward_to"], json!([receiver.url("/a")]));
    assert_eq!(created["allowed_ips"], json!(["192.30.252.0/22"]));
    assert_eq!(created["enabled"], true, "enabled by default");
    assert_eq!(created["max_body_bytes"], 1_048_576, "1 MiB by default");
    assert!(created["created_at"].is_string(), "{created}");
    assert!(created["updated_at"].is_string(), "{created}");
    assert_no_secrets(&created, &["first-secret", "second-secret"]);

    // PUT again replaces the whole source.
    let (s, replaced) = app
        .put(
            "/sources/gh",
            json!({
                "verify": {"type": "github", "secrets": ["third-secret"]},
                "forward_to": [receiver.url("/b")],
                "enabled": false,
                "max_body_bytes": 4096,
                "response": {"status": 200, "body": "thanks"},
            }),
        )
        .await;
    assert_eq!(s, 200, "{replaced}");
    assert_eq!(replaced["verify"]["secrets"], json!(["[redacted]"]));
    assert_eq!(replaced["forward_to"], json!([receiver.url("/b")]));
    assert_eq!(replaced["allowed_ips"], json!([]), "replaced, not merged");
    assert_eq!(replaced["enabled"], false);
    assert_eq!(replaced["max_body_bytes"], 4096);
    assert_eq!(replaced["response"]["status"], 200);
    assert_eq!(replaced["response"]["body"], "thanks");
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_no_secrets(&replaced, &["third-secret"]);
    let (s, stored) = app.get("/sources/gh").await;
    assert_eq!(s, 200, "{stored}");
    assert_eq!(stored, replaced, "GET shows what PUT stored");

    // Every kind of credential is redacted; the rest of verify is kept.
    let std_secret = Secret::generate().to_text();
    let kinds = [
        (
            "pay",
            json!({"type": "stripe", "secrets": [STRIPE_SECRET]}),
            vec![STRIPE_SECRET],
        ),
        (
            "basic",
            json!({"type": "basic", "username": "hook", "password": "hunter2-password"}),
            vec!["hunter2-password"],
        ),
        (
            "keyed",
            json!({"type": "api_key", "header": "x-api-key", "values": ["key-value-1"]}),
            vec!["key-value-1"],
        ),
        (
            "mac",
            json!({"type": "hmac", "header": "x-signature", "secrets": ["mac-secret-1"]}),
            vec!["mac-secret-1"],
        ),
        (
            "std",
            json!({"type": "standard", "secrets": [std_secret.clone()]}),
            vec![std_secret.as_str()],
        ),
    ];
    for (name, verify, secrets) in &kinds {
        let shown = put_source(
            &app,
            name,
            json!({"verify": verify, "forward_to": [receiver.url("/x")]}),
        )
        .await;
        assert_no_secrets(&shown, secrets);
        let (_, got) = app.get(&format!("/sources/{name}")).await;
        assert_no_secrets(&got, secrets);
    }
    let (_, pay) = app.get("/sources/pay").await;
    assert_eq!(pay["verify"]["type"], "stripe");
    assert_eq!(pay["verify"]["secrets"], json!(["[redacted]"]));
    assert_eq!(pay["verify"]["tolerance_s"], 300, "the default window");
    let (_, basic) = app.get("/sources/basic").await;
    assert_eq!(basic["verify"]["username"], "hook");
    assert_eq!(basic["verify"]["password"], "[redacted]");
    let (_, keyed) = app.get("/sources/keyed").await;
    assert_eq!(keyed["verify"]["header"], "x-api-key");
    assert_eq!(keyed["verify"]["values"], json!(["[redacted]"]));
    let (_, mac) = app.get("/sources/mac").await;
    assert_eq!(mac["verify"]["header"], "x-signature");
    assert_eq!(mac["verify"]["algorithm"], "sha256");
    assert_eq!(mac["verify"]["encoding"], "hex");
    assert_eq!(mac["verify"]["secrets"], json!(["[redacted]"]));

    // The list.
    let (s, list) = app.get("/sources").await;
    assert_eq!(s, 200, "{list}");
    assert!(list["next_cursor"].is_null(), "{list}");
    let mut names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["basic", "gh", "keyed", "mac", "pay", "std"]);
    assert_no_secrets(
        &list,
        &[
            "third-secret",
            STRIPE_SECRET,
            "hunter2-password",
            "key-value-1",
            "mac-secret-1",
            std_secret.as_str(),
        ],
    );

    // Delete: gone from the API and from the gateway.
    let reply = send(&app, "pay", &[], b"{}").await;
    assert_eq!(
        reply.status, 401,
        "pay exists and wants a signature: {}",
        reply.text
    );
    let (s, _) = app
        .call(reqwest::Method::DELETE, "/sources/pay", None)
        .await;
    assert_eq!(s, 204);
    let (s, body) = app.get("/sources/pay").await;
    assert_eq!(s, 404, "{body}");
    let reply = send(&app, "pay", &[], b"{}").await;
    assert_eq!(reply.status, 404, "a deleted source: {}", reply.text);
    let (s, body) = app.get("/sources/never-made").await;
    assert_eq!(s, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn invalid_sources_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let to = receiver.url("/x");
    let cases = [
        (
            "no secrets",
            json!({"verify": {"type": "github", "secrets": []}, "forward_to": [to]}),
            "verify.secrets",
        ),
        (
            "a URL that is not http",
            json!({"verify": {"type": "none"}, "forward_to": ["ftp://files.example.com/in"]}),
            "forward_to[0]",
        ),
        (
            "publish without scopes",
            json!({"verify": {"type": "none"}, "publish": {"type_header": "x-event", "scopes": []}}),
            "publish.scopes",
        ),
        (
            "neither forward_to nor publish",
            json!({"verify": {"type": "none"}}),
            "forward_to",
        ),
        (
            "an address that is not one",
            json!({"verify": {"type": "none"}, "forward_to": [to], "allowed_ips": ["not-an-ip"]}),
            "allowed_ips[0]",
        ),
        (
            "a response that is not 2xx",
            json!({"verify": {"type": "none"}, "forward_to": [to], "response": {"status": 500, "body": ""}}),
            "response.status",
        ),
    ];
    for (what, body, field) in cases {
        let (s, answer) = app.put("/sources/bad", body.clone()).await;
        assert_eq!(s, 422, "{what}: {body} → {answer}");
        assert_eq!(
            answer["error"]["details"][0]["field"], field,
            "{what}: {answer}"
        );
        assert!(
            answer["error"]["details"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {answer}"
        );
    }

    // Names: letters, digits and a little punctuation, no spaces or slashes.
    let valid = json!({"verify": {"type": "none"}, "forward_to": [to]});
    for path in ["/sources/has%20space", "/sources/has%2Fslash"] {
        let (s, answer) = app.put(path, valid.clone()).await;
        assert_eq!(s, 422, "{path}: {answer}");
        assert_eq!(
            answer["error"]["details"][0]["field"], "name",
            "{path}: {answer}"
        );
    }

    // A verify type that does not exist does not even deserialize.
    let (s, answer) = app
        .put(
            "/sources/bad",
            json!({"verify": {"type": "sha1", "secrets": ["x"]}, "forward_to": [to]}),
        )
        .await;
    assert!(s == 400 || s == 422, "unknown verify type: {s} {answer}");

    let (s, _) = app.get("/sources/bad").await;
    assert_eq!(s, 404, "nothing was stored by the refused PUTs");
    let (_, list) = app.get("/sources").await;
    assert_eq!(list["data"], json!([]), "{list}");
    app.stop().await;
}

#[tokio::test]
async fn only_the_admin_token_manages_sources() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "gh",
        json!({"verify": {"type": "github", "secrets": [GITHUB_SECRET]}, "forward_to": [receiver.url("/gh")]}),
    )
    .await;
    let (s, minted) = app.post("/tokens", json!({"scopes": ["s"]})).await;
    assert_eq!(s, 201, "{minted}");
    let token = minted["token"].as_str().unwrap();

    use reqwest::Method;
    let spec = json!({"verify": {"type": "none"}, "forward_to": [receiver.url("/x")]});
    let calls = [
        (Method::PUT, "/sources/mine", Some(spec.clone())),
        (Method::PUT, "/sources/gh", Some(spec.clone())),
        (Method::GET, "/sources", None),
        (Method::GET, "/sources/gh", None),
        (Method::GET, "/sources/gh/requests", None),
        (Method::DELETE, "/sources/gh", None),
    ];
    for (method, path, body) in calls {
        let (s, answer) = app.call_as(token, method.clone(), path, body).await;
        assert_eq!(s, 403, "{method} {path} with a scoped token: {answer}");
    }
    let (s, stored) = app.get("/sources/gh").await;
    assert_eq!(s, 200, "the scoped token changed nothing");
    assert_eq!(stored["verify"]["type"], "github");
    assert_eq!(stored["forward_to"], json!([receiver.url("/gh")]));
    let (s, _) = app.get("/sources/mine").await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_gets_408_and_nothing_is_forwarded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::with(|c| c.inbound_read_timeout_ms = 300).await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "slow", json!({"type": "none"})).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Headers promise 100 bytes; only 5 come, then the client goes quiet.
    socket
        .write_all(
            b"POST /in/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"a\":",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("the gateway answers instead of waiting for ever")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    let rejected = log_of(&app, "slow", "?status=rejected").await;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("did not arrive"),
        "{rejected:?}"
    );
    assert!(forward_deliveries(&app, "slow").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::with(|c| c.header_read_timeout_ms = 300).await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "x", json!({"type": "none"})).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Taken before connecting, so the server's timer cannot have started earlier.
    let opened = std::time::Instant::now();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Half a request head: no blank line ever comes.
    socket
        .write_all(b"POST /in/x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let mut answered = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answered.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server still held the connection 10 s after a 300 ms header timeout"
    );
    assert!(
        opened.elapsed() >= Duration::from_millis(250),
        "closed by the timeout, not at once: {:?}",
        opened.elapsed()
    );
    assert!(
        answered.is_empty(),
        "no request was served: {}",
        String::from_utf8_lossy(&answered)
    );
    assert!(
        log_of(&app, "x", "").await.is_empty(),
        "the half request never reached the gateway"
    );

    // The server itself is fine: a whole request on a new connection is accepted.
    let reply = send(&app, "x", &[], b"{}").await;
    assert_forwarded(&receiver, "x", "none", &reply, b"{}").await;
    app.stop().await;
}
