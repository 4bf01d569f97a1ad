//! Graceful shutdown lets an attempt in flight finish and records it.

use std::time::Duration;

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn shutdown_lets_the_attempt_in_flight_finish() {
    let app = TestApp::spawn().await;
    // A receiver that answers 500 ms after each request arrives.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let slow = axum::Router::new().fallback(move || {
        let seen = seen_tx.clone();
        async move {
            let _ = seen.send(());
            tokio::time::sleep(Duration::from_millis(500)).await;
            "ok"
        }
    });
    tokio::spawn(async move { axum::serve(listener, slow).await });

    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &format!("http://{addr}/"), &["a"])
        .await;
    let event = app.publish("a", &["s"], json!({})).await;
    let delivery = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    seen_rx.recv().await.expect("the attempt started");

    // Shut down while the receiver is still answering; the attempt completes and is
    // recorded, so the restarted server has nothing left to send.
    let app = app.restart().await;
    let (_, d) = app.get(&format!("/deliveries/{delivery}")).await;
    assert_eq!(d["status"], "succeeded", "{d}");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
    assert!(
        seen_rx.try_recv().is_err(),
        "nothing was sent again after the restart"
    );
    app.stop().await;
}

#[tokio::test]
async fn pending_retries_survive_a_restart() {
    let app = TestApp::with(|c| c.retry_schedule = Some("1s".into())).await;
    let receiver = crate::support::TestReceiver::start().await;
    receiver.script([crate::support::Answer::status(503)]);
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let event = app.publish("a", &["s"], json!({})).await;
    let delivery = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.wait_for(1).await;
    // Wait until the failed attempt is recorded (pending, one attempt), then restart.
    crate::support::wait_until(Duration::from_secs(10), || async {
        let (_, d) = app.get(&format!("/deliveries/{delivery}")).await;
        (d["attempt_count"] == 1).then_some(())
    })
    .await
    .expect("first attempt recorded");
    let app = app.restart().await;
    let d = app.wait_for_status(&delivery, "succeeded").await;
    assert_eq!(d["attempts"].as_array().unwrap().len(), 2);
    app.stop().await;
}
