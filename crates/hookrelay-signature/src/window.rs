//! The replay window: how far a signed timestamp may be from now.

/// The distance between `timestamp` and `now` when it exceeds `tolerance_s`, else `None`.
///
/// Both directions count: a timestamp far in the future is as suspect as an old one. The
/// distance saturates rather than overflows, because the timestamp comes from the sender.
pub(crate) fn outside(timestamp: i64, now: i64, tolerance_s: i64) -> Option<i64> {
    let skew = i64::try_from(now.abs_diff(timestamp)).unwrap_or(i64::MAX);
    (skew > tolerance_s).then_some(skew)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_inside_and_extremes_do_not_overflow() {
        assert_eq!(outside(1000, 1300, 300), None);
        assert_eq!(outside(1000, 700, 300), None);
        assert_eq!(outside(1000, 1301, 300), Some(301));
        assert_eq!(outside(1000, 699, 300), Some(301));
        assert_eq!(outside(i64::MIN, i64::MAX, 300), Some(i64::MAX));
    }
}
