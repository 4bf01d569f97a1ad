//! kill -9 in the middle of the background work a long-running server does: while
//! retention deletes old history in batches and while the dispatcher claims retries from
//! the table; and ten times in a row under a publish load. A restart loses nothing: the
//! database is intact, every accepted event is still delivered, and the prune simply
//! carries on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

mod common;
use common::{spawn, stop};

const TOKEN: &str = "crash-test-admin";

/// A receiver: `/ok` answers 200; `/flaky` answers 503 while `failing` is set; each
/// after `delay_ms`. It counts the requests it answered 200 by `webhook-id`.
#[derive(Clone, Default)]
struct Receiver {
    failing: Arc<AtomicBool>,
    /// How long each answer takes, ms.
    delay_ms: Arc<AtomicU64>,
    delivered: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
                let me = me.clone();
                async move {
                    let delay = me.delay_ms.load(Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    if uri.path() == "/flaky" && me.failing.load(Ordering::SeqCst) {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    *me.delivered.lock().unwrap().entry(id).or_default() += 1;
                    axum::http::StatusCode::OK
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn count(&self, ids: &[String]) -> usize {
        let seen = self.delivered.lock().unwrap();
        ids.iter().filter(|id| seen.contains_key(*id)).count()
    }
}

/// Events left in the database file of scope `scope`, read straight from the file.
async fn events_in(db: &std::path::Path, scope: &str) -> i64 {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM event_scopes WHERE scope = ?")
        .bind(scope)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_prune_and_while_retries_are_claimed_loses_nothing() {
    const FINISHED: usize = 4000;
    const PENDING: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hookrelay.db");
    // Failed attempts come back every 200 ms: retries are claimed from the table all
    // the time.
    let retries = ["200ms"; 200].join(",");
    let envs = [
        ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
        ("HOOKRELAY_RETRY_SCHEDULE", retries.as_str()),
        ("HOOKRELAY_CIRCUIT_THRESHOLD", "1000000"),
        ("HOOKRELAY_RETENTION", "3s"),
    ];
    let receiver = Receiver::default();
    receiver.failing.store(true, Ordering::SeqCst);
    let base_url = receiver.start().await;

    let mut server = spawn(dir.path(), &envs);
    let client = reqwest::Client::new();
    let api = |base: &str, p: &str| format!("{base}/api/v1{p}");
    let call = |req: reqwest::RequestBuilder| async move {
        let r = req.bearer_auth(TOKEN).send().await.unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        (status, body)
    };
    let base = server.base.clone();
    call(
        client
            .put(api(&base, "/event-types/a"))
            .json(&json!({"name": "A"})),
    )
    .await;
    for (scope, path) in [("done", "/ok"), ("later", "/flaky")] {
        let (s, body) = call(
            client
                .post(api(&base, &format!("/scopes/{scope}/endpoints")))
                .json(&json!({"code": "e", "url": format!("{base_url}{path}")})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        call(
            client
                .put(api(&base, &format!("/scopes/{scope}/subscriptions")))
                .json(&json!({"e": ["*"]})),
        )
        .await;
    }

    let url = api(&base, "/events");
    let pending = publish(client.clone(), url.clone(), "later", PENDING).await;
    let mut publishers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        publishers.spawn(publish(client.clone(), url.clone(), "done", FINISHED / 8));
    }
    let mut finished = Vec::new();
    while let Some(part) = publishers.join_next().await {
        finished.extend(part.unwrap());
    }
    wait_for(
        "the finished deliveries",
        Duration::from_secs(60),
        async || receiver.count(&finished) == FINISHED,
    )
    .await;

    // Kill as soon as retention has removed some of the finished history.
    wait_for("retention to start", Duration::from_secs(30), async || {
        events_in(&db, "done").await < FINISHED as i64
    })
    .await;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let left = events_in(&db, "done").await;
    eprintln!("kill -9 with {left} of {FINISHED} finished events still to prune");
    assert!(left > 0, "the prune had already finished: kill earlier");

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(check, "ok", "the database survived the kill intact");
    assert_eq!(
        events_in(&db, "later").await,
        PENDING as i64,
        "no pending event was pruned"
    );
    assert_eq!(receiver.count(&pending), 0, "still failing at the kill");

    // Restart with the receiver back: every pending delivery arrives, and the prune
    // finishes what it started.
    receiver.failing.store(false, Ordering::SeqCst);
    let mut server = spawn(dir.path(), &envs);
    wait_for(
        "the pending deliveries",
        Duration::from_secs(60),
        async || receiver.count(&pending) == PENDING,
    )
    .await;
    wait_for("the prune to finish", Duration::from_secs(60), async || {
        events_in(&db, "done").await == 0
    })
    .await;
    stop(&mut server, "-TERM");
}

/// Publishes `n` events of type `a` to `scope`; their ids.
async fn publish(client: reqwest::Client, url: String, scope: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let r = client
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&json!({"type": "a", "scopes": [scope], "data": {"i": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let body: serde_json::Value = r.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Publishes to scope `s` until `stop` is set; the ids of the events answered 202.
async fn publish_until(url: String, stop: Arc<AtomicBool>) -> Vec<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut accepted = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let sent = client
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&json!({"type": "a", "scopes": ["s"], "data": {"i": i}}))
            .send()
            .await;
        // A refused or cut connection (the server was just killed) accepted nothing.
        if let Ok(r) = sent
            && r.status() == 202
            && let Ok(body) = r.json::<serde_json::Value>().await
        {
            accepted.push(body["id"].as_str().unwrap().to_owned());
        }
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kill_9_rounds_under_load_lose_nothing() {
    const ROUNDS: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let envs = [
        ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
        ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
        ("HOOKRELAY_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        // Two attempts at a time to a slow receiver: a queue builds up behind them, so
        // every kill finds deliveries in flight and others waiting.
        ("HOOKRELAY_MAX_IN_FLIGHT_PER_ENDPOINT", "2"),
    ];
    let receiver = Receiver::default();
    receiver.delay_ms.store(100, Ordering::SeqCst);
    let base_url = receiver.start().await;
    let mut server = spawn(dir.path(), &envs);
    let client = reqwest::Client::new();
    let api = |base: &str, p: &str| format!("{base}/api/v1{p}");
    for (req, body) in [
        (
            client.put(api(&server.base, "/event-types/a")),
            json!({"name": "A"}),
        ),
        (
            client.post(api(&server.base, "/scopes/s/endpoints")),
            json!({"code": "e", "url": format!("{base_url}/ok")}),
        ),
        (
            client.put(api(&server.base, "/scopes/s/subscriptions")),
            json!({"e": ["*"]}),
        ),
    ] {
        let r = req.bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    let mut accepted: Vec<String> = Vec::new();
    for round in 1..=ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let publisher = tokio::spawn(publish_until(
            api(&server.base, "/events"),
            Arc::clone(&stop),
        ));
        // Kill once this round has had some events delivered while others are queued.
        let before = receiver.count(&accepted);
        wait_for(
            "deliveries in this round",
            Duration::from_secs(30),
            async || receiver.delivered.lock().unwrap().len() >= before + 5,
        )
        .await;
        server.child.kill().unwrap(); // SIGKILL, under load
        server.child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        let round_accepted = publisher.await.unwrap();
        let this_round = round_accepted.len();
        accepted.extend(round_accepted);
        eprintln!(
            "round {round}: {this_round} accepted; at the kill {} of all {} accepted so far were delivered",
            receiver.count(&accepted),
            accepted.len()
        );
        server = spawn(dir.path(), &envs);
    }
    receiver.delay_ms.store(0, Ordering::SeqCst);
    wait_for(
        "every accepted event",
        Duration::from_secs(60),
        async || receiver.count(&accepted) == accepted.len(),
    )
    .await;
    let duplicates: usize = {
        let seen = receiver.delivered.lock().unwrap();
        accepted.iter().map(|id| seen[id] - 1).sum()
    };
    eprintln!(
        "{ROUNDS} kill -9 rounds: {} accepted, {} delivered, {duplicates} duplicate deliveries, 0 lost",
        accepted.len(),
        receiver.count(&accepted)
    );
    stop(&mut server, "-TERM");
}
