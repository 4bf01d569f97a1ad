//! Event type schemas: checked when registered, enforced on every publish.

use serde_json::json;

use crate::support::{TestApp, TestReceiver};

#[tokio::test]
async fn invalid_schemas_are_refused_at_registration() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": {"type": "no-such-type"}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "schema");

    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": {"$ref": "https://example.com/s.json"}}),
        )
        .await;
    assert_eq!(s, 422, "a remote $ref is never fetched: {body}");

    // A pattern only a backtracking engine runs (lookahead) could hold a core for
    // seconds per publish: refused, naming the schema.
    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid",
                   "schema": {"type": "object", "properties": {"x": {"type": "string", "pattern": "(?!x)(.*a){20}$"}}}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "schema", "{body}");

    let (s, body) = app
        .put("/event-types", json!({"version": 1, "events": [{"code": "a", "name": "A", "schema": {"minimum": "five"}}]}))
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "events[0].schema");
    let (_, types) = app.get("/event-types").await;
    let codes: Vec<&str> = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["delivery.failed", "endpoint.disabled", "endpoint.recovered"],
        "nothing but the built-in operational types"
    );
    app.stop().await;
}

#[tokio::test]
async fn published_data_must_match_the_schema() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let schema = json!({
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "integer", "minimum": 1}, "currency": {"enum": ["EUR", "USD"]}}
    });
    let (s, _) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": schema}),
        )
        .await;
    assert_eq!(s, 201);
    app.endpoint("shop", "billing", &receiver.url("/"), &["order.*"])
        .await;

    let (s, body) = app
        .post("/events", json!({"type": "order.paid", "scopes": ["shop"], "data": {"amount": 0, "currency": "GBP"}}))
        .await;
    assert_eq!(s, 422, "{body}");
    let fields: Vec<_> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert!(fields.contains(&json!("data/amount")), "{body}");
    assert!(fields.contains(&json!("data/currency")), "{body}");
    let (s, body) = app
        .post(
            "/events",
            json!({"type": "order.paid", "scopes": ["shop"], "data": {}}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "data");

    let ok = app
        .publish(
            "order.paid",
            &["shop"],
            json!({"amount": 5, "currency": "EUR"}),
        )
        .await;
    assert_eq!(ok["deliveries"], 1);
    let (_, events) = app.get("/events").await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        1,
        "refused publishes wrote nothing"
    );

    // A changed schema applies to the next publish.
    let (s, _) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": {"type": "object", "required": ["id"]}}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(
            "/events",
            json!({"type": "order.paid", "scopes": ["shop"], "data": {"amount": 5}}),
        )
        .await;
    assert_eq!(s, 422);
    receiver.wait_for(1).await;
    app.stop().await;
}
