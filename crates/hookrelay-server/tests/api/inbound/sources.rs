//! The sources API: secrets redacted, validation, admin only.

use hookrelay_signature::Secret;
use serde_json::{Value, json};

use crate::support::{TestApp, TestReceiver};

use super::{GITHUB_SECRET, STRIPE_SECRET, put_source, send};

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
            "a public key of the wrong length",
            json!({"verify": {"type": "standard", "secrets": ["whpk_AAAA"]}, "forward_to": [to]}),
            "verify.secrets[0]",
        ),
        (
            // 32 zero bytes decode to a point of small order: no signature proves anything.
            "a weak ed25519 public key",
            json!({"verify": {"type": "standard",
                   "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                               "whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]},
                   "forward_to": [to]}),
            "verify.secrets[1]",
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
