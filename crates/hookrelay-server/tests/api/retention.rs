//! Retention: finished history older than `HOOKRELAY_RETENTION` disappears on its own;
//! a delivery still pending, and its event, never do; settings that cannot work are
//! refused at start.

use std::time::Duration;

use serde_json::json;

use crate::support::{TestApp, TestReceiver, wait_until};

#[tokio::test]
async fn finished_history_older_than_the_retention_is_removed_and_pending_work_is_kept() {
    let app = TestApp::with(|c| {
        c.retention = "2s".to_owned();
        // A failed attempt waits long before its retry, so the delivery stays pending.
        c.retry_schedule = Some("1h".to_owned());
    })
    .await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", app.base))
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        health["retention"],
        json!({"history": "2s", "payload": null})
    );
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    app.endpoint("ok", "e", &receiver.url("/"), &["*"]).await;
    // Nothing listens on the discard port: the attempt is refused, the delivery pends.
    app.endpoint("down", "e", "http://127.0.0.1:9/", &["*"])
        .await;
    let done = app.publish("order.paid", &["ok"], json!({})).await;
    let pending = app.publish("order.paid", &["down"], json!({})).await;
    let delivered = app.deliveries_of(done["id"].as_str().unwrap()).await;
    app.wait_for_status(delivered[0]["id"].as_str().unwrap(), "succeeded")
        .await;

    let gone = wait_until(Duration::from_secs(20), || async {
        let (s, _) = app
            .get(&format!("/events/{}", done["id"].as_str().unwrap()))
            .await;
        (s == 404).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the finished event is removed after 2 s");
    let (s, _) = app
        .get(&format!(
            "/deliveries/{}",
            delivered[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 404, "with its delivery");
    let (s, kept) = app
        .get(&format!("/events/{}", pending["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200, "a pending delivery's event stays: {kept}");
    let still = app.deliveries_of(pending["id"].as_str().unwrap()).await;
    assert_eq!(still[0]["status"], "pending");
    app.stop().await;
}

#[tokio::test]
async fn retention_settings_that_cannot_work_are_refused_at_start() {
    let app = TestApp::spawn().await;
    let error = app
        .build_error_with(|c| c.retention = "soon".to_owned())
        .await;
    assert!(error.contains("HOOKRELAY_RETENTION"), "{error}");
    let error = app
        .build_error_with(|c| {
            c.retention = "1d".to_owned();
            c.payload_retention = Some("2d".to_owned());
        })
        .await;
    assert!(
        error.contains("HOOKRELAY_PAYLOAD_RETENTION") && error.contains("shorter"),
        "{error}"
    );
    app.stop().await;
}
