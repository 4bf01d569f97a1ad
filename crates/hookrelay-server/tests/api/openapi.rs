//! `GET /openapi.json` and `GET /docs`: every route documented, `webhooks` following the
//! live registry, no token needed, and a snapshot so API changes show in review.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::TestApp;

/// Every route with its methods, as in `src/api/mod.rs` (`/api/v1`) and
/// `src/http/router.rs` (the rest) ([`routes_in_source`] keeps this list honest).
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/event-types", &["get", "put"]),
    ("/api/v1/event-types/{code}", &["get", "put", "delete"]),
    ("/api/v1/scopes/{scope}/endpoints", &["get", "post", "put"]),
    (
        "/api/v1/scopes/{scope}/endpoints/{code}",
        &["get", "patch", "delete"],
    ),
    ("/api/v1/scopes/{scope}/endpoints/{code}/secret", &["get"]),
    ("/api/v1/scopes/{scope}/endpoints/{code}/recover", &["post"]),
    (
        "/api/v1/scopes/{scope}/endpoints/{code}/secret/rotate",
        &["post"],
    ),
    ("/api/v1/scopes/{scope}/subscriptions", &["get", "put"]),
    ("/api/v1/events", &["get", "post"]),
    ("/api/v1/events/{id}", &["get"]),
    ("/api/v1/deliveries", &["get"]),
    ("/api/v1/deliveries/{id}", &["get"]),
    ("/api/v1/deliveries/{id}/retry", &["post"]),
    ("/api/v1/sources", &["get"]),
    ("/api/v1/sources/{name}", &["get", "put", "delete"]),
    ("/api/v1/sources/{name}/requests", &["get"]),
    ("/api/v1/sources/{name}/requests/{id}", &["get"]),
    ("/api/v1/tokens", &["get", "post"]),
    ("/api/v1/tokens/{id}", &["delete"]),
    ("/health", &["get"]),
    ("/openapi.json", &["get"]),
    ("/docs", &["get"]),
    ("/in/{name}", &["post"]),
];

/// Documented though served outside the route lists above.
const ALSO_DOCUMENTED: &[(&str, &[&str])] = &[("/metrics", &["get"])];

const PUBLIC: &[&str] = &[
    "/health",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/in/{name}",
];

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

fn pairs(list: &[(&str, &[&str])]) -> BTreeSet<(String, String)> {
    list.iter()
        .flat_map(|(path, methods)| methods.iter().map(|m| (path.to_string(), m.to_string())))
        .collect()
}

/// The text after `open` up to the parenthesis that closes it.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    text
}

/// Whether `text` calls `name(` (not `other_name(` nor `module::name)`).
fn calls(text: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    text.match_indices(&pattern).any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `(path, method)` of every `.route(…)` in `router()` of `src/api/mod.rs`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let v1 = include_str!("../../src/api/mod.rs")
        .split("pub fn routes(")
        .nth(1)
        .expect("routes() in api/mod.rs");
    let outer = include_str!("../../src/http/router.rs")
        .split("pub fn router(")
        .nth(1)
        .and_then(|s| s.split("pub fn worker_router").next())
        .expect("router() in http/router.rs");
    assert!(
        outer.contains(".nest(\"/api/v1\", api::routes("),
        "the /api/v1 nest"
    );
    let mut routes = BTreeSet::new();
    for (prefix, part) in [("/api/v1", v1), ("", outer)] {
        for chunk in part.split(".route(").skip(1) {
            let call = balanced(chunk);
            let path = call.split('"').nth(1).expect("a route path literal");
            for method in METHODS {
                if calls(call, method) {
                    routes.insert((format!("{prefix}{path}"), method.to_string()));
                }
            }
        }
    }
    routes
}

async fn document(app: &TestApp) -> Value {
    let resp = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .expect("request sent");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).expect("the document is JSON")
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (path.clone(), m.to_string()))
        })
        .collect()
}

/// Follows a `$ref` to `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r} is not in the document")),
        None => schema,
    }
}

#[test]
fn the_route_list_matches_the_router() {
    let source = routes_in_source();
    let listed = pairs(ROUTES);
    let known: BTreeSet<_> = listed.union(&pairs(ALSO_DOCUMENTED)).cloned().collect();
    let unlisted: Vec<_> = source.difference(&known).collect();
    assert!(
        unlisted.is_empty(),
        "routes missing from ROUTES: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&source).collect();
    assert!(
        stale.is_empty(),
        "ROUTES lists routes the router lacks: {stale:?}"
    );
}

#[tokio::test]
async fn every_route_is_documented_with_its_methods() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );

    let expected: BTreeSet<_> = pairs(ROUTES)
        .union(&pairs(ALSO_DOCUMENTED))
        .cloned()
        .collect();
    assert_eq!(documented(&doc), expected);

    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(
        error["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorInfo"
    );
    let info = &doc["components"]["schemas"]["ErrorInfo"];
    for field in ["code", "message", "details"] {
        assert!(info["properties"].get(field).is_some(), "{field}: {info}");
    }

    for (path, method) in expected {
        let op = &doc["paths"][&path][&method];
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success answer"
        );
        if PUBLIC.contains(&path.as_str()) {
            assert_eq!(op["security"], json!([]), "{method} {path} needs no token");
        } else {
            assert!(op.get("security").is_none(), "{method} {path}");
            let unauthorized = &responses["401"]["content"]["application/json"]["schema"];
            assert_eq!(unauthorized["$ref"], "#/components/schemas/ErrorBody");
        }
    }

    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .chain(doc["webhooks"].as_object().unwrap().values())
        .flat_map(|item| {
            METHODS
                .iter()
                .filter_map(|m| item[*m]["operationId"].as_str())
        })
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
    assert!(unique.contains("event_types.list") && unique.contains("endpoints.list"));

    // Request bodies and main answers, spot-checked against the handlers.
    let create = &doc["paths"]["/api/v1/scopes/{scope}/endpoints"]["post"];
    let body = resolve(
        &doc,
        &create["requestBody"]["content"]["application/json"]["schema"],
    );
    assert!(
        body["required"]
            .as_array()
            .unwrap()
            .contains(&json!("code")),
        "{body}"
    );
    for field in [
        "url",
        "targets",
        "auth",
        "headers",
        "timeout_ms",
        "rate_limit",
        "secret",
    ] {
        assert!(body["properties"].get(field).is_some(), "{field}: {body}");
    }
    let created = resolve(
        &doc,
        &create["responses"]["201"]["content"]["application/json"]["schema"],
    );
    for field in ["id", "code", "url", "enabled", "circuit", "key_type"] {
        assert!(
            created["properties"].get(field).is_some(),
            "{field}: {created}"
        );
    }
    let publish = &doc["paths"]["/api/v1/events"]["post"];
    let body = resolve(
        &doc,
        &publish["requestBody"]["content"]["application/json"]["schema"],
    );
    assert!(body["properties"].get("type").is_some(), "{body}");
    assert!(publish["responses"].get("202").is_some());
    assert!(publish["responses"].get("422").is_some());
    let list = &doc["paths"]["/api/v1/deliveries"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["scope", "endpoint", "event", "status", "limit", "cursor"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    app.stop().await;
}

fn envelope<'a>(doc: &'a Value, code: &str) -> &'a Value {
    &doc["webhooks"][code]["post"]["requestBody"]["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn webhooks_follow_the_registry() {
    let app = TestApp::spawn().await;
    let schema = json!({
        "type": "object",
        "required": ["order_id"],
        "properties": {"order_id": {"type": "string"}, "total": {"type": ["number", "null"]}},
        "$defs": {"unused": {"type": "string"}}
    });
    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "description": "An order was paid.", "schema": schema}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    app.event_types(&["template_update"]).await;

    let doc = document(&app).await;
    let hooks = doc["webhooks"].as_object().expect("webhooks");
    for code in [
        "order.paid",
        "template_update",
        "endpoint.disabled",
        "delivery.failed",
    ] {
        assert!(hooks.contains_key(code), "{code} in {:?}", hooks.keys());
    }
    let paid = &doc["webhooks"]["order.paid"]["post"];
    assert_eq!(paid["summary"], "Order paid");
    assert_eq!(paid["description"], "An order was paid.");
    let envelope_paid = envelope(&doc, "order.paid");
    assert_eq!(
        envelope_paid["properties"]["data"], schema,
        "the schema as registered"
    );
    assert_eq!(
        envelope_paid["properties"]["type"]["enum"],
        json!(["order.paid"])
    );
    let mut required: Vec<&str> = envelope_paid["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, ["data", "id", "scope", "timestamp", "type"]);
    let untyped = &envelope(&doc, "template_update")["properties"]["data"];
    assert!(
        untyped.get("type").is_none(),
        "no schema: any JSON value, as publishing takes: {untyped}"
    );
    for code in ["order.paid", "template_update"] {
        let headers: Vec<(&str, &str, bool)> = doc["webhooks"][code]["post"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap(),
                    p["in"].as_str().unwrap(),
                    p["required"] == true,
                )
            })
            .collect();
        assert_eq!(
            headers,
            [
                ("webhook-id", "header", true),
                ("webhook-timestamp", "header", true),
                ("webhook-signature", "header", true)
            ]
        );
    }
    let disabled = envelope(&doc, "endpoint.disabled");
    assert!(
        disabled["properties"]["data"]["properties"]
            .get("reason")
            .is_some()
    );

    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            "/event-types/template_update",
            None,
        )
        .await;
    assert_eq!(s, 204);
    let doc = document(&app).await;
    assert!(
        doc["webhooks"].get("template_update").is_none(),
        "archived: gone"
    );
    assert!(doc["webhooks"].get("order.paid").is_some());
    app.stop().await;
}

#[tokio::test]
async fn document_and_docs_need_no_token() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    let resp = client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = resp.text().await.unwrap();
    assert!(html.contains("/openapi.json"));
    assert!(html.to_lowercase().contains("<!doctype html>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing loaded from elsewhere"
    );
    app.stop().await;
}

/// The whole document for a fixed registry (the operational types and two of ours), so
/// a change to any route, body or answer shows in review as a snapshot diff.
#[tokio::test]
async fn document_snapshot() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": {
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"type": "string"}}
            }}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    app.event_types(&["template_update"]).await;
    let mut doc = document(&app).await;
    // The version moves with every release; the shape is what is reviewed.
    doc["info"]["version"] = json!("[version]");
    insta::assert_json_snapshot!("openapi_document", doc);
    app.stop().await;
}
