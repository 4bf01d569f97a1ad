//! A slow endpoint does not hold up healthy ones; what an attempt keeps of an answer.

use std::time::Duration;

use serde_json::json;

use crate::support::{Answer, TestApp, TestReceiver};

#[tokio::test]
async fn a_hanging_endpoint_does_not_delay_a_healthy_one() {
    let app = TestApp::with(|c| {
        c.max_in_flight = 4;
        c.max_in_flight_per_endpoint = 2;
        c.retry_schedule = Some(String::new());
        c.attempt_timeout_ms = 10_000;
    })
    .await;
    // Accepts connections and never answers.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_addr = hang.local_addr().unwrap();
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = hang.accept().await {
            let _ = conn_tx.send(());
            held.push(c);
        }
    });
    let healthy = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("slow", "e", &format!("http://{hang_addr}/"), &["a"])
        .await;
    app.endpoint("fast", "e", &healthy.url("/"), &["a"]).await;

    for _ in 0..20 {
        app.publish("a", &["slow"], json!({})).await;
    }
    // The slow endpoint has taken its two slots (and no more).
    conn_rx.recv().await.unwrap();
    conn_rx.recv().await.unwrap();

    let started = std::time::Instant::now();
    for _ in 0..5 {
        app.publish("a", &["fast"], json!({})).await;
    }
    healthy.wait_for(5).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "healthy deliveries waited {took:?} behind a hanging endpoint"
    );
    assert!(
        conn_rx.try_recv().is_err(),
        "the slow endpoint got more than its per-endpoint cap"
    );

    let (_, pending) = app.get("/deliveries?scope=slow&status=pending").await;
    assert_eq!(
        pending["data"].as_array().unwrap().len(),
        20,
        "the slow endpoint's deliveries wait, none lost"
    );
    holder.abort();
    app.stop().await;
}

#[tokio::test]
async fn an_attempt_keeps_the_first_64_kib_of_the_answer() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    receiver.always(
        Answer::status(200)
            .with_body("y".repeat(100_000))
            .with_header("x-receiver", "r1"),
    );
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let event = app.publish("a", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app.wait_for_status(&id, "succeeded").await;
    let attempt = &d["attempts"][0];
    assert_eq!(attempt["response_body"].as_str().unwrap().len(), 64 * 1024);
    assert_eq!(attempt["response_headers"]["x-receiver"], "r1");
    assert_eq!(attempt["url"], receiver.url("/"));
    assert!(attempt["at"].as_str().unwrap().ends_with('Z'));
    app.stop().await;
}
