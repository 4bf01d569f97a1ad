//! What a response means for a delivery: success, retry (and when), or give up.

use std::time::Duration;

use hookrelay_core::retry::RetrySchedule;
use hookrelay_store::model::{Health, NextStep};

/// How an attempt ended, as far as the retry policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: connection error or time-out.
    NoAnswer,
}

impl Ending {
    /// What the attempt says about the endpoint's health: the one value both its circuit
    /// and the stored failure streak take, so the two never disagree. A 429 says neither
    /// (the receiver is up but busy).
    pub(crate) fn health(self) -> Health {
        match self {
            Ending::Status(s) if (200..300).contains(&s) => Health::Success,
            Ending::Status(429) => Health::Neutral,
            Ending::Status(_) | Ending::NoAnswer => Health::Failure,
        }
    }
}

/// The decision after attempt number `attempt_n` (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub next: NextStep,
    /// Disable the endpoint with this reason.
    pub disable: Option<String>,
}

/// Statuses whose `Retry-After` is honoured.
fn honours_retry_after(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Parses `Retry-After` as delay seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

pub(crate) fn decide(
    ending: Ending,
    attempt_n: u32,
    retry_after: Option<Duration>,
    schedule: &RetrySchedule,
    now_ms: i64,
) -> Decision {
    let retry = |honour: bool| {
        let ra = if honour { retry_after } else { None };
        match schedule.next_delay(attempt_n, ra) {
            // Saturating: a configured delay of millions of years must not wrap into
            // the past (found by fuzzing the schedule parser).
            Some(d) => NextStep::RetryAt(
                now_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            ),
            None => NextStep::Failed,
        }
    };
    match ending {
        Ending::Status(s) if (200..300).contains(&s) => Decision {
            next: NextStep::Succeeded,
            disable: None,
        },
        Ending::Status(410) => Decision {
            next: NextStep::Failed,
            disable: Some("gone (410)".to_owned()),
        },
        Ending::Status(s) => Decision {
            next: retry(honours_retry_after(s)),
            disable: None,
        },
        Ending::NoAnswer => Decision {
            next: retry(false),
            disable: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> RetrySchedule {
        RetrySchedule::parse("1s,2s").unwrap()
    }

    #[test]
    fn a_retry_millions_of_years_away_stays_in_the_future() {
        let s = RetrySchedule::parse("555550155551y").unwrap();
        let now = 1_700_000_000_000;
        let next = decide(Ending::Status(500), 1, None, &s, now).next;
        assert_eq!(next, NextStep::RetryAt(i64::MAX));
    }

    #[test]
    fn success_gone_and_retries() {
        let s = schedule();
        assert_eq!(
            decide(Ending::Status(204), 1, None, &s, 0).next,
            NextStep::Succeeded
        );
        let gone = decide(Ending::Status(410), 1, None, &s, 0);
        assert_eq!(gone.next, NextStep::Failed);
        assert_eq!(gone.disable.as_deref(), Some("gone (410)"));
        assert!(
            matches!(decide(Ending::Status(500), 1, None, &s, 0).next, NextStep::RetryAt(t) if (800..=1200).contains(&t))
        );
        assert!(matches!(
            decide(Ending::Status(302), 2, None, &s, 0).next,
            NextStep::RetryAt(_)
        ));
        assert_eq!(
            decide(Ending::Status(500), 3, None, &s, 0).next,
            NextStep::Failed
        );
        assert!(matches!(
            decide(Ending::NoAnswer, 1, None, &s, 0).next,
            NextStep::RetryAt(_)
        ));
    }

    #[test]
    fn retry_after_counts_for_throttling_statuses_only() {
        let s = schedule();
        let ra = Some(Duration::from_secs(60));
        assert_eq!(
            decide(Ending::Status(429), 1, ra, &s, 0).next,
            NextStep::RetryAt(60_000)
        );
        assert_eq!(
            decide(Ending::Status(503), 1, ra, &s, 0).next,
            NextStep::RetryAt(60_000)
        );
        assert!(
            matches!(decide(Ending::Status(500), 1, ra, &s, 0).next, NextStep::RetryAt(t) if t <= 1200)
        );
    }

    #[test]
    fn parses_both_retry_after_forms() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// A 429 asking for 2 s, on a schedule whose own delay would be sooner: the retry
    /// waits for exactly what the receiver asked, on tokio's (paused) clock.
    #[tokio::test(start_paused = true)]
    async fn a_429_retry_is_due_exactly_when_its_retry_after_ends() {
        use tokio::time::{Instant, advance};

        use crate::dispatch::schedule::{Item, Schedule};

        let start = Instant::now();
        let ms = || start.elapsed().as_millis() as i64;
        let s = RetrySchedule::parse("50ms").unwrap();
        let ra = parse_retry_after("2", std::time::SystemTime::now());
        let decision = decide(Ending::Status(429), 1, ra, &s, ms());
        assert_eq!(decision.next, NextStep::RetryAt(2_000));
        let mut schedule = Schedule::default();
        schedule.push(
            2_000,
            Item::Load(hookrelay_core::ids::DeliveryId::generate()),
        );
        let mut due = Vec::new();

        // Where the schedule alone would have retried (50 ms ± 20 %), nothing is due.
        advance(Duration::from_millis(60)).await;
        schedule.pop_due(ms(), &mut due);
        assert!(due.is_empty(), "retried before Retry-After");
        advance(Duration::from_millis(1_939)).await;
        schedule.pop_due(ms(), &mut due);
        assert!(due.is_empty(), "retried 1 ms before Retry-After");
        advance(Duration::from_millis(1)).await;
        schedule.pop_due(ms(), &mut due);
        assert_eq!(due.len(), 1, "due once the 2 s have passed");
    }
}
