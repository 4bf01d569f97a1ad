//! The circuit breaker of one endpoint: after `threshold` consecutive failures the
//! circuit opens and deliveries to the endpoint wait (their retries are not used up);
//! after a cool-down one delivery goes through as a probe (half-open). A success closes
//! the circuit; a failed probe opens it again for twice as long (capped). An endpoint
//! failing for longer than `disable_after` is disabled.
//!
//! The state machine is pure: callers pass the time in, so tests drive it directly.

use std::time::Duration;

use hookrelay_store::model::Health;
use tokio::time::Instant;

/// The longest cool-down between probes.
pub(crate) const MAX_COOLDOWN: Duration = Duration::from_secs(600);
/// A probe that never reports (its task was cancelled) frees the way for another after
/// this long at least.
const PROBE_GRACE: Duration = Duration::from_secs(120);

/// When circuits open and endpoints are disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitPolicy {
    /// Consecutive failures that open the circuit.
    pub threshold: u32,
    /// The first wait before a probe.
    pub cooldown: Duration,
    /// Disable an endpoint failing since this long (`None`: never).
    pub disable_after: Option<Duration>,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        Self {
            threshold: 10,
            cooldown: Duration::from_secs(30),
            disable_after: Some(Duration::from_secs(5 * 24 * 3600)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open {
        until: Instant,
        cooldown: Duration,
    },
    HalfOpen {
        cooldown: Duration,
        deadline: Instant,
    },
}

/// What a delivery may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Send.
    Go,
    /// Send: this attempt is the probe of a half-open circuit.
    Probe,
    /// The circuit is open until then.
    WaitUntil(Instant),
    /// Another delivery is probing; wait for its result.
    WaitForProbe(Instant),
}

/// What an attempt's result changed, for the operational events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    /// The circuit opened now.
    Opened,
    /// The circuit had opened and a success closed it.
    Recovered {
        failures: u32,
        failing_since: Option<i64>,
    },
    /// Failing for longer than the policy allows: disable the endpoint.
    Disable {
        failures: u32,
        failing_since: i64,
    },
}

/// One endpoint's circuit.
#[derive(Debug)]
pub(crate) struct Circuit {
    policy: CircuitPolicy,
    failures: u32,
    failing_since: Option<i64>,
    phase: Phase,
    /// Opened since the last success (so the next success is a recovery).
    tripped: bool,
}

impl Circuit {
    /// A circuit resumed from the stored failure streak: one already over the threshold
    /// starts open with its cool-down over, so the first delivery probes.
    pub(crate) fn resume(
        policy: CircuitPolicy,
        failures: u32,
        failing_since: Option<i64>,
        now: Instant,
    ) -> Self {
        let tripped = failures >= policy.threshold;
        Self {
            policy,
            failures,
            failing_since,
            phase: if tripped {
                Phase::Open {
                    until: now,
                    cooldown: policy.cooldown,
                }
            } else {
                Phase::Closed
            },
            tripped,
        }
    }

    /// `closed`, `open` or `half_open`.
    pub(crate) fn state(&self) -> &'static str {
        match self.phase {
            Phase::Closed => "closed",
            Phase::Open { .. } => "open",
            Phase::HalfOpen { .. } => "half_open",
        }
    }

    /// May a delivery be sent now?
    pub(crate) fn turn(&mut self, now: Instant) -> Turn {
        match self.phase {
            Phase::Closed => Turn::Go,
            Phase::Open { until, .. } if now < until => Turn::WaitUntil(until),
            Phase::HalfOpen { deadline, .. } if now < deadline => Turn::WaitForProbe(deadline),
            Phase::Open { cooldown, .. } | Phase::HalfOpen { cooldown, .. } => {
                self.phase = Phase::HalfOpen {
                    cooldown,
                    deadline: now + cooldown.max(PROBE_GRACE),
                };
                Turn::Probe
            }
        }
    }

    /// Records what an attempt says about the endpoint's health — the same value the
    /// store folds into the failure streak, so the circuit and the stored streak agree
    /// (`probe`: whether [`Circuit::turn`] made it the probe) at `now` / `now_ms`.
    pub(crate) fn record(
        &mut self,
        health: Health,
        probe: bool,
        now: Instant,
        now_ms: i64,
    ) -> Change {
        match health {
            Health::Success => {
                let change = if self.tripped {
                    Change::Recovered {
                        failures: self.failures,
                        failing_since: self.failing_since,
                    }
                } else {
                    Change::None
                };
                self.failures = 0;
                self.failing_since = None;
                self.phase = Phase::Closed;
                self.tripped = false;
                change
            }
            Health::Neutral => {
                if let (true, Phase::HalfOpen { cooldown, .. }) = (probe, self.phase) {
                    // Busy, not broken: probe again after the same cool-down.
                    self.phase = Phase::Open {
                        until: now + cooldown,
                        cooldown,
                    };
                }
                Change::None
            }
            Health::Failure => {
                self.failures = self.failures.saturating_add(1);
                let since = *self.failing_since.get_or_insert(now_ms);
                let mut change = Change::None;
                match self.phase {
                    Phase::HalfOpen { cooldown, .. } if probe => {
                        let next = (cooldown * 2).min(MAX_COOLDOWN);
                        self.phase = Phase::Open {
                            until: now + next,
                            cooldown: next,
                        };
                    }
                    Phase::Closed if self.failures >= self.policy.threshold => {
                        self.phase = Phase::Open {
                            until: now + self.policy.cooldown,
                            cooldown: self.policy.cooldown,
                        };
                        self.tripped = true;
                        change = Change::Opened;
                    }
                    _ => {}
                }
                if let Some(limit) = self.policy.disable_after
                    && now_ms - since >= limit.as_millis() as i64
                {
                    change = Change::Disable {
                        failures: self.failures,
                        failing_since: since,
                    };
                }
                change
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CircuitPolicy {
        CircuitPolicy {
            threshold: 3,
            cooldown: Duration::from_secs(10),
            disable_after: Some(Duration::from_secs(3600)),
        }
    }

    #[test]
    fn opens_after_the_threshold_and_a_probe_closes_it() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 0, None, t0);
        assert_eq!(c.record(Health::Failure, false, t0, 0), Change::None);
        assert_eq!(c.record(Health::Failure, false, t0, 1), Change::None);
        assert_eq!(c.turn(t0), Turn::Go);
        assert_eq!(c.record(Health::Failure, false, t0, 2), Change::Opened);
        assert_eq!(c.state(), "open");
        assert_eq!(c.turn(t0), Turn::WaitUntil(t0 + Duration::from_secs(10)));

        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(c.turn(t1), Turn::Probe);
        assert_eq!(c.state(), "half_open");
        assert!(
            matches!(c.turn(t1), Turn::WaitForProbe(_)),
            "one probe at a time"
        );
        assert_eq!(
            c.record(Health::Success, true, t1, 3),
            Change::Recovered {
                failures: 3,
                failing_since: Some(0)
            }
        );
        assert_eq!(c.state(), "closed");
        assert_eq!(c.turn(t1), Turn::Go);
        // A later success is no recovery.
        assert_eq!(c.record(Health::Success, false, t1, 4), Change::None);
    }

    #[test]
    fn a_failed_probe_doubles_the_cooldown_up_to_the_cap() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 3, Some(0), t0);
        assert_eq!(c.state(), "open");
        let mut now = t0;
        let mut cooldown = Duration::from_secs(10);
        for _ in 0..8 {
            assert_eq!(c.turn(now), Turn::Probe);
            c.record(Health::Failure, true, now, 1);
            cooldown = (cooldown * 2).min(MAX_COOLDOWN);
            assert_eq!(c.turn(now), Turn::WaitUntil(now + cooldown));
            now += cooldown;
        }
        assert_eq!(cooldown, MAX_COOLDOWN);
    }

    #[test]
    fn a_late_failure_of_an_earlier_attempt_is_not_taken_for_the_probe() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 3, Some(0), t0);
        assert_eq!(c.turn(t0), Turn::Probe);
        c.record(Health::Failure, false, t0, 1);
        assert_eq!(c.state(), "half_open");
    }

    #[test]
    fn a_lost_probe_lets_another_through_after_the_grace() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 3, Some(0), t0);
        assert_eq!(c.turn(t0), Turn::Probe);
        assert!(matches!(
            c.turn(t0 + Duration::from_secs(1)),
            Turn::WaitForProbe(_)
        ));
        assert_eq!(c.turn(t0 + PROBE_GRACE), Turn::Probe);
    }

    #[test]
    fn throttling_neither_opens_nor_closes() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 0, None, t0);
        for _ in 0..10 {
            assert_eq!(c.record(Health::Neutral, false, t0, 0), Change::None);
        }
        assert_eq!(c.state(), "closed");
        let mut c = Circuit::resume(policy(), 3, Some(0), t0);
        assert_eq!(c.turn(t0), Turn::Probe);
        c.record(Health::Neutral, true, t0, 0);
        assert_eq!(c.turn(t0), Turn::WaitUntil(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn failing_longer_than_the_limit_disables() {
        let t0 = Instant::now();
        let mut c = Circuit::resume(policy(), 0, None, t0);
        assert_eq!(c.record(Health::Failure, false, t0, 1_000), Change::None);
        assert_eq!(
            c.record(Health::Failure, false, t0, 1_000 + 3_600_000),
            Change::Disable {
                failures: 2,
                failing_since: 1_000
            }
        );
        let mut never = Circuit::resume(
            CircuitPolicy {
                disable_after: None,
                ..policy()
            },
            0,
            None,
            t0,
        );
        never.record(Health::Failure, false, t0, 0);
        assert_eq!(
            never.record(Health::Failure, false, t0, i64::MAX / 2),
            Change::None
        );
    }
}
