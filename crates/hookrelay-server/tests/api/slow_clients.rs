//! Clients that hold connections: a body announced and never sent is answered 408 and
//! the connection closed, on every route (`POST /ui/login` needs no token); and the
//! server never serves more than `max_connections` at once, so such clients cannot take
//! the descriptors `/health` and everyone else need.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{ADMIN, TestApp};

/// Sends `head` (request line and headers, a body announced but not sent) and reads
/// the answer until the server closes the connection.
async fn announce_and_stall(app: &TestApp, head: &str) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // Bounded: the server must answer and close well before this.
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408_and_the_connection_closed() {
    let app = TestApp::with(|c| c.body_read_timeout_ms = 300).await;
    let login = announce_and_stall(
        &app,
        "POST /ui/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=",
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 408"), "{login}");
    let publish = announce_and_stall(
        &app,
        &format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"type\""
        ),
    )
    .await;
    assert!(publish.starts_with("HTTP/1.1 408"), "{publish}");
    assert!(publish.contains("request_timeout"), "{publish}");
    app.stop().await;
}

#[tokio::test]
async fn past_max_connections_new_clients_wait_until_one_closes() {
    let app = TestApp::with(|c| c.max_connections = 2).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Two clients that connect and say nothing hold both slots.
    let first = TcpStream::connect(&addr).await.unwrap();
    let _second = TcpStream::connect(&addr).await.unwrap();
    let mut health = {
        let url = format!("{}/health", app.base);
        tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) })
    };
    // While both are held the third is not served (the listen queue holds it).
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut health).await;
    assert!(
        waited.is_err(),
        "a third connection was served past the limit"
    );
    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(10), health)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    app.stop().await;
}
