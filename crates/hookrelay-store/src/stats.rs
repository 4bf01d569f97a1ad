//! What a batch of recorded attempts adds to the hourly counters (`attempt_stats`), the
//! same for every backend: one row per endpoint and hour, in key order so concurrent
//! batches lock counter rows in one order.

use std::collections::BTreeMap;

use crate::model::{AttemptResult, NextStep};

/// Milliseconds in an hour.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// One counter row's increment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatsDelta {
    pub endpoint_id: String,
    pub hour_start: i64,
    pub scope: String,
    pub succeeded: i64,
    pub failed: i64,
    pub last_attempt_at: i64,
    pub last_ok: bool,
}

/// Folds recorded attempts (each with its delivery's scope) into one delta per endpoint
/// and hour.
pub(crate) fn deltas<'a>(
    recorded: impl IntoIterator<Item = (&'a AttemptResult, &'a str)>,
) -> Vec<StatsDelta> {
    let mut by_key: BTreeMap<(&str, i64), StatsDelta> = BTreeMap::new();
    for (r, scope) in recorded {
        let at = r.attempt.at;
        let hour_start = at - at.rem_euclid(HOUR_MS);
        let ok = matches!(r.next, NextStep::Succeeded);
        let d = by_key
            .entry((r.endpoint_id.as_str(), hour_start))
            .or_insert_with(|| StatsDelta {
                endpoint_id: r.endpoint_id.to_string(),
                hour_start,
                scope: scope.to_owned(),
                succeeded: 0,
                failed: 0,
                last_attempt_at: at,
                last_ok: ok,
            });
        if ok {
            d.succeeded += 1;
        } else {
            d.failed += 1;
        }
        if at >= d.last_attempt_at {
            d.last_attempt_at = at;
            d.last_ok = ok;
        }
    }
    by_key.into_values().collect()
}

#[cfg(test)]
mod tests {
    use hookrelay_core::ids::{DeliveryId, EndpointId};

    use super::*;
    use crate::model::{AttemptRecord, Health};

    fn result(endpoint: &EndpointId, at: i64, next: NextStep) -> AttemptResult {
        AttemptResult {
            delivery_id: DeliveryId::generate(),
            endpoint_id: endpoint.clone(),
            attempt: AttemptRecord {
                n: 1,
                at,
                url: "http://x".into(),
                status_code: None,
                duration_ms: 1,
                error: None,
                request_headers: Default::default(),
                response_headers: Default::default(),
                response_body: None,
                failed_over: vec![],
            },
            next,
            disable_endpoint: None,
            health: Health::Neutral,
            due_at: at,
            lease_until: None,
        }
    }

    #[test]
    fn attempts_fold_per_endpoint_and_hour_with_the_latest_outcome() {
        let a = EndpointId::generate();
        let b = EndpointId::generate();
        let h = 100 * HOUR_MS;
        let results = [
            result(&a, h + 10, NextStep::Succeeded),
            result(&a, h + 20, NextStep::RetryAt(h + 99)),
            result(&a, h + 5, NextStep::Succeeded),
            result(&a, h + HOUR_MS, NextStep::Failed),
            result(&b, h + 1, NextStep::Succeeded),
        ];
        let d = deltas(results.iter().map(|r| (r, "s")));
        assert_eq!(d.len(), 3);
        let first = d
            .iter()
            .find(|d| d.endpoint_id == a.as_str() && d.hour_start == h)
            .unwrap();
        assert_eq!((first.succeeded, first.failed), (2, 1));
        assert_eq!((first.last_attempt_at, first.last_ok), (h + 20, false));
        let next_hour = d.iter().find(|d| d.hour_start == h + HOUR_MS).unwrap();
        assert_eq!((next_hour.succeeded, next_hour.failed), (0, 1));
        assert!(
            d.windows(2)
                .all(|w| (&w[0].endpoint_id, w[0].hour_start)
                    <= (&w[1].endpoint_id, w[1].hour_start))
        );
    }
}
