//! A database that cannot grow: publishes get 507 with nothing half-written, deliveries
//! already accepted still go out and are recorded, `/health` says why, and publishes
//! are accepted again on their own once retention frees space. SQLite's
//! `HOOKRELAY_MAX_DATABASE_SIZE` stands in for a full disk: both end in the same
//! `SQLITE_FULL`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestApp, TestReceiver, on_postgres, wait_until};

async fn health(app: &TestApp) -> Value {
    reqwest::get(format!("{}/health", app.base))
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_full_database_refuses_publishes_with_507_delivers_what_it_accepted_and_recovers() {
    if on_postgres() {
        eprintln!("SQLite only: a PostgreSQL database's size is the server's");
        return;
    }
    let app = TestApp::with(|c| {
        c.max_database_size = Some("2MiB".to_owned());
        c.retention = "2s".to_owned();
    })
    .await;
    assert_eq!(
        health(&app).await["storage"],
        json!({"full": false, "max_size": "2MiB"})
    );
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["*"]).await;

    let data = json!({ "blob": "x".repeat(30_000) });
    let mut accepted = 0;
    let refusal = loop {
        let (status, body) = app
            .post(
                "/events",
                json!({ "type": "order.paid", "scopes": ["s"], "data": data }),
            )
            .await;
        match status {
            202 => accepted += 1,
            507 => break body,
            other => panic!("{other} {body}"),
        }
        assert!(accepted < 1000, "a 2 MiB database never filled");
    };
    assert!(accepted > 10, "only {accepted} events fit in 2 MiB");
    assert_eq!(refusal["error"]["code"], "storage_full", "{refusal}");
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing of this request was kept"),
        "{refusal}"
    );
    let full = health(&app).await;
    assert_eq!(full["status"], "storage_full", "{full}");
    assert_eq!(full["storage"]["full"], true, "{full}");

    // Every accepted event reaches the receiver even while publishes are refused.
    let got = receiver.wait_for(accepted).await;
    assert_eq!(got.len(), accepted);

    // Retention removes the delivered history; publishes go through again by themselves.
    let back = wait_until(Duration::from_secs(30), || async {
        let (status, body) = app
            .post(
                "/events",
                json!({ "type": "order.paid", "scopes": ["s"], "data": data }),
            )
            .await;
        assert!(status == 202 || status == 507, "{status} {body}");
        (status == 202).then_some(body)
    })
    .await;
    assert!(
        back.is_some(),
        "publishes stayed refused after retention freed space"
    );
    let recovered = health(&app).await;
    assert_eq!(recovered["status"], "ok", "{recovered}");
    assert_eq!(recovered["storage"]["full"], false, "{recovered}");
    receiver.wait_for(accepted + 1).await;
    app.stop().await;
}

#[tokio::test]
async fn a_size_limit_that_cannot_work_is_refused_at_start() {
    let app = TestApp::spawn().await;
    let unreadable = app
        .build_error_with(|c| c.max_database_size = Some("lots".to_owned()))
        .await;
    assert!(
        unreadable.contains("HOOKRELAY_MAX_DATABASE_SIZE"),
        "{unreadable}"
    );
    let tiny = app
        .build_error_with(|c| c.max_database_size = Some("10KB".to_owned()))
        .await;
    assert!(tiny.contains("at least 1MiB"), "{tiny}");
    if on_postgres() {
        let postgres = app
            .build_error_with(|c| c.max_database_size = Some("1GB".to_owned()))
            .await;
        assert!(postgres.contains("limits a SQLite file"), "{postgres}");
    }
    app.stop().await;
}
