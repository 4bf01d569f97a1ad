//! Refusals: wrong, missing and tampered signatures, stale and future timestamps and wrong
//! credentials are 401, logged with a reason (credentials redacted) and never forwarded.

use hookrelay_signature::providers::{github, hmac, shopify, slack};
use hookrelay_signature::{Secret, standard};
use serde_json::json;

use crate::support::TestApp;

use super::{
    BASIC_PASSWORD, BASIC_USER, DJANGO_SECRET, GITHUB_SECRET, SHOPIFY_SECRET, SLACK_SECRET,
    STRIPE_SECRET, assert_forwarded, assert_rejected_not_forwarded, basic_auth, django_scheme,
    gateway, github_headers, log_entry, now, secrets, send, shopify_headers, slack_headers,
    standard_headers, stripe_headers, uuid,
};

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

#[tokio::test]
async fn wrong_missing_and_tampered_signatures_are_401_and_never_forwarded() {
    let std_secret = Secret::generate();
    let (app, receiver) = gateway(&[
        ("gh", secrets("github", GITHUB_SECRET)),
        ("shop", secrets("shopify", SHOPIFY_SECRET)),
        (
            "django",
            json!({"type": "hmac", "header": "x-signature", "secrets": [DJANGO_SECRET]}),
        ),
        ("stripe", secrets("stripe", STRIPE_SECRET)),
        ("slack", secrets("slack", SLACK_SECRET)),
        (
            "std",
            json!({"type": "standard", "secrets": [std_secret.to_text()]}),
        ),
    ])
    .await;
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
    let std_secret = Secret::generate();
    let (app, receiver) = gateway(&[
        ("stripe", secrets("stripe", STRIPE_SECRET)),
        ("slack", secrets("slack", SLACK_SECRET)),
        (
            "std",
            json!({"type": "standard", "secrets": [std_secret.to_text()]}),
        ),
        (
            "strict",
            json!({"type": "slack", "secrets": [SLACK_SECRET], "tolerance_s": 30}),
        ),
    ])
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
    let (app, receiver) = gateway(&[
        (
            "basic",
            json!({"type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD}),
        ),
        (
            "keyed",
            json!({"type": "api_key", "header": "x-api-key", "values": ["the-right-key"]}),
        ),
    ])
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
