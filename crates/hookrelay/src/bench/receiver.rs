//! The benchmark's receiver: counts deliveries and measures their latency.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::sync::Notify;

use super::now_us;

struct Inner {
    expected: u64,
    count: AtomicU64,
    latencies: Mutex<Vec<u64>>,
    last: Mutex<Option<Instant>>,
    done: Notify,
}

pub struct Receiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start(expected: u64) -> anyhow::Result<Self> {
        let inner = Arc::new(Inner {
            expected,
            count: AtomicU64::new(0),
            latencies: Mutex::new(Vec::with_capacity(expected as usize)),
            last: Mutex::new(None),
            done: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, inner })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::SeqCst)
    }

    pub fn last_receipt(&self) -> Option<Instant> {
        *self.inner.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn latencies(&self) -> Vec<u64> {
        self.inner
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until every expected delivery arrived; false on time-out.
    pub async fn wait_all(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.inner.done.notified();
            if self.count() >= self.inner.expected {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count() >= self.inner.expected;
            }
        }
    }
}

/// Reads `"sent_us":<n>` from the body without a full parse.
fn sent_us(body: &[u8]) -> Option<u64> {
    let key = b"\"sent_us\":";
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

async fn receive(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    let now = now_us();
    if let Some(sent) = sent_us(&body) {
        inner
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(now.saturating_sub(sent));
    }
    *inner.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    let n = inner.count.fetch_add(1, Ordering::SeqCst) + 1;
    if n >= inner.expected {
        inner.done.notify_waiters();
    }
    StatusCode::NO_CONTENT
}
