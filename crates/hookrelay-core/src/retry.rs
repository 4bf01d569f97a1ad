//! The retry policy: when the next attempt of a failed delivery happens.

use std::time::Duration;

use rand::Rng;

/// Delays after the first try, each with ±20 % jitter. N entries mean at most 1 + N attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// How far the jitter moves a delay either way.
const JITTER: f64 = 0.2;

/// The longest `Retry-After` honoured, so a receiver cannot park a delivery forever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Default for RetrySchedule {
    /// 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h.
    fn default() -> Self {
        const S: u64 = 1;
        const M: u64 = 60;
        const H: u64 = 3600;
        Self {
            delays: [
                5 * S,
                5 * M,
                30 * M,
                2 * H,
                5 * H,
                10 * H,
                14 * H,
                20 * H,
                24 * H,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
        }
    }
}

impl RetrySchedule {
    /// A schedule from explicit delays.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// Parses `1s,2s,4s` (any `humantime` durations: `500ms`, `5m`, `2h`). An empty
    /// string means no retries.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self { delays: Vec::new() });
        }
        let delays = s
            .split(',')
            .map(|part| {
                humantime::parse_duration(part.trim())
                    .map_err(|e| format!("invalid retry delay {:?}: {e}", part.trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { delays })
    }

    /// The delays without jitter.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The most attempts a delivery gets: the first try and one per delay.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// The delay before the next attempt after `attempts_made` failed ones, or `None`
    /// when the schedule is spent. A `Retry-After` from the receiver is honoured: the
    /// next attempt is never sooner than it asked (up to [`MAX_RETRY_AFTER`]).
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
        let base = *self.delays.get(index)?;
        let factor = rand::rng().random_range((1.0 - JITTER)..=(1.0 + JITTER));
        // Not `mul_f64`, which panics when the product does not fit in a `Duration` (a
        // configured delay near `u64::MAX` seconds times a factor above 1): saturate.
        let jittered =
            Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(Duration::MAX);
        Some(match retry_after {
            Some(ra) => jittered.max(ra.min(MAX_RETRY_AFTER)),
            None => jittered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_gives_ten_attempts() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 10);
        assert_eq!(s.delays()[0], Duration::from_secs(5));
        assert_eq!(s.delays()[8], Duration::from_secs(24 * 3600));
    }

    #[test]
    fn parses_short_schedules() {
        let s = RetrySchedule::parse("1s, 2s,500ms,5m").unwrap();
        assert_eq!(
            s.delays(),
            &[
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_millis(500),
                Duration::from_secs(300)
            ]
        );
        assert!(RetrySchedule::parse("1s,soon").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let s = RetrySchedule::new(vec![Duration::from_secs(100)]);
        for _ in 0..1000 {
            let d = s.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(80) && d <= Duration::from_secs(120),
                "{d:?}"
            );
        }
    }

    #[test]
    fn spent_schedule_ends() {
        let s = RetrySchedule::parse("1s,2s").unwrap();
        assert!(s.next_delay(1, None).is_some());
        assert!(s.next_delay(2, None).is_some());
        assert_eq!(s.next_delay(3, None), None);
        assert_eq!(s.next_delay(0, None), None);
    }

    #[test]
    fn retry_after_is_a_floor_with_a_ceiling() {
        let s = RetrySchedule::parse("1s").unwrap();
        let d = s.next_delay(1, Some(Duration::from_secs(30))).unwrap();
        assert_eq!(d, Duration::from_secs(30));
        let d = s
            .next_delay(1, Some(Duration::from_secs(10 * 24 * 3600)))
            .unwrap();
        assert_eq!(d, MAX_RETRY_AFTER);
    }

    #[test]
    fn a_delay_too_long_to_jitter_saturates_instead_of_panicking() {
        // Found by fuzz/fuzz_targets/retry_after.rs: 555550155551y is 1.75e19 s, and any
        // jitter factor above 1.052 took `Duration::mul_f64` past `u64::MAX` seconds.
        let s = RetrySchedule::parse("555550155551y").unwrap();
        for _ in 0..200 {
            let d = s.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(14_000_000_000_000_000_000),
                "{d:?}"
            );
        }
        let s = RetrySchedule::new(vec![Duration::MAX]);
        for _ in 0..200 {
            assert!(s.next_delay(1, Some(Duration::from_secs(1))).is_some());
        }
    }

    #[test]
    fn each_delay_of_1s_2s_4s_stays_in_its_own_window() {
        let s = RetrySchedule::parse("1s,2s,4s").unwrap();
        assert_eq!(s.max_attempts(), 4);
        for _ in 0..200 {
            for (made, base_ms) in [(1, 1_000), (2, 2_000), (3, 4_000)] {
                let d = s.next_delay(made, None).unwrap();
                let window = Duration::from_millis(base_ms * 8 / 10)
                    ..=Duration::from_millis(base_ms * 12 / 10);
                assert!(
                    window.contains(&d),
                    "after {made} attempts: {d:?} is not {base_ms} ms ± 20 %"
                );
            }
        }
        assert_eq!(s.next_delay(4, None), None, "four attempts spend it");
    }
}
