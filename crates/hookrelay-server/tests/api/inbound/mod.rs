//! The inbound gateway at `/in/{source}`: provider verification, forwarding byte for byte,
//! deduplication, limits, the request log, publish mode, and the sources API — one file
//! per concern; this module holds what they share (requests as providers sign them, the
//! request log, the forwards).

mod dedupe;
mod forward;
mod limits;
mod publish;
mod refusals;
mod sources;
mod verify;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hookrelay_signature::providers::hmac::{Algorithm, Encoding, Scheme};
use hookrelay_signature::providers::{github, shopify, slack, stripe};
use serde_json::{Value, json};

use crate::support::{Received, TestApp, TestReceiver, wait_until};

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

/// A `verify` of the given type with one secret.
fn secrets(kind: &str, secret: &str) -> Value {
    json!({"type": kind, "secrets": [secret]})
}

/// A fresh app and receiver, with a source forwarding to the receiver at `/{name}` for
/// each `(name, verify)`.
async fn gateway(sources: &[(&str, Value)]) -> (TestApp, TestReceiver) {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    for (name, verify) in sources {
        forwarding_source(&app, &receiver, name, verify.clone()).await;
    }
    (app, receiver)
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
