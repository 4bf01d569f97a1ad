//! Publishing: idempotency, the event log, the registry.

use serde_json::json;

use crate::support::{ADMIN, TestApp, TestReceiver};

#[tokio::test]
async fn idempotency_key_in_body_or_header_publishes_once() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;

    let body =
        json!({"type": "a", "scopes": ["s"], "data": {"x": 1}, "idempotency_key": "order-42"});
    let (s1, first) = app.post("/events", body.clone()).await;
    let (s2, second) = app.post("/events", body).await;
    assert_eq!((s1, s2), (202, 200));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["deliveries"], 1);

    let resp = app
        .client
        .post(app.url("/events"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", "hdr-1")
        .json(&json!({"type": "a", "scopes": ["s"], "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let third: serde_json::Value = resp.json().await.unwrap();
    let resp = app
        .client
        .post(app.url("/events"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", "hdr-1")
        .json(&json!({"type": "a", "scopes": ["s"], "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fourth: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(third["id"], fourth["id"]);

    receiver.wait_for(2).await;
    let (_, deliveries) = app.get("/deliveries?scope=s").await;
    assert_eq!(
        deliveries["data"].as_array().unwrap().len(),
        2,
        "duplicates queued nothing"
    );
    let (_, events) = app.get("/events").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 2);
    let (_, by_key) = app.get("/events?idempotency_key=order-42").await;
    let found = by_key["data"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{by_key}");
    assert_eq!(found[0]["id"], first["id"]);
    let (_, unknown) = app.get("/events?idempotency_key=order-43").await;
    assert_eq!(unknown["data"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn lists_page_with_cursors_and_filter() {
    let app = TestApp::spawn().await;
    app.event_types(&["a", "b"]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let t = if i % 2 == 0 { "a" } else { "b" };
        ids.push(
            app.publish(t, &["s"], json!({"i": i})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (_, page1) = app.get("/events?limit=2").await;
    let got: Vec<_> = page1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone()], "newest first");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = app.get(&format!("/events?limit=2&cursor={cursor}")).await;
    let (_, page3) = app
        .get(&format!(
            "/events?limit=2&cursor={}",
            page2["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page3["data"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    assert_eq!(page3["data"][0]["id"], ids[0].as_str());

    let (_, only_a) = app.get("/events?type=a").await;
    assert_eq!(only_a["data"].as_array().unwrap().len(), 3);
    let (_, future) = app.get("/events?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["data"].as_array().unwrap().len(), 0);
    let (s, _) = app.get("/events?limit=0").await;
    assert_eq!(s, 422);
    app.stop().await;
}

#[tokio::test]
async fn registry_sync_creates_updates_and_archives() {
    let app = TestApp::spawn().await;
    app.event_types(&["old"]).await;
    let (s, report) = app
        .put(
            "/event-types",
            json!({"version": 1, "events": [
                {"code": "template_update", "name": "Template updated", "description": "A template changed"},
                {"code": "order.paid", "name": "Order paid", "schema": {"type": "object"}}
            ]}),
        )
        .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["created"], json!(["template_update", "order.paid"]));
    assert_eq!(report["archived"], json!(["old"]));

    let (s, body) = app
        .post(
            "/events",
            json!({"type": "old", "scopes": ["s"], "data": {}}),
        )
        .await;
    assert_eq!(s, 422, "an archived type is not publishable");
    assert_eq!(body["error"]["details"][0]["field"], "type");
    let (s, old) = app.get("/event-types/old").await;
    assert_eq!(
        (s, old["archived"].clone()),
        (200, json!(true)),
        "kept for history"
    );

    let (_, listed) = app.get("/event-types").await;
    let codes: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_owned())
        .collect();
    // The operational types are Hookrelay's own: a sync never archives them.
    assert_eq!(
        codes,
        vec![
            "delivery.failed",
            "endpoint.disabled",
            "endpoint.recovered",
            "order.paid",
            "template_update"
        ]
    );

    let (_, again) = app
        .put("/event-types", json!({"version": 1, "events": [{"code": "order.paid", "name": "Order was paid", "schema": {"type": "object"}}]}))
        .await;
    assert_eq!(again["updated"], json!(["order.paid"]));
    assert_eq!(again["archived"], json!(["template_update"]));

    let (s, _) = app
        .call(reqwest::Method::DELETE, "/event-types/order.paid", None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(reqwest::Method::DELETE, "/event-types/never", None)
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}
