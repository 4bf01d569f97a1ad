//! What a batch of attempts does to each endpoint's failure streak (read by the circuit
//! breaker and auto-disable), folded in attempt order, the same for every backend.

use std::collections::HashMap;

use crate::model::{AttemptResult, Health};

/// What a batch does to one endpoint's failure streak.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreakChange {
    /// A success came: the stored streak is replaced, not added to.
    pub reset: bool,
    /// Failures after the last success (or all of them, without one).
    pub failures: i64,
    /// When the first of those failures happened.
    pub first_failure_at: Option<i64>,
}

/// The change per endpoint id, in id order (so concurrent transactions lock endpoint
/// rows in one order), leaving out endpoints whose streak the batch does not touch.
pub(crate) fn changes<'a>(results: &[&'a AttemptResult]) -> Vec<(&'a str, StreakChange)> {
    let mut by_endpoint: HashMap<&str, StreakChange> = HashMap::new();
    for r in results {
        let change = by_endpoint.entry(r.endpoint_id.as_str()).or_default();
        match r.health {
            Health::Success => {
                *change = StreakChange {
                    reset: true,
                    ..StreakChange::default()
                }
            }
            Health::Failure => {
                change.failures += 1;
                change.first_failure_at.get_or_insert(r.attempt.at);
            }
            Health::Neutral => {}
        }
    }
    let mut out: Vec<_> = by_endpoint
        .into_iter()
        .filter(|(_, c)| c.reset || c.failures > 0)
        .collect();
    out.sort_unstable_by_key(|(id, _)| *id);
    out
}
