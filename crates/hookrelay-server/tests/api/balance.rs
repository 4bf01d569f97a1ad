//! Load balancing across targets: each strategy's distribution, failover within one
//! attempt, and validation.

use serde_json::{Value, json};

use crate::support::{Answer, TestApp, TestReceiver, on_postgres};

async fn endpoint_with_targets(app: &TestApp, targets: Value, strategy: &str) {
    app.event_types(&["a"]).await;
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "targets": targets, "strategy": strategy}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["strategy"], strategy);
    assert_eq!(
        body["url"], body["targets"][0]["url"],
        "url shows the first target"
    );
    app.put("/scopes/s/subscriptions", json!({"e": ["a"]}))
        .await;
}

/// Publishes `n` events and counts the requests per path once all arrived.
async fn spread(app: &TestApp, receiver: &TestReceiver, n: usize) -> (usize, usize) {
    for i in 0..n {
        app.publish("a", &["s"], json!({"i": i})).await;
    }
    let got = receiver.wait_for(n).await;
    let a = got.iter().filter(|r| r.path == "/a").count();
    let b = got.iter().filter(|r| r.path == "/b").count();
    assert_eq!(a + b, n);
    (a, b)
}

#[tokio::test]
async fn weighted_round_robin_follows_the_weights_exactly() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    endpoint_with_targets(
        &app,
        json!([{"url": receiver.url("/a"), "weight": 3}, {"url": receiver.url("/b")}]),
        "weighted_round_robin",
    )
    .await;
    assert_eq!(spread(&app, &receiver, 40).await, (30, 10));
    app.stop().await;
}

#[tokio::test]
async fn random_spreads_in_proportion_to_the_weights() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    endpoint_with_targets(
        &app,
        json!([{"url": receiver.url("/a"), "weight": 3}, {"url": receiver.url("/b"), "weight": 1}]),
        "random",
    )
    .await;
    let (a, b) = spread(&app, &receiver, 200).await;
    // Binomial(200, 0.75): 150 expected at /a with a standard deviation of about 6;
    // 120..=180 is five of them either way, while equal odds (100) fall far outside.
    assert!((120..=180).contains(&a) && a + b == 200, "{a} / {b}");
    app.stop().await;
}

#[tokio::test]
async fn failover_moves_on_within_one_attempt_and_records_which_target_answered() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/dead", l.local_addr().unwrap())
    };
    let failing = TestReceiver::start().await;
    failing.always(Answer::status(502));
    endpoint_with_targets(
        &app,
        json!([{"url": dead}, {"url": failing.url("/busy")}, {"url": receiver.url("/a")}]),
        "failover",
    )
    .await;
    let event = app.publish("a", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app.wait_for_status(&id, "succeeded").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "one attempt: {d}");
    assert_eq!(attempts[0]["url"], receiver.url("/a"));
    assert_eq!(attempts[0]["status_code"], 200);
    let skipped = attempts[0]["failed_over"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{d}");
    assert_eq!(skipped[0]["url"], dead);
    assert_eq!(skipped[1]["url"], failing.url("/busy"));
    assert!(skipped[1]["error"].as_str().unwrap().contains("502"));
    // The same signed request reached each target.
    assert_eq!(
        failing.received()[0].headers["webhook-signature"],
        receiver.received()[0].headers["webhook-signature"]
    );

    // A healthy primary takes everything.
    let app2 = TestApp::spawn().await;
    let primary = TestReceiver::start().await;
    endpoint_with_targets(
        &app2,
        json!([{"url": primary.url("/a")}, {"url": receiver.url("/b")}]),
        "failover",
    )
    .await;
    for _ in 0..5 {
        app2.publish("a", &["s"], json!({})).await;
    }
    assert_eq!(primary.wait_for(5).await.len(), 5);
    app2.stop().await;
    assert!(receiver.received().iter().all(|r| r.path == "/a"));
    app.stop().await;
}

#[tokio::test]
async fn targets_are_validated_and_guarded() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let cases = [
        (
            json!({"code": "e", "url": receiver.url("/a"), "targets": [{"url": receiver.url("/b")}]}),
            "targets",
        ),
        (
            json!({"code": "e", "targets": [{"url": receiver.url("/a")}], "strategy": "fastest"}),
            "strategy",
        ),
        (json!({"code": "e", "targets": []}), "targets"),
        (
            json!({"code": "e", "targets": [{"url": receiver.url("/a"), "weight": 0}]}),
            "targets[0].weight",
        ),
        (
            json!({"code": "e", "url": receiver.url("/a"), "strategy": "random"}),
            "strategy",
        ),
        (json!({"code": "e"}), "url"),
    ];
    for (body, field) in cases {
        let (s, answer) = app.post("/scopes/s/endpoints", body.clone()).await;
        assert_eq!(s, 422, "{body} → {answer}");
        assert_eq!(answer["error"]["details"][0]["field"], field, "{answer}");
    }
    let (s, answer) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "targets": [{"url": receiver.url("/a")}, {"url": "http://10.0.0.1/hook"}]}),
        )
        .await;
    assert_eq!(s, 422, "{answer}");
    assert_eq!(answer["error"]["details"][0]["field"], "targets[1].url");
    assert!(
        answer["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("HOOKRELAY_ALLOW_NETWORKS")
    );

    // PATCH switches between targets and a single url.
    app.post(
        "/scopes/s/endpoints",
        json!({"code": "e", "url": receiver.url("/a")}),
    )
    .await;
    let (s, e) = app
        .patch(
            "/scopes/s/endpoints/e",
            json!({"targets": [{"url": receiver.url("/a")}, {"url": receiver.url("/b")}], "strategy": "failover"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["targets"].as_array().unwrap().len(), 2);
    let (_, e) = app
        .patch("/scopes/s/endpoints/e", json!({"url": receiver.url("/c")}))
        .await;
    assert!(e.get("targets").is_none(), "{e}");
    assert_eq!(e["url"], receiver.url("/c"));
    let (_, stored) = app.get("/scopes/s/endpoints/e").await;
    assert_eq!(stored, e, "the change is stored");
    app.stop().await;
}

/// On a shared store, the lease of a claimed delivery must outlast the whole attempt: a
/// failover endpoint may wait the full timeout at each target in turn, and a lease that
/// ran out meanwhile would let a second worker send the same delivery at once.
#[tokio::test]
async fn the_lease_covers_a_failover_across_hanging_targets() {
    if !on_postgres() {
        return; // one process owns a SQLite file: its claims have no lease
    }
    let app = TestApp::spawn().await;
    // Three targets that accept connections and never answer.
    let mut hanging = Vec::new();
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..3 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let conn_tx = conn_tx.clone();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((c, _)) = listener.accept().await {
                let _ = conn_tx.send(());
                held.push(c);
            }
        });
        hanging.push((url, holder));
    }
    let timeout_ms: i64 = 20_000;
    app.event_types(&["a"]).await;
    let targets: Vec<Value> = hanging.iter().map(|(url, _)| json!({"url": url})).collect();
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "targets": targets, "strategy": "failover", "timeout_ms": timeout_ms}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    app.put("/scopes/s/subscriptions", json!({"e": ["a"]}))
        .await;
    let started = hookrelay_core::clock::now_ms();
    app.publish("a", &["s"], json!({})).await;
    // The attempt is at its first target: the lease was taken or renewed before it.
    conn_rx.recv().await.unwrap();
    let lease = app.pg_ints("SELECT lease_until FROM {s}.deliveries").await;
    let lease_until = lease[0].expect("the delivery is leased");
    assert!(
        lease_until >= started + 3 * timeout_ms,
        "the lease ends {} ms after the publish; three targets may take {} ms",
        lease_until - started,
        3 * timeout_ms
    );
    for (_, holder) in hanging {
        holder.abort();
    }
    app.stop().await;
}
