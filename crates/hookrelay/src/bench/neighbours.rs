//! `hookrelay bench --unhealthy`: two unhealthy endpoints beside the healthy ones,
//! subscribed to the same events: one where nothing listens (every connection refused
//! at once) and one that accepts connections and never answers (every attempt waits
//! for its timeout). The figures are the healthy endpoints' alone, so a run with and
//! one without `--unhealthy` show what the unhealthy pair costs its neighbours.

use serde_json::json;
use tokio::net::TcpListener;

use super::backlog::UNREACHABLE;

/// A listener that accepts every connection and never reads or answers; dropped, it
/// closes them all.
pub struct Hanging {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Hanging {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hang", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        Ok(Self { url, task })
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Adds the dead and the hanging endpoint to the benchmark's scope, subscribed to
/// everything, beside the `healthy` ones (`ep0`…).
pub async fn add(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    hanging: &Hanging,
    healthy: usize,
) -> anyhow::Result<()> {
    for (code, url) in [("dead", UNREACHABLE), ("hanging", hanging.url.as_str())] {
        client
            .post(format!("{base}/api/v1/scopes/bench/endpoints"))
            .header("authorization", auth)
            .json(&json!({ "code": code, "url": url }))
            .send()
            .await?
            .error_for_status()?;
    }
    let mut subs: serde_json::Map<_, _> = (0..healthy)
        .map(|i| (format!("ep{i}"), json!(["*"])))
        .collect();
    subs.insert("dead".to_owned(), json!(["*"]));
    subs.insert("hanging".to_owned(), json!(["*"]));
    client
        .put(format!("{base}/api/v1/scopes/bench/subscriptions"))
        .header("authorization", auth)
        .json(&subs)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
