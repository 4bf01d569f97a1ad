//! PostgreSQL going away and coming back: the API answers 503 while it is gone, nothing
//! accepted is lost, and deliveries resume when it is back.
//!
//! The server reaches PostgreSQL through a TCP proxy the test can cut (every connection
//! dropped, new ones refused) and restore, which is what a database restart or a network
//! partition looks like from the server. SQLite is a file inside the process: there is
//! nothing to lose, so these tests only run on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::support::{TestApp, TestReceiver, on_postgres, postgres_url, wait_until};

/// A proxy to PostgreSQL that can be cut and restored.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on every cut; connections end when it changes.
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (flag, cut_rx) = (Arc::clone(&up), cuts.subscribe());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused at once
                }
                let (target, mut cut) = (target.clone(), cut_rx.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    cut.borrow_and_update();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn while_postgres_is_away_requests_get_503_and_nothing_accepted_is_lost() {
    if !on_postgres() {
        eprintln!("PostgreSQL only: SQLite has no connection to lose");
        return;
    }
    let pg = url::Url::parse(&postgres_url()).unwrap();
    let proxy = Proxy::start(format!(
        "{}:{}",
        pg.host_str().unwrap_or("127.0.0.1"),
        pg.port().unwrap_or(5432)
    ))
    .await;
    let mut proxied = pg.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(proxy.addr.port())).unwrap();
    let app = TestApp::with(|c| {
        c.database_url = proxied.to_string();
        c.database_pool_size = 4;
    })
    .await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let before = app.publish("a", &["s"], json!({"n": 1})).await;
    receiver.wait_for(1).await;

    proxy.cut();
    // Every request that needs the database fails fast and says so.
    let (status, body) = app
        .post(
            "/events",
            json!({"type": "a", "scopes": ["s"], "data": {"n": 2}}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 503);

    proxy.restore();
    // Back: the API accepts again and the dispatcher delivers what comes in.
    let after = wait_until(Duration::from_secs(20), || async {
        let (s, body) = app
            .post(
                "/events",
                json!({"type": "a", "scopes": ["s"], "data": {"n": 3}}),
            )
            .await;
        (s == 202).then_some(body)
    })
    .await
    .expect("the API accepts again once PostgreSQL is back");
    let arrived = receiver.wait_for(2).await;
    let ids: Vec<_> = arrived
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert!(ids.contains(&before["id"].as_str().unwrap().to_owned()));
    assert!(ids.contains(&after["id"].as_str().unwrap().to_owned()));
    let (_, events) = app.get("/events?scope=s").await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        2,
        "the refused publish left nothing behind: {events}"
    );
    app.stop().await;
}
