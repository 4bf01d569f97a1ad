//! The real binary, as a user runs it: first start, start-up errors, signals, kill -9.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

mod common;
use common::{spawn, stop};

const TOKEN: &str = "process-test-admin";

fn run_to_end(dir: &Path, envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    cmd.arg("serve").current_dir(dir).env_clear();
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn first_start_creates_the_database_and_prints_an_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn(dir.path(), &[]);
    assert!(
        dir.path().join("hookrelay.db").exists(),
        "default sqlite://hookrelay.db in the working folder"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = loop {
        let lines = first.stdout.lock().unwrap().clone();
        if let Some(l) = lines.iter().find(|l| l.starts_with("admin token: ")) {
            break l["admin token: ".len()..].to_owned();
        }
        assert!(Instant::now() < deadline, "no admin token line");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("{}/api/v1/events", first.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let db = std::fs::read(dir.path().join("hookrelay.db")).unwrap();
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "only the hash is stored"
    );
    stop(&mut first, "-TERM");

    let mut second = spawn(dir.path(), &[]);
    let ok = client
        .get(format!("{}/api/v1/events", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the token survives restarts");
    stop(&mut second, "-INT");
    assert!(
        second
            .stdout
            .lock()
            .unwrap()
            .iter()
            .all(|l| !l.starts_with("admin token")),
        "printed once only"
    );
}

#[test]
fn database_urls_relative_and_absolute_create_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let abs = dir.path().join("abs.db");
    for (url, file) in [
        ("sqlite://rel.db".to_owned(), dir.path().join("rel.db")),
        (format!("sqlite://{}", abs.display()), abs.clone()),
    ] {
        let mut p = spawn(
            dir.path(),
            &[
                ("HOOKRELAY_DATABASE_URL", &url),
                ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
            ],
        );
        assert!(file.exists(), "{url} created {}", file.display());
        stop(&mut p, "-TERM");
    }
}

#[test]
fn start_up_errors_are_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run_to_end(
        dir.path(),
        &[
            ("HOOKRELAY_LISTEN", &addr),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ],
    );
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error: cannot listen on"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"));

    std::fs::create_dir(dir.path().join("adir.db")).unwrap();
    let (code, stderr) = run_to_end(
        dir.path(),
        &[("HOOKRELAY_DATABASE_URL", "sqlite://adir.db")],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: cannot open the database sqlite://adir.db"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    let (code, stderr) = run_to_end(dir.path(), &[("HOOKRELAY_RETRY_SCHEDULE", "1s,soon")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("HOOKRELAY_RETRY_SCHEDULE"), "{stderr}");
}

/// A receiver that records every webhook-id and can be slowed down.
#[derive(Clone, Default)]
struct Receiver {
    /// Requests that arrived (counted before answering).
    arrived: Arc<std::sync::atomic::AtomicUsize>,
    /// Webhook ids answered 200, with how many times.
    seen: Arc<Mutex<HashMap<String, usize>>>,
    /// Headers and body of every request answered.
    requests: Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>>,
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().fallback(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    me.arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let delay = me.delay_ms.load(std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    *me.seen.lock().unwrap().entry(id).or_default() += 1;
                    me.requests.lock().unwrap().push((headers, body));
                    "ok"
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_accepted_event() {
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ("HOOKRELAY_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
    ];
    let receiver = Receiver::default();
    receiver
        .delay_ms
        .store(300, std::sync::atomic::Ordering::SeqCst);
    let url = receiver.start().await;

    let mut server = spawn(dir.path(), &envs);
    let client = reqwest::Client::new();
    let api = |p: &str| format!("{}/api/v1{p}", server.base);
    client
        .put(api("/event-types/a"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    let r = client
        .post(api("/scopes/s/endpoints"))
        .bearer_auth(TOKEN)
        .json(&json!({"code": "e", "url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    client
        .put(api("/scopes/s/subscriptions"))
        .bearer_auth(TOKEN)
        .json(&json!({"e": ["*"]}))
        .send()
        .await
        .unwrap();

    let mut published = Vec::new();
    for i in 0..300 {
        let r = client
            .post(api("/events"))
            .bearer_auth(TOKEN)
            .json(&json!({"type": "a", "scopes": ["s"], "data": {"i": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let body: serde_json::Value = r.json().await.unwrap();
        published.push(body["id"].as_str().unwrap().to_owned());
    }
    // Kill while deliveries are in flight (the receiver is slow) and others still queued.
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.seen.lock().unwrap().len() < 10 {
        assert!(Instant::now() < deadline, "no delivery started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let in_flight = receiver.arrived.load(std::sync::atomic::Ordering::SeqCst)
        - receiver.seen.lock().unwrap().len();
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let before_restart = receiver.seen.lock().unwrap().len();
    assert!(in_flight > 0, "deliveries were in flight at the kill");
    assert!(
        before_restart < published.len(),
        "the kill came before everything was delivered"
    );

    receiver
        .delay_ms
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let mut server = spawn(dir.path(), &envs);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = receiver.seen.lock().unwrap().clone();
        if published.iter().all(|id| seen.contains_key(id)) {
            let duplicates: usize = seen.values().map(|n| n - 1).sum();
            eprintln!(
                "kill -9: {} events, {} delivered and {} in flight at the kill, all delivered after restart, {} duplicate deliveries",
                published.len(),
                before_restart,
                in_flight,
                duplicates
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after restart only {} of {} events were delivered",
            published.iter().filter(|id| seen.contains_key(*id)).count(),
            published.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop(&mut server, "-TERM");
}

/// Waits until the receiver has answered `n` requests.
async fn wait_for_requests(receiver: &Receiver, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.requests.lock().unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} requests arrived",
            receiver.requests.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn verifies_with(request: &(axum::http::HeaderMap, axum::body::Bytes), secret: &str) -> bool {
    let h = |name: &str| request.0[name].to_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    hookrelay_signature::verify(
        &[hookrelay_signature::Secret::parse(secret).unwrap()],
        &h("webhook-id"),
        h("webhook-timestamp").parse().unwrap(),
        &request.1,
        &h("webhook-signature"),
        now,
        300,
    )
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_master_key_re_seals_the_secrets_and_no_log_shows_them() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BEARER: &str = "bearer-value-5c0ffee";
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
        ("RUST_LOG", "debug"),
    ];
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let key_file = dir.path().join("hookrelay.db.key");

    let mut server = spawn(dir.path(), &envs);
    assert!(
        server
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("created a master key file")),
        "the first start says it created the key file"
    );
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let client = reqwest::Client::new();
    let api = |base: &str, p: &str| format!("{base}/api/v1{p}");
    for (path, body) in [
        ("/event-types/a", json!({"name": "A"})),
        ("/scopes/s/subscriptions", json!({"e": ["*"]})),
    ] {
        if path.contains("subscriptions") {
            let r = client
                .post(api(&server.base, "/scopes/s/endpoints"))
                .bearer_auth(TOKEN)
                .json(&json!({"code": "e", "url": url, "secret": SECRET,
                              "auth": {"type": "bearer", "token": BEARER}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        let r = client
            .put(api(&server.base, path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    let publish = |base: String| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(TOKEN)
                .json(&json!({"type": "a", "scopes": ["s"], "data": {}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    };
    publish(server.base.clone()).await;
    wait_for_requests(&receiver, 1).await;
    stop(&mut server, "-TERM");
    let mut logs = server.stderr.lock().unwrap().clone();
    let old_key = std::fs::read_to_string(&key_file).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .arg("rotate-master-key")
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The endpoint's secret, its (empty) custom headers and its auth.
    assert!(stdout.contains("re-sealed 3 stored values"), "{stdout}");
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!dir.path().join("hookrelay.db.key.new").exists());

    // The next start opens the database with the new key and signs with the same secret.
    let mut server = spawn(dir.path(), &envs);
    publish(server.base.clone()).await;
    wait_for_requests(&receiver, 2).await;
    let requests = receiver.requests.lock().unwrap().clone();
    for r in &requests {
        assert!(
            verifies_with(r, SECRET),
            "signed with the endpoint's secret"
        );
        assert_eq!(r.0["authorization"], format!("Bearer {BEARER}"));
    }
    stop(&mut server, "-TERM");
    logs.extend(server.stderr.lock().unwrap().clone());
    assert!(logs.len() > 5, "debug logs were captured");
    for line in &logs {
        for secret in [SECRET, BEARER, old_key.trim(), new_key.trim()] {
            assert!(!line.contains(secret), "a log line shows a secret: {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_an_inbound_202_still_forwards_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
    ];
    let receiver = Receiver::default();
    // Slow: the forward is still in flight when the process is killed.
    receiver
        .delay_ms
        .store(2_000, std::sync::atomic::Ordering::SeqCst);
    let url = receiver.start().await;
    let mut server = spawn(dir.path(), &envs);
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/api/v1/sources/gh", server.base))
        .bearer_auth(TOKEN)
        .json(&json!({"verify": {"type": "github", "secrets": ["s3cret"]}, "forward_to": [url]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body = br#"{"action":"opened","number":7}"#;
    let r = client
        .post(format!("{}/in/gh", server.base))
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "d-1")
        .header(
            "x-hub-signature-256",
            hookrelay_signature::providers::github::sign(b"s3cret", body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.arrived.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the forward never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.child.kill().unwrap(); // SIGKILL, the forward unanswered
    server.child.wait().unwrap();
    assert!(
        receiver.requests.lock().unwrap().is_empty(),
        "not answered before the kill"
    );

    receiver
        .delay_ms
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let mut server = spawn(dir.path(), &envs);
    wait_for_requests(&receiver, 1).await;
    let requests = receiver.requests.lock().unwrap().clone();
    let forwarded = requests
        .iter()
        .find(|(h, _)| h["x-hookrelay-request-id"] == id.as_str())
        .expect("the request accepted before the kill is forwarded after the restart");
    assert_eq!(&forwarded.1[..], body, "byte for byte");
    stop(&mut server, "-TERM");
}
