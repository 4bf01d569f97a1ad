//! Limits, addresses, answers: `max_body_bytes`, unknown and disabled sources,
//! `allowed_ips` and `X-Forwarded-For`, a configured response instead of the 202, and
//! clients that stall (header and body read timeouts).

use std::time::Duration;

use serde_json::json;

use crate::support::{TestApp, TestReceiver};

use super::{
    Headers, assert_forwarded, forward_deliveries, forwarding_source, log_entry, log_of,
    put_source, send,
};

#[tokio::test]
async fn a_body_over_max_body_bytes_is_413_and_not_forwarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "small",
        json!({
            "verify": {"type": "none"},
            "max_body_bytes": 1024,
            "forward_to": [receiver.url("/small")],
        }),
    )
    .await;

    let too_big = vec![b'a'; 1025];
    let reply = send(&app, "small", &[], &too_big).await;
    assert_eq!(
        reply.status, 413,
        "1025 bytes over a 1024 limit: {}",
        reply.text
    );
    assert!(
        log_of(&app, "small", "?status=accepted").await.is_empty(),
        "the oversized request was not accepted"
    );
    let rejected = log_of(&app, "small", "?status=rejected").await;
    assert_eq!(rejected.len(), 1, "the 413 is logged: {rejected:?}");
    assert_eq!(rejected[0]["status"], "rejected");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("larger than 1024 bytes")),
        "the log says why: {rejected:?}"
    );
    assert!(
        forward_deliveries(&app, "small").await.is_empty(),
        "the oversized request was not queued"
    );

    // Exactly the limit is fine.
    let fits = vec![b'b'; 1024];
    let reply = send(&app, "small", &[], &fits).await;
    let (id, _) = assert_forwarded(&receiver, "small", "none", &reply, &fits).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the request that fits arrived"
    );
    let entry = log_entry(&app, "small", &id).await;
    assert_eq!(entry["body_size"], 1024);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_disabled_sources_are_404() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let reply = send(&app, "nobody", &[], b"{}").await;
    assert_eq!(reply.status, 404, "an unknown source: {}", reply.text);

    let spec = |enabled: bool| {
        json!({
            "verify": {"type": "none"},
            "forward_to": [receiver.url("/paused")],
            "enabled": enabled,
        })
    };
    let created = put_source(&app, "paused", spec(false)).await;
    assert_eq!(created["enabled"], false);
    let reply = send(&app, "paused", &[], b"{}").await;
    assert_eq!(reply.status, 404, "a disabled source: {}", reply.text);
    assert!(forward_deliveries(&app, "paused").await.is_empty());

    let (s, body) = app.put("/sources/paused", spec(true)).await;
    assert_eq!(s, 200, "{body}");
    let reply = send(&app, "paused", &[], b"{}").await;
    assert_forwarded(&receiver, "paused", "none", &reply, b"{}").await;
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing sent while it was disabled"
    );
    app.stop().await;
}

#[tokio::test]
async fn allowed_ips_admit_only_listed_addresses() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    for (name, allowed) in [
        ("elsewhere", json!(["10.0.0.0/8"])),
        ("local", json!(["127.0.0.1"])),
        ("mixed", json!(["10.0.0.0/8", "127.0.0.0/8"])),
    ] {
        put_source(
            &app,
            name,
            json!({
                "verify": {"type": "none"},
                "allowed_ips": allowed,
                "forward_to": [receiver.url(&format!("/{name}"))],
            }),
        )
        .await;
    }
    let body = br#"{"n":1}"#;

    let reply = send(&app, "elsewhere", &[], body).await;
    assert_eq!(
        reply.status, 403,
        "127.0.0.1 is outside 10.0.0.0/8: {}",
        reply.text
    );
    assert!(forward_deliveries(&app, "elsewhere").await.is_empty());
    let rejected = log_of(&app, "elsewhere", "").await;
    assert_eq!(rejected.len(), 1, "the 403 is logged: {rejected:?}");
    assert_eq!(rejected[0]["status"], "rejected", "{rejected:?}");
    assert_eq!(rejected[0]["client_ip"], "127.0.0.1");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("127.0.0.1") && r.contains("allowed_ips")),
        "the log says why: {rejected:?}"
    );

    let reply = send(&app, "local", &[], body).await;
    assert_forwarded(&receiver, "local", "none", &reply, body).await;
    let reply = send(&app, "mixed", &[], body).await;
    assert_forwarded(&receiver, "mixed", "none", &reply, body).await;
    assert_eq!(receiver.received().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
    let spec = |receiver: &TestReceiver| {
        json!({
            "verify": {"type": "none"},
            "allowed_ips": ["203.0.113.0/24"],
            "forward_to": [receiver.url("/proxied")],
        })
    };
    let body = br#"{"n":1}"#;

    // Behind trusted proxies (the socket is in 127.0.0.0/8, a second hop in 10.0.0.0/8),
    // the rightmost X-Forwarded-For entry that is not a trusted proxy is the client.
    let app =
        TestApp::with(|c| c.trusted_proxies = Some("127.0.0.0/8, 10.0.0.0/8".to_owned())).await;
    let receiver = TestReceiver::start().await;
    put_source(&app, "proxied", spec(&receiver)).await;
    let cases: [(&str, Headers, &str); 3] = [
        (
            "one proxy",
            vec![("x-forwarded-for", "203.0.113.7".to_owned())],
            "203.0.113.7",
        ),
        (
            "two proxies: the inner one (10.9.9.9) is skipped",
            vec![("x-forwarded-for", "203.0.113.8, 10.9.9.9".to_owned())],
            "203.0.113.8",
        ),
        (
            "two headers are one list, in order",
            vec![
                ("x-forwarded-for", "203.0.113.9".to_owned()),
                ("x-forwarded-for", "10.9.9.9".to_owned()),
            ],
            "203.0.113.9",
        ),
    ];
    for (what, headers, client) in cases {
        let reply = send(&app, "proxied", &headers, body).await;
        let (id, _) = assert_forwarded(&receiver, "proxied", "none", &reply, body).await;
        let entry = log_entry(&app, "proxied", &id).await;
        assert_eq!(entry["client_ip"], client, "{what}: {entry}");
    }

    // The entry the trusted proxy appended is a stranger outside allowed_ips.
    let reply = send(
        &app,
        "proxied",
        &[("x-forwarded-for", "203.0.113.8, 192.0.2.1".to_owned())],
        body,
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "the address the proxy saw counts, not what is left of it: {}",
        reply.text
    );
    assert!(reply.message().contains("192.0.2.1"), "{}", reply.text);

    let reply = send(&app, "proxied", &[], body).await;
    assert_eq!(
        reply.status, 403,
        "without the header the proxy itself is the client: {}",
        reply.text
    );
    assert_eq!(
        receiver.received().len(),
        3,
        "only the admitted ones arrived"
    );
    app.stop().await;

    // Without trusted proxies, the header is the caller's claim and is ignored.
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(&app, "proxied", spec(&receiver)).await;
    let reply = send(
        &app,
        "proxied",
        &[("x-forwarded-for", "203.0.113.7".to_owned())],
        body,
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "a spoofed X-Forwarded-For is ignored: {}",
        reply.text
    );
    assert!(forward_deliveries(&app, "proxied").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_caller_prepending_an_allowed_address_to_x_forwarded_for_is_still_403() {
    // One trusted proxy in front (the socket, 127.0.0.1). It appends the address it saw
    // (here 198.51.100.4, outside allowed_ips) to whatever the caller sent, and the
    // caller sent an allowed address first.
    let app = TestApp::with(|c| c.trusted_proxies = Some("127.0.0.0/8".to_owned())).await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "guarded",
        json!({
            "verify": {"type": "none"},
            "allowed_ips": ["203.0.113.0/24"],
            "forward_to": [receiver.url("/guarded")],
        }),
    )
    .await;
    let body = br#"{"n":1}"#;
    let spoofs: [Headers; 3] = [
        vec![("x-forwarded-for", "203.0.113.7, 198.51.100.4".to_owned())],
        vec![
            ("x-forwarded-for", "203.0.113.7".to_owned()),
            ("x-forwarded-for", "198.51.100.4".to_owned()),
        ],
        vec![(
            "x-forwarded-for",
            "203.0.113.7, 203.0.113.8, 198.51.100.4".to_owned(),
        )],
    ];
    for headers in &spoofs {
        let reply = send(&app, "guarded", headers, body).await;
        assert_eq!(
            reply.status, 403,
            "{headers:?}: the prepended address is ignored: {}",
            reply.text
        );
        assert!(
            reply.message().contains("198.51.100.4"),
            "the refusal names the real caller: {}",
            reply.text
        );
    }
    let rejected = log_of(&app, "guarded", "?status=rejected").await;
    assert_eq!(rejected.len(), spoofs.len(), "{rejected:?}");
    for entry in &rejected {
        assert_eq!(entry["client_ip"], "198.51.100.4", "{entry}");
    }
    assert!(forward_deliveries(&app, "guarded").await.is_empty());

    // The same proxy relaying a real allowed caller is admitted, so the 403s above are
    // about the spoof and nothing else.
    let reply = send(
        &app,
        "guarded",
        &[("x-forwarded-for", "203.0.113.7".to_owned())],
        body,
    )
    .await;
    assert_forwarded(&receiver, "guarded", "none", &reply, body).await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_configured_response_replaces_the_202() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    put_source(
        &app,
        "plain",
        json!({
            "verify": {"type": "none"},
            "response": {"status": 200, "body": "ok"},
            "forward_to": [receiver.url("/plain")],
        }),
    )
    .await;
    put_source(
        &app,
        "jsonish",
        json!({
            "verify": {"type": "none"},
            "response": {"status": 201, "body": "{\"received\":true}", "content_type": "application/json"},
            "forward_to": [receiver.url("/jsonish")],
        }),
    )
    .await;
    let body = br#"{"n":1}"#;

    let reply = send(&app, "plain", &[], body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "ok");
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].body.as_ref(), body, "still forwarded");
    assert!(
        got[0].headers["x-hookrelay-request-id"].starts_with("req_"),
        "{:?}",
        got[0].headers
    );
    let log = log_of(&app, "plain", "").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "accepted");
    assert_eq!(
        log[0]["id"],
        got[0].headers["x-hookrelay-request-id"].as_str()
    );

    let reply = send(&app, "jsonish", &[], body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json, json!({"received": true}));
    assert!(
        reply
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.content_type
    );
    receiver.wait_for(2).await;
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_gets_408_and_nothing_is_forwarded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::with(|c| c.inbound_read_timeout_ms = 300).await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "slow", json!({"type": "none"})).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Headers promise 100 bytes; only 5 come, then the client goes quiet.
    socket
        .write_all(
            b"POST /in/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"a\":",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("the gateway answers instead of waiting for ever")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    let rejected = log_of(&app, "slow", "?status=rejected").await;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("did not arrive"),
        "{rejected:?}"
    );
    assert!(forward_deliveries(&app, "slow").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::with(|c| c.header_read_timeout_ms = 300).await;
    let receiver = TestReceiver::start().await;
    forwarding_source(&app, &receiver, "x", json!({"type": "none"})).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Taken before connecting, so the server's timer cannot have started earlier.
    let opened = std::time::Instant::now();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Half a request head: no blank line ever comes.
    socket
        .write_all(b"POST /in/x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let mut answered = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answered.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server still held the connection 10 s after a 300 ms header timeout"
    );
    assert!(
        opened.elapsed() >= Duration::from_millis(250),
        "closed by the timeout, not at once: {:?}",
        opened.elapsed()
    );
    assert!(
        answered.is_empty(),
        "no request was served: {}",
        String::from_utf8_lossy(&answered)
    );
    assert!(
        log_of(&app, "x", "").await.is_empty(),
        "the half request never reached the gateway"
    );

    // The server itself is fine: a whole request on a new connection is accepted.
    let reply = send(&app, "x", &[], b"{}").await;
    assert_forwarded(&receiver, "x", "none", &reply, b"{}").await;
    app.stop().await;
}
