//! Retention: a background task that keeps the database from growing for ever. Every
//! round removes a small batch of finished history older than `HOOKRELAY_RETENTION`
//! and drops a small batch of payloads older than `HOOKRELAY_PAYLOAD_RETENTION`
//! ([`hookrelay_store::Store::prune`]); rounds follow each other quickly while there is
//! a backlog to prune and then wait, so a publish never queues behind a long delete.

use std::sync::Arc;
use std::time::Duration;

use hookrelay_core::clock::now_ms;
use hookrelay_store::Store;
use hookrelay_store::model::PruneRequest;
use tokio_util::sync::CancellationToken;

/// Events (and inbound requests) one round touches.
const BATCH: usize = 500;
/// The pause between two rounds of a backlog: lets the writer take the publishes that
/// queued meanwhile.
const BETWEEN_ROUNDS: Duration = Duration::from_millis(20);
/// The longest wait between two prunes once nothing is left to prune.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// How long history and payloads are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Finished history older than this is removed; `None` keeps it for ever.
    pub history: Option<Duration>,
    /// Payloads older than this are dropped (rows stay); `None` keeps them as long as
    /// the history.
    pub payload: Option<Duration>,
}

impl RetentionPolicy {
    /// The wait between prunes when there is nothing left: a tenth of the shortest
    /// period (so a short retention in a trial is kept to within 10 %), at most a
    /// minute, at least a second.
    fn idle(&self) -> Duration {
        [self.history, self.payload]
            .into_iter()
            .flatten()
            .map(|d| d / 10)
            .min()
            .unwrap_or(MAX_IDLE)
            .clamp(Duration::from_secs(1), MAX_IDLE)
    }
}

/// Prunes until cancelled.
pub async fn run(store: Arc<dyn Store>, policy: RetentionPolicy, cancel: CancellationToken) {
    if policy.history.is_none() && policy.payload.is_none() {
        return;
    }
    let ago = |d: Duration| now_ms() - i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let mut payload_after = 0;
    loop {
        let request = PruneRequest {
            history_before: policy.history.map_or(0, ago),
            payload_before: policy.payload.map(ago),
            payload_after,
            batch: BATCH,
        };
        let wait = match store.prune(&request).await {
            Ok(report) => {
                payload_after = report.payload_watermark;
                if report.events + report.inbound + report.payloads > 0 {
                    tracing::debug!(
                        events = report.events,
                        deliveries = report.deliveries,
                        attempts = report.attempts,
                        inbound = report.inbound,
                        payloads = report.payloads,
                        "retention pruned old history"
                    );
                }
                if report.more(BATCH) {
                    BETWEEN_ROUNDS
                } else {
                    policy.idle()
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention could not prune; trying again later");
                policy.idle()
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_wait_follows_the_shortest_period_within_bounds() {
        let policy = |history: Option<u64>, payload: Option<u64>| RetentionPolicy {
            history: history.map(Duration::from_secs),
            payload: payload.map(Duration::from_secs),
        };
        assert_eq!(policy(Some(30 * 86_400), None).idle(), MAX_IDLE);
        assert_eq!(policy(Some(120), None).idle(), Duration::from_secs(12));
        assert_eq!(policy(Some(3600), Some(30)).idle(), Duration::from_secs(3));
        assert_eq!(policy(Some(5), None).idle(), Duration::from_secs(1));
        assert_eq!(policy(None, None).idle(), MAX_IDLE);
    }
}
