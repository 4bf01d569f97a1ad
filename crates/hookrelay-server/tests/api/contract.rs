//! The OpenAPI document and the server agree: what the document's forms accept, the
//! validators accept, and the edges a fuzzer (`.ci/api-fuzz.sh`, schemathesis) found
//! disagreeing are pinned here: query parameters given twice or empty, whole numbers
//! written as floats, arrays where objects are documented (at any depth), lengths
//! counted in characters, the `none` scheme's fields, a duration that reaches past the
//! start of time, the rotation body.

use hookrelay_core::schema::DataSchema;
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp, TestReceiver};

fn assert_invalid(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    assert_eq!(body["error"]["details"][0]["field"], field, "{body}");
}

async fn document(app: &TestApp) -> Value {
    let resp = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .expect("request sent");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("the document is JSON")
}

#[tokio::test]
async fn a_query_parameter_given_twice_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let (s, _) = app
        .put(
            "/sources/src",
            json!({"verify": {"type": "none"}, "forward_to": ["http://127.0.0.1:9/in"]}),
        )
        .await;
    assert_eq!(s, 201);
    for (path, field) in [
        ("/event-types?limit=5&limit=5", "limit"),
        ("/events?limit=5&type=a&limit=6", "limit"),
        ("/scopes/s/endpoints?cursor=a&cursor=a", "cursor"),
        ("/deliveries?status=failed&status=pending", "status"),
        ("/deliveries?event=a&event=b", "event"),
        (
            "/sources/src/requests?status=accepted&status=accepted",
            "status",
        ),
        ("/sources?limit=5&%6Cimit=5", "limit"),
    ] {
        let (s, body) = app.get(path).await;
        assert_invalid(s, &body, field);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("more than once")),
            "{path}: {body}"
        );
    }
    let (s, _) = app.get("/event-types?limit=5").await;
    assert_eq!(s, 200, "once is fine");
    app.stop().await;
}

#[tokio::test]
async fn an_empty_query_parameter_is_refused_like_any_other_bad_value() {
    let app = TestApp::spawn().await;
    let (s, _) = app
        .put(
            "/sources/src",
            json!({"verify": {"type": "none"}, "forward_to": ["http://127.0.0.1:9/in"]}),
        )
        .await;
    assert_eq!(s, 201);
    for (path, field) in [
        ("/event-types?limit=", "limit"),
        ("/event-types?cursor=", "cursor"),
        ("/event-types?include_archived=", "include_archived"),
        ("/events?type=", "type"),
        ("/events?idempotency_key=", "idempotency_key"),
        ("/events?since=", "since"),
        ("/events?scope=", "scope"),
        ("/deliveries?status=", "status"),
        ("/deliveries?endpoint=", "endpoint"),
        ("/deliveries?event=", "event"),
        ("/deliveries?type=", "type"),
        ("/sources/src/requests?status=", "status"),
        ("/sources?limit=", "limit"),
    ] {
        let (s, body) = app.get(path).await;
        assert_invalid(s, &body, field);
    }
    let (s, body) = app
        .put("/event-types?dry_run=", json!({"version": 1, "events": []}))
        .await;
    assert_invalid(s, &body, "dry_run");
    for path in [
        "/event-types",
        "/event-types?include_archived=false",
        "/events?limit=10",
        "/deliveries?status=failed",
        "/sources/src/requests?status=rejected",
    ] {
        let (s, body) = app.get(path).await;
        assert_eq!(s, 200, "{path}: {body}");
    }

    // The document says both: the 422 of every operation with query parameters, and
    // no text parameter that may be empty.
    let doc = document(&app).await;
    let list = &doc["paths"]["/api/v1/deliveries"]["get"];
    assert!(
        list["responses"]["422"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("empty") && d.contains("more than once")),
        "{}",
        list["responses"]["422"]
    );
    for parameter in list["parameters"].as_array().unwrap() {
        let schema = &parameter["schema"];
        let constrained = schema.get("minLength").is_some()
            || schema.get("$ref").is_some()
            || schema.get("oneOf").is_some()
            || schema.get("format").is_some()
            || schema["type"] != "string";
        assert!(constrained, "{parameter}");
    }
    app.stop().await;
}

#[tokio::test]
async fn whole_numbers_written_as_floats_are_the_integers_they_are() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let (s, endpoint) = app
        .post(
            "/scopes/s/endpoints",
            json!({
                "code": "e",
                "targets": [{"url": receiver.url("/a"), "weight": 2.0}, {"url": receiver.url("/b")}],
                "timeout_ms": 5000.0,
                "rate_limit": 2e1,
            }),
        )
        .await;
    assert_eq!(s, 201, "{endpoint}");
    assert_eq!(endpoint["timeout_ms"], 5000);
    assert_eq!(endpoint["rate_limit"], 20);
    assert_eq!(endpoint["targets"][0]["weight"], 2);
    let (s, rotated) = app
        .post(
            "/scopes/s/endpoints/e/secret/rotate",
            json!({"grace_period_s": 60.0}),
        )
        .await;
    assert_eq!(s, 200, "{rotated}");
    let (s, body) = app
        .patch("/scopes/s/endpoints/e", json!({"timeout_ms": 2.5}))
        .await;
    assert_invalid(s, &body, "timeout_ms");
    let (s, body) = app.get("/events?limit=2.0").await;
    assert_invalid(s, &body, "limit");
    app.stop().await;
}

/// serde reads a struct or a tagged enum from an array, field by field in order; the
/// document says objects, so an array is refused wherever it stands.
#[tokio::test]
async fn an_array_where_an_object_is_documented_is_refused_at_any_depth() {
    let app = TestApp::spawn().await;
    let url = "http://127.0.0.1:9/";
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "targets": [[url, 2]]}),
        )
        .await;
    assert_invalid(s, &body, "targets[0]");
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": url, "auth": ["bearer", "t0k3n"]}),
        )
        .await;
    assert_invalid(s, &body, "auth");
    let (s, body) = app
        .put("/scopes/s/endpoints", json!([["e", null, url]]))
        .await;
    assert_invalid(s, &body, "[0]");
    let (s, body) = app
        .put(
            "/event-types?dry_run=true",
            json!({"version": 1, "events": [["a", "A"]]}),
        )
        .await;
    assert_invalid(s, &body, "events[0]");
    for (key, value) in [
        ("verify", json!(["none"])),
        ("dedupe", json!(["x-id", null, 60])),
        ("publish", json!([null, "type", "", ["s"]])),
        ("response", json!([200, "ok", "text/plain"])),
    ] {
        let mut source =
            json!({"verify": {"type": "github", "secrets": ["x"]}, "forward_to": [url]});
        source[key] = value;
        let (s, body) = app.put("/sources/gh", source).await;
        assert_invalid(s, &body, key);
    }
    app.endpoint("s", "e", url, &["*"]).await;
    let (s, body) = app
        .patch(
            "/scopes/s/endpoints/e",
            json!({"auth": ["basic", "u", "p"]}),
        )
        .await;
    assert_invalid(s, &body, "auth");
    // Where the document has arrays, or any value, they pass.
    let (s, body) = app
        .put(
            "/scopes/s/subscriptions",
            json!({"e": {"events": ["*"], "filter": {"tags": {"$in": [["a"], "b"]}}}}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = app
        .patch(
            "/scopes/s/endpoints/e",
            json!({"targets": [{"url": url}, {"url": "http://127.0.0.1:10/"}]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_is_measured_in_characters() {
    let app = TestApp::spawn().await;
    app.event_types(&["a"]).await;
    let key = "é".repeat(256);
    let (s, body) = app
        .post(
            "/events",
            json!({"type": "a", "scopes": ["s"], "idempotency_key": key}),
        )
        .await;
    assert_eq!(s, 202, "256 characters (512 bytes) are allowed: {body}");
    let (s, body) = app
        .post(
            "/events",
            json!({"type": "a", "scopes": ["s"], "idempotency_key": "é".repeat(257)}),
        )
        .await;
    assert_invalid(s, &body, "idempotency_key");
    app.stop().await;
}

#[tokio::test]
async fn the_none_scheme_takes_no_other_fields() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .put(
            "/sources/open",
            json!({"verify": {"type": "none", "secrets": ["s3cret"]}, "forward_to": ["http://127.0.0.1:9/in"]}),
        )
        .await;
    assert_invalid(s, &body, "verify.secrets");
    let (s, body) = app.get("/sources/open").await;
    assert_eq!(s, 404, "nothing was saved: {body}");
    let (s, body) = app
        .put(
            "/sources/open",
            json!({"verify": {"type": "none"}, "forward_to": ["http://127.0.0.1:9/in"], "max_body_bytes": 1024.0}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["max_body_bytes"], 1024);
    let (s, body) = app
        .put(
            "/sources/open",
            json!([{"verify": {"type": "none"}, "forward_to": ["http://127.0.0.1:9/in"]}]),
        )
        .await;
    assert_invalid(s, &body, "body");
    app.stop().await;
}

#[tokio::test]
async fn recovery_reaches_back_at_most_to_the_start_of_time() {
    let app = TestApp::spawn().await;
    app.endpoint("s", "e", "http://127.0.0.1:9/", &["*"]).await;
    for since in ["18446744073709551615s", "500000000000y", "2h"] {
        let (s, body) = app
            .post("/scopes/s/endpoints/e/recover", json!({"since": since}))
            .await;
        assert_eq!(s, 202, "{since}: {body}");
        assert_eq!(body["requeued"], 0);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_rotation_body_is_an_object_or_nothing() {
    let app = TestApp::spawn().await;
    app.endpoint("s", "e", "http://127.0.0.1:9/", &["*"]).await;
    let resp = app
        .client
        .post(app.url("/scopes/s/endpoints/e/secret/rotate"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_invalid(422, &body, "body");
    let resp = app
        .client
        .post(app.url("/scopes/s/endpoints/e/secret/rotate"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "no body: a secret of the same kind");

    let doc = document(&app).await;
    let body = &doc["paths"]["/api/v1/scopes/{scope}/endpoints/{code}/secret/rotate"]["post"]["requestBody"];
    assert_eq!(
        body["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Rotate",
        "an object, never null: {body}"
    );
    assert_ne!(body["required"], true, "and may be left out: {body}");
    app.stop().await;
}

/// Whether `value` matches the document's component schema `name` (a string form).
fn documented(doc: &Value, name: &str, value: &str) -> bool {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "{name} is in the document");
    DataSchema::compile(schema)
        .unwrap_or_else(|e| panic!("{name}: {}", e.message))
        .check(&json!(value))
        .is_ok()
}

/// The document's string forms against the validators they restate: each value is
/// either matched by the form and accepted by the server, or neither.
#[tokio::test]
async fn the_documented_forms_are_what_the_validators_accept() {
    let app = TestApp::spawn().await;
    app.endpoint("s", "e", "http://127.0.0.1:9/", &["*"]).await;
    let doc = document(&app).await;
    let long = |n: usize| "a".repeat(n);

    for scope in [
        "biz:biz1".to_owned(),
        "t-4_2.x".to_owned(),
        long(128),
        String::new(),
        long(129),
        "a/b".to_owned(),
        "a b".to_owned(),
        "é".to_owned(),
        "a\n".to_owned(),
    ] {
        let (s, body) = app.post("/tokens", json!({"scopes": [scope]})).await;
        assert_eq!(
            documented(&doc, "Scope", &scope),
            s == 201,
            "scope {scope:?}: {s} {body}"
        );
    }

    for code in [
        "order.paid".to_owned(),
        "a.".to_owned(),
        "_x:y-z".to_owned(),
        long(128),
        ".a".to_owned(),
        long(129),
        "a%20b".to_owned(),
        "%C3%A9".to_owned(),
    ] {
        let (s, body) = app
            .put(&format!("/event-types/{code}"), json!({"name": "n"}))
            .await;
        let decoded = code.replace("%20", " ").replace("%C3%A9", "é");
        assert_eq!(
            documented(&doc, "EventTypeCode", &decoded),
            s == 201 || s == 200,
            "code {decoded:?}: {s} {body}"
        );
    }

    for (n, pattern) in [
        "*",
        "order.*",
        "a..*",
        "order.paid",
        "a.",
        ".*",
        "a*",
        "*.a",
        "order.**",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let (s, body) = app
            .put("/scopes/s/subscriptions", json!({"e": [pattern]}))
            .await;
        assert_eq!(
            documented(&doc, "EventPattern", pattern),
            s == 200,
            "{n}: pattern {pattern:?}: {s} {body}"
        );
    }

    for secret in [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAQ==",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAQ",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAB",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa",
        "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=",
        "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYp=",
        "whsec_not base64",
        "secret",
    ] {
        let (s, body) = app
            .post(
                "/scopes/s/endpoints/e/secret/rotate",
                json!({ "secret": secret }),
            )
            .await;
        assert_eq!(
            documented(&doc, "SigningSecret", secret),
            s == 200,
            "secret {secret:?}: {s} {body}"
        );
    }

    for name in ["Orders", " x ", "\u{2003}x", "", " ", "\t\n", "\u{3000}"] {
        let (s, body) = app
            .patch("/scopes/s/endpoints/e", json!({ "name": name }))
            .await;
        assert_eq!(
            documented(&doc, "NonBlank", name),
            s == 200,
            "name {name:?}: {s} {body}"
        );
    }

    for token in ["t0k3n", "a\tb", " x", "", " ", "a\nb", "a\u{7f}", "\u{85}"] {
        let (s, body) = app
            .patch(
                "/scopes/s/endpoints/e",
                json!({"auth": {"type": "bearer", "token": token}}),
            )
            .await;
        assert_eq!(
            documented(&doc, "Credential", token),
            s == 200,
            "token {token:?}: {s} {body}"
        );
    }

    for (n, address) in [
        "10.0.0.0/8",
        "203.0.113.7",
        "0.0.0.0/0",
        "2001:db8:0:0:0:0:0:1/64",
        "256.0.0.1",
        "10.0.0.0/33",
        "10.0.0",
        "localhost",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let (s, body) = app
            .put(
                &format!("/sources/ips{n}"),
                json!({"verify": {"type": "none"}, "forward_to": ["http://127.0.0.1:9/in"], "allowed_ips": [address]}),
            )
            .await;
        assert_eq!(
            documented(&doc, "IpOrCidr", address),
            s == 201,
            "address {address:?}: {s} {body}"
        );
    }
    app.stop().await;
}

/// The rules that span fields are in the document, beside the fields they join.
#[tokio::test]
async fn the_rules_across_fields_are_documented() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let text = |name: &str| schemas[name]["allOf"].to_string();
    assert!(text("EndpointInput").contains("\"targets\""));
    assert!(text("EndpointInput").contains("\"key_type\""));
    assert!(text("EndpointPatch").contains("\"url\""));
    assert!(text("Rotate").contains("\"secret\""));
    assert!(text("PublishInput").contains("\"scope\""));
    assert!(text("SourceInput").contains("\"forward_to\""));
    assert!(text("SourceInput").contains("\"dedupe\""));
    assert!(text("Dedupe").contains("\"json_path\""));
    assert!(text("Publish").contains("\"type_path\""));
    assert_eq!(
        schemas["EndpointInput"]["properties"]["targets"]["uniqueItems"],
        true
    );
    assert_eq!(
        schemas["Registry"]["properties"]["version"]["minimum"],
        schemas["Registry"]["properties"]["version"]["maximum"]
    );
    for variant in schemas["VerifyInput"]["oneOf"].as_array().unwrap() {
        assert_eq!(variant["additionalProperties"], false, "{variant}");
    }
    // A filter is recursive, and its operators are a closed set.
    assert!(schemas["Filter"]["properties"]["$not"]["$ref"].is_string());
    assert_eq!(schemas["FilterOperators"]["additionalProperties"], false);
    // Custom header names leave out the ones Hookrelay sets, in any case.
    let header_name = schemas["EndpointInput"]["properties"]["headers"]["propertyNames"]["pattern"]
        .as_str()
        .unwrap();
    assert!(
        header_name.contains("[Ww][Ee][Bb][Hh][Oo][Oo][Kk]-[Ss][Ii][Gg]"),
        "{header_name}"
    );
    for name in ["Webhook-Signature", "CONTENT-TYPE", "host"] {
        let (s, body) = app
            .post(
                "/scopes/s/endpoints",
                json!({"code": "h", "url": "http://127.0.0.1:9/", "headers": {name: "x"}}),
            )
            .await;
        assert_invalid(s, &body, "headers");
    }
    app.stop().await;
}
