//! Bad input: the right status, the error body, nothing half-written, and the server
//! still delivers afterwards.

use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp, TestReceiver};

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_loses_nothing() {
    let app = TestApp::with(|c| c.max_payload_bytes = 4096).await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;

    // Malformed JSON: 400.
    let resp = app
        .client
        .post(app.url("/events"))
        .bearer_auth(ADMIN)
        .body("{\"type\": ")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 400, "malformed_json");

    // Data nested deeper than anything can read: 422 naming `data`, not a 500.
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    let resp = app
        .client
        .post(app.url("/events"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"type":"a","scopes":["s"],"data":{{"x":{deep}}}}}"#
        ))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_error(status, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "data", "{body}");

    // Unknown event type: 422 naming `type`.
    let (s, body) = app
        .post(
            "/events",
            json!({"type": "nope", "scopes": ["s"], "data": {}}),
        )
        .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "type");

    // Wrong shape: 422 naming the field.
    let (s, body) = app
        .post("/events", json!({"type": "a", "scopes": "s"}))
        .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "scopes");

    // Over the size limit: 413.
    let big = json!({"type": "a", "scopes": ["s"], "data": {"pad": "x".repeat(5000)}});
    let (s, body) = app.post("/events", big).await;
    assert_error(s, &body, 413, "payload_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HOOKRELAY_MAX_PAYLOAD_BYTES")
    );

    // Missing and wrong tokens: 401.
    let resp = app.client.get(app.url("/events")).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 401, "unauthorized");
    let (s, body) = app
        .call_as("wrong", reqwest::Method::GET, "/events", None)
        .await;
    assert_error(s, &body, 401, "unauthorized");
    let resp = app
        .client
        .get(app.url("/events"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Invalid endpoint URLs: 422 naming `url`.
    for url in [
        "ftp://example.com/",
        "not a url",
        "http://",
        "https://user:pw@example.com/",
    ] {
        let (s, body) = app
            .post("/scopes/s/endpoints", json!({"code": "bad", "url": url}))
            .await;
        assert_error(s, &body, 422, "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], "url", "{url}: {body}");
    }
    let (s, body) = app
        .put(
            "/scopes/s/endpoints",
            json!([{"code": "e", "url": "gopher://x"}]),
        )
        .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "[0].url");
    let (s, body) = app
        .patch("/scopes/s/endpoints/e", json!({"url": "mailto:a@b.c"}))
        .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "url");

    // Duplicate endpoint code: 409.
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": receiver.url("/")}),
        )
        .await;
    assert_error(s, &body, 409, "conflict");

    // Unknown endpoint, delivery, event: 404.
    let (s, body) = app.get("/scopes/s/endpoints/ghost").await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = app
        .get("/deliveries/dlv_00000000000000000000000000000000")
        .await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = app.post("/deliveries/dlv_nope/retry", json!({})).await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = app.get("/events/evt_nope").await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = app
        .post("/scopes/s/endpoints/ghost/recover", json!({"since": "1h"}))
        .await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = app.get("/no/such/route").await;
    assert_error(s, &body, 404, "not_found");

    // Invalid scope and bad secret.
    let (s, body) = app
        .post(
            "/scopes/bad%20scope/endpoints",
            json!({"code": "x", "url": receiver.url("/")}),
        )
        .await;
    assert_error(s, &body, 422, "validation_failed");
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "x", "url": receiver.url("/"), "secret": "plain"}),
        )
        .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "secret");

    // Nothing was written by any of that, and the server still delivers.
    let (_, events) = app.get("/events").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 0);
    let (_, endpoints) = app.get("/scopes/s/endpoints").await;
    assert_eq!(endpoints["data"].as_array().unwrap().len(), 1);
    assert_eq!(endpoints["data"][0]["url"], receiver.url("/"));
    let event = app
        .publish("a", &["s"], json!({"after": "bad input"}))
        .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].headers["webhook-id"], event["id"].as_str().unwrap());
    app.stop().await;
}

#[tokio::test]
async fn scoped_tokens_see_only_their_scopes() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("mine", "e", &receiver.url("/mine"), &["a"])
        .await;
    app.endpoint("theirs", "e", &receiver.url("/theirs"), &["a"])
        .await;
    let (s, minted) = app.post("/tokens", json!({"scopes": ["mine"]})).await;
    assert_eq!(s, 201, "{minted}");
    let token = minted["token"].as_str().unwrap();

    let (s, _) = app
        .call_as(token, reqwest::Method::GET, "/scopes/mine/endpoints", None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::GET,
            "/scopes/theirs/endpoints",
            None,
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::GET,
            "/scopes/theirs/endpoints/e/secret",
            None,
        )
        .await;
    assert_eq!(s, 403);
    let publish = |scope: &str| json!({"type": "a", "scopes": [scope], "data": {}});
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::POST,
            "/events",
            Some(publish("theirs")),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::POST,
            "/events",
            Some(publish("mine")),
        )
        .await;
    assert_eq!(s, 202);
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::PUT,
            "/event-types/b",
            Some(json!({"name": "b"})),
        )
        .await;
    assert_eq!(s, 403, "the registry needs the admin token");
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::POST,
            "/tokens",
            Some(json!({"scopes": ["theirs"]})),
        )
        .await;
    assert_eq!(s, 403);

    // The admin's event to "theirs" is invisible to the scoped token.
    let theirs = app.publish("a", &["theirs"], json!({})).await;
    receiver.wait_for(2).await;
    let (_, events) = app
        .call_as(token, reqwest::Method::GET, "/events", None)
        .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let (s, _) = app
        .call_as(
            token,
            reqwest::Method::GET,
            &format!("/events/{}", theirs["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (_, deliveries) = app
        .call_as(token, reqwest::Method::GET, "/deliveries", None)
        .await;
    let scopes: Vec<_> = deliveries["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["scope"].clone())
        .collect();
    assert_eq!(scopes, vec![json!("mine")]);
    app.stop().await;
}

/// serde reads a struct from an array too, field by field: `[["s1"]]` would mint a
/// token for scope `s1`. Where an object is documented, an array is a 422 and changes
/// nothing; where an array is documented it still works.
#[tokio::test]
async fn an_array_where_an_object_is_documented_is_refused() {
    let app = TestApp::spawn().await;
    let (s, body) = app.post("/tokens", json!([["s1"]])).await;
    assert_error(s, &body, 422, "validation_failed");
    assert!(
        body.to_string().contains("expected a JSON object"),
        "{body}"
    );
    let (_, listed) = app.get("/tokens").await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0), "{listed}");
    let receiver = crate::support::TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let (_, before) = app.get("/scopes/s/endpoints/e/secret").await;
    let (s, body) = app
        .post("/scopes/s/endpoints/e/secret/rotate", json!([null, null]))
        .await;
    assert_error(s, &body, 422, "validation_failed");
    let (_, after) = app.get("/scopes/s/endpoints/e/secret").await;
    assert_eq!(before, after, "the secret is not rotated");
    let (s, body) = app
        .put(
            "/scopes/s/endpoints",
            json!([{"code": "e", "url": receiver.url("/")}]),
        )
        .await;
    assert_eq!(s, 200, "a documented array is still read: {body}");
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_listed_without_values_and_revoked_at_once() {
    let app = TestApp::spawn().await;
    let (_, minted) = app
        .post("/tokens", json!({"scopes": ["a", "b"], "name": "ci"}))
        .await;
    let token = minted["token"].as_str().unwrap().to_owned();
    let id = minted["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .call_as(&token, reqwest::Method::GET, "/scopes/a/endpoints", None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call_as(&token, reqwest::Method::GET, "/tokens", None)
        .await;
    assert_eq!(s, 403, "listing tokens needs the admin token");

    let (s, listed) = app.get("/tokens").await;
    assert_eq!(s, 200);
    let entry = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(entry["name"], "ci");
    assert_eq!(entry["scopes"], json!(["a", "b"]));
    assert!(
        !listed.to_string().contains(&token),
        "values are never listed"
    );

    let (s, _) = app
        .call(reqwest::Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, body) = app
        .call_as(&token, reqwest::Method::GET, "/scopes/a/endpoints", None)
        .await;
    assert_eq!(s, 401, "a revoked token stops working at once: {body}");
    let (s, _) = app
        .call(reqwest::Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}
