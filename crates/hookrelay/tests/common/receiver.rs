//! A receiver that counts what it is sent, and a server set up to deliver to it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::Proc;

/// The admin token of [`serve_on`]'s server.
pub const TOKEN: &str = "pg-faults-admin";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Counts every delivery by webhook id (the event's id).
#[derive(Clone, Default)]
pub struct Receiver {
    pub seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    /// Starts it on a free port; the URL to deliver to.
    pub async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let me = me.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                *me.seen.lock().unwrap().entry(id).or_default() += 1;
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    /// How many of `ids` arrived at least once.
    pub fn count(&self, ids: &[String]) -> usize {
        let seen = self.seen.lock().unwrap();
        ids.iter().filter(|id| seen.contains_key(*id)).count()
    }

    /// Arrivals beyond each id's first.
    pub fn duplicates(&self) -> usize {
        self.seen.lock().unwrap().values().map(|n| n - 1).sum()
    }
}

/// Starts `hookrelay serve` on the database at `url` with one endpoint at a counting receiver,
/// subscribed to `order.paid` in scope `shop`.
pub async fn serve_on(url: &str, dir: &Path) -> (Proc, Receiver) {
    let server = super::spawn(
        dir,
        &[
            ("HOOKRELAY_DATABASE_URL", url),
            ("HOOKRELAY_MASTER_KEY", KEY),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
            ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
            ("HOOKRELAY_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s"),
            ("HOOKRELAY_POLL_INTERVAL_MS", "200"),
            ("RUST_LOG", "warn,hookrelay=info"),
        ],
    );
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let client = reqwest::Client::new();
    for (path, body) in [
        ("/event-types/order.paid", json!({"name": "Order paid"})),
        (
            "/scopes/shop/endpoints",
            json!([{"code": "e", "url": hook}]),
        ),
        ("/scopes/shop/subscriptions", json!({"e": ["order.paid"]})),
    ] {
        let r = client
            .put(format!("{}/api/v1{path}", server.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }
    (server, receiver)
}
