//! `hookrelay listen` prints webhooks and says whether their signature holds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hookrelay_signature::{Secret, sign};

#[tokio::test]
async fn listen_verifies_good_and_flags_bad_signatures() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = Secret::generate();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args([
            "listen",
            "--port",
            &port.to_string(),
            "--secret",
            &secret.to_text(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/hook");
    let body = r#"{"id":"evt_1","type":"order.paid","data":{}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let send = |sig: String| {
        client
            .post(&url)
            .header("webhook-id", "evt_1")
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", sig)
            .body(body)
            .send()
    };
    // The listener may still be binding: retry the first request until it answers.
    let mut answered = None;
    for _ in 0..200 {
        if let Ok(r) = send(sign(&secret, "evt_1", now, body.as_bytes())).await {
            answered = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(answered, Some(reqwest::StatusCode::NO_CONTENT));
    let r = send(sign(&Secret::generate(), "evt_1", now, body.as_bytes()))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let mut headlines = Vec::new();
    while headlines.len() < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("listen printed the webhook");
        if line.contains("signature:") {
            headlines.push(line);
        }
    }
    assert!(
        headlines[0].contains("order.paid evt_1 signature: valid"),
        "{}",
        headlines[0]
    );
    assert!(
        headlines[1].contains("signature: FAILED: no v1 signature matches the secret"),
        "{}",
        headlines[1]
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
