//! Forwards: what they carry (not the hop-by-hop headers, not a sender's `X-Hookrelay-*`),
//! and that they are deliveries, retried until they succeed and durable across a restart.

use hookrelay_signature::providers::github;
use serde_json::{Value, json};

use std::time::Duration;

use crate::support::{Answer, Received, TestApp, TestReceiver};

use super::{
    GITHUB_SECRET, ODD_BODY, arrival, assert_forwarded, forward_deliveries, forwarding_source,
    gateway, github_headers, log_entry, secrets, send, uuid, wait_forwarded,
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

/// The values a forwarded request carried for `name`, every line of it.
fn lines_of(got: &Received, name: &str) -> Vec<String> {
    got.header_lines
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

#[tokio::test]
async fn forwards_drop_the_headers_the_connection_header_names() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (app, receiver) = gateway(&[("hop", json!({"type": "none"}))]).await;
    let body = br#"{"n":1}"#;
    // Written by hand: an HTTP client library would manage Connection itself.
    let request = format!(
        "POST /in/hop HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\
         Connection: close, X-Hop-Secret\r\nConnection: X-Other-Hop\r\n\
         X-Hop-Secret: meant-for-the-proxy-only\r\nX-Other-Hop: also-not\r\n\
         X-Kept: end-to-end\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("the gateway answers and closes (Connection: close)")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or(""))
        .unwrap_or_else(|_| panic!("a JSON answer: {answer}"));
    let id = json["id"].as_str().expect("a request id").to_owned();

    // The log keeps the request as received …
    let entry = log_entry(&app, "hop", &id).await;
    assert_eq!(
        entry["headers"]["x-hop-secret"], "meant-for-the-proxy-only",
        "{entry}"
    );
    // … the forward drops what the Connection headers named.
    let got = arrival(&receiver, &id).await;
    assert_eq!(got.body.as_ref(), body);
    for name in ["x-hop-secret", "x-other-hop", "connection"] {
        assert!(
            lines_of(&got, name).is_empty(),
            "{name} is hop-by-hop and not forwarded: {:?}",
            got.header_lines
        );
    }
    assert_eq!(
        lines_of(&got, "x-kept"),
        ["end-to-end"],
        "other headers are kept"
    );
    let entry = wait_forwarded(&app, "hop", &id).await;
    let delivery_id = entry["forwards"][0]["delivery_id"].as_str().unwrap();
    let d = app.wait_for_status(delivery_id, "succeeded").await;
    let recorded = d["attempts"][0]["request_headers"].to_string();
    assert!(
        !recorded.contains("meant-for-the-proxy-only") && recorded.contains("end-to-end"),
        "the attempt records what was sent: {recorded}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sender_cannot_forge_the_gateway_x_hookrelay_headers() {
    let (app, receiver) = gateway(&[("open", json!({"type": "none"}))]).await;
    let body = br#"{"n":1}"#;
    let forged = [
        ("x-hookrelay-verified", "github".to_owned()),
        ("X-Hookrelay-Source", "payments".to_owned()),
        ("x-hookrelay-request-id", "req_forged".to_owned()),
        ("x-hookrelay-anything", "trust me".to_owned()),
    ];
    let reply = send(&app, "open", &forged, body).await;
    let (id, got) = assert_forwarded(&receiver, "open", "none", &reply, body).await;
    assert_eq!(
        lines_of(&got, "x-hookrelay-verified"),
        ["none"],
        "only the gateway's own verdict arrives: {:?}",
        got.header_lines
    );
    assert_eq!(lines_of(&got, "x-hookrelay-source"), ["open"]);
    assert_eq!(lines_of(&got, "x-hookrelay-request-id"), [id]);
    assert!(lines_of(&got, "x-hookrelay-anything").is_empty());
    app.stop().await;
}
