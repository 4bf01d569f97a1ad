//! Retries, their schedule, Retry-After, 410 and redirects.

use std::time::Duration;

use serde_json::json;

use crate::support::{Answer, TestApp, TestReceiver, wait_until};

async fn one_endpoint(app: &TestApp, receiver: &TestReceiver) -> String {
    app.event_types(&["ping"]).await;
    app.endpoint("s", "e", &receiver.url("/hook"), &["ping"])
        .await;
    let event = app.publish("ping", &["s"], json!({"n": 1})).await;
    let d = app.deliveries_of(event["id"].as_str().unwrap()).await;
    assert_eq!(d.len(), 1);
    d[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_failures_then_success() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    receiver.script([Answer::status(500), Answer::status(500)]);
    let id = one_endpoint(&app, &receiver).await;
    let d = app.wait_for_status(&id, "succeeded").await;

    let got = receiver.received();
    assert_eq!(got.len(), 3);
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(ids[0], d["event_id"].as_str().unwrap());

    let attempts = d["attempts"].as_array().unwrap();
    let ns: Vec<_> = attempts.iter().map(|a| a["n"].as_u64().unwrap()).collect();
    assert_eq!(ns, vec![1, 2, 3]);
    let codes: Vec<_> = attempts
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 500, 200]);
    assert_eq!(attempts[0]["error"], "receiver answered 500");
    assert_eq!(d["attempt_count"], 3);
    assert!(d["next_attempt_at"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn always_failing_ends_failed_after_one_plus_n_attempts() {
    let app = TestApp::with(|c| c.retry_schedule = Some("50ms,50ms,50ms".into())).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(500));
    let id = one_endpoint(&app, &receiver).await;
    let d = app.wait_for_status(&id, "failed").await;
    assert_eq!(d["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(receiver.received().len(), 4);
    assert_eq!(d["last_error"], "receiver answered 500");
    app.stop().await;
}

#[tokio::test]
async fn unreachable_endpoint_records_the_network_error() {
    let app = TestApp::with(|c| c.retry_schedule = Some("10ms".into())).await;
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    app.event_types(&["ping"]).await;
    app.endpoint("s", "e", &format!("http://127.0.0.1:{port}/"), &["ping"])
        .await;
    let event = app.publish("ping", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app.wait_for_status(&id, "failed").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(attempts[0]["status_code"].is_null());
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("connect"),
        "{}",
        attempts[0]["error"]
    );
    app.stop().await;
}

#[tokio::test]
async fn slow_receiver_times_out() {
    let app = TestApp::with(|c| c.retry_schedule = Some(String::new())).await;
    let slow = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = slow.local_addr().unwrap();
    // Accepts connections and never answers.
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = slow.accept().await {
            conns.push(c);
        }
    });
    app.event_types(&["ping"]).await;
    let (s, _) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "e", "url": format!("http://{addr}/"), "timeout_ms": 300}),
        )
        .await;
    assert_eq!(s, 201);
    app.put("/scopes/s/subscriptions", json!({"e": ["*"]}))
        .await;
    let event = app.publish("ping", &["s"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app.wait_for_status(&id, "failed").await;
    assert_eq!(d["attempts"][0]["error"], "timed out after 300 ms");
    assert!(d["attempts"][0]["duration_ms"].as_u64().unwrap() >= 300);
    held.abort();
    app.stop().await;
}

#[tokio::test]
async fn gone_disables_the_endpoint() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(410));
    let id = one_endpoint(&app, &receiver).await;
    let d = app.wait_for_status(&id, "failed").await;
    assert_eq!(
        d["attempts"].as_array().unwrap().len(),
        1,
        "no retry after 410"
    );

    let (_, endpoint) = app.get("/scopes/s/endpoints/e").await;
    assert_eq!(endpoint["enabled"], false);
    assert_eq!(endpoint["disabled_reason"], "gone (410)");

    let again = app.publish("ping", &["s"], json!({})).await;
    assert_eq!(
        again["deliveries"], 0,
        "a disabled endpoint gets no new deliveries"
    );
    assert_eq!(receiver.received().len(), 1);

    // Enabling it again clears the reason and deliveries resume.
    receiver.always(Answer::status(200));
    let (s, endpoint) = app
        .patch("/scopes/s/endpoints/e", json!({"enabled": true}))
        .await;
    assert_eq!(s, 200);
    assert!(endpoint["disabled_reason"].is_null());
    assert_eq!(
        app.publish("ping", &["s"], json!({})).await["deliveries"],
        1
    );
    receiver.wait_for(2).await;
    app.stop().await;
}

#[tokio::test]
async fn redirects_are_failures_and_not_followed() {
    let app = TestApp::with(|c| c.retry_schedule = Some("50ms".into())).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(302).with_header("location", receiver.url("/elsewhere")));
    let id = one_endpoint(&app, &receiver).await;
    let d = app.wait_for_status(&id, "failed").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], 302);
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    assert!(
        receiver.received().iter().all(|r| r.path == "/hook"),
        "the redirect was followed"
    );
    app.stop().await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = TestApp::with(|c| c.retry_schedule = Some("50ms".into())).await;
    let receiver = TestReceiver::start().await;
    receiver.script([Answer::status(429).with_header("retry-after", "2")]);
    let id = one_endpoint(&app, &receiver).await;
    app.wait_for_status(&id, "succeeded").await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let gap = got[1].at.duration_since(got[0].at);
    assert!(
        gap >= Duration::from_millis(1900),
        "second attempt came after {gap:?}, Retry-After said 2 s"
    );
    app.stop().await;
}

/// A retry asked for while the delivery's attempt is still in flight is not absorbed by
/// that attempt's success: the delivery is sent once more.
#[tokio::test]
async fn a_manual_retry_while_in_flight_sends_again() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    receiver.hold();
    let id = one_endpoint(&app, &receiver).await;
    receiver.wait_for(1).await;
    let (s, body) = app
        .post(&format!("/deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 202, "{body}");
    receiver.release();
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    let d = wait_until(Duration::from_secs(15), || async {
        let (_, d) = app.get(&format!("/deliveries/{id}")).await;
        (d["status"] == "succeeded" && d["attempts"].as_array().unwrap().len() == 2).then_some(d)
    })
    .await
    .expect("the retry is attempted and recorded");
    assert_eq!(d["next_attempt_at"], serde_json::Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn manual_retry_and_recover_resend_failures() {
    let app = TestApp::with(|c| c.retry_schedule = Some(String::new())).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(500));
    let id = one_endpoint(&app, &receiver).await;
    app.wait_for_status(&id, "failed").await;

    receiver.always(Answer::status(200));
    let (s, body) = app
        .post(&format!("/deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 202, "{body}");
    let d = app.wait_for_status(&id, "succeeded").await;
    assert_eq!(d["attempts"].as_array().unwrap().len(), 2);

    // Two more failures, then recover them all at once.
    receiver.always(Answer::status(503));
    let mut failed = Vec::new();
    for _ in 0..2 {
        let e = app.publish("ping", &["s"], json!({})).await;
        let did = app.deliveries_of(e["id"].as_str().unwrap()).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.wait_for_status(&did, "failed").await;
        failed.push(did);
    }
    receiver.always(Answer::status(200));
    let (s, body) = app
        .post("/scopes/s/endpoints/e/recover", json!({"since": "1h"}))
        .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["requeued"], 2);
    for did in failed {
        app.wait_for_status(&did, "succeeded").await;
    }
    let (s, _) = app
        .post(
            "/scopes/s/endpoints/e/recover",
            json!({"since": "yesterday-ish"}),
        )
        .await;
    assert_eq!(s, 422);
    app.stop().await;
}
