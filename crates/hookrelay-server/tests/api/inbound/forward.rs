//! Forwards are deliveries: retried until they succeed, and durable across a restart.

use hookrelay_signature::providers::github;
use serde_json::json;

use crate::support::{Answer, TestApp, TestReceiver};

use super::{
    GITHUB_SECRET, ODD_BODY, forward_deliveries, forwarding_source, github_headers, secrets, send,
    uuid, wait_forwarded,
};

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
    forwarding_source(&app, &receiver, "durable", secrets("github", GITHUB_SECRET)).await;
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
