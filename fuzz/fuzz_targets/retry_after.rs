//! Retry timing and time text: `RetrySchedule::parse` (the `1s,5m,2h` schedule) and
//! `next_delay` for every attempt with a receiver's `Retry-After`; the `Retry-After`
//! value itself (delay seconds or an HTTP date), parsed as the dispatcher parses it; and
//! `clock::parse_rfc3339` / `to_rfc3339` (API and dashboard time parameters).
//!
//! The dispatcher's `parse_retry_after` is `pub(crate)` in a private module of
//! hookrelay-server (its only public way in is a live delivery), so `retry_after` below is
//! a copy of its body (crates/hookrelay-server/src/dispatch/classify.rs), over the same
//! `httpdate` parser, feeding `next_delay` as `dispatch::classify::decide` does.
//!
//! Input: lines; the first is the schedule, the second the `Retry-After` value; every
//! line is also tried as an RFC 3339 time.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookrelay_core::clock::{parse_rfc3339, to_rfc3339};
use hookrelay_core::retry::{MAX_RETRY_AFTER, RetrySchedule};
use libfuzzer_sys::fuzz_target;

/// Copy of `hookrelay_server::dispatch::classify::parse_retry_after`.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999Z: what RFC 3339 can show.
const SHOWABLE_MS: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

fn check_time(text: &str) {
    if let Some(ms) = parse_rfc3339(text) {
        if SHOWABLE_MS.contains(&ms) {
            assert_eq!(parse_rfc3339(&to_rfc3339(ms)), Some(ms), "{text}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let schedule = lines.next().unwrap_or_default();
    let header = lines.next().unwrap_or_default();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ra = retry_after(header, now);

    if let Ok(s) = RetrySchedule::parse(schedule) {
        let n = s.delays().len();
        assert_eq!(s.max_attempts() as usize, n + 1);
        for made in 0..=(n.min(64) as u32 + 1) {
            let d = s.next_delay(made, ra);
            let spent = made == 0 || made as usize > n;
            assert_eq!(d.is_none(), spent, "attempt {made} of {n}");
            if let (Some(d), Some(ra)) = (d, ra) {
                assert!(d >= ra.min(MAX_RETRY_AFTER));
            }
        }
    }

    for line in text.split('\n').take(16) {
        check_time(line);
    }
    if let Some(b) = data.get(..8) {
        let ms = i64::from_le_bytes(b.try_into().unwrap());
        let shown = to_rfc3339(ms);
        if SHOWABLE_MS.contains(&ms) {
            assert_eq!(parse_rfc3339(&shown), Some(ms), "{ms}");
        }
    }
});
