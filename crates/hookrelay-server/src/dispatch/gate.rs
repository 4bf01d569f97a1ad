//! Per-endpoint traffic control: a concurrency cap, the endpoint's rate limit, a pause
//! when the receiver answers 429 or 503 — so a throttling receiver slows the whole
//! endpoint, not just the one delivery it answered — and the endpoint's [`Circuit`].
//! Deliveries wait here, never on the global slots, so a dead endpoint cannot slow
//! healthy ones. The dispatcher keeps one gate per endpoint it has sent to
//! ([`Dispatcher::endpoint_gate`]), which also answers for the circuits' states.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hookrelay_core::balance::{Balancer, Targets};
use hookrelay_core::ids::EndpointId;
use hookrelay_store::model::{EndpointTarget, Health};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::Dispatcher;
use super::circuit::{Change, Circuit, Turn};

/// The longest pause a 429/503 imposes on an endpoint.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(300);
/// The pause after a 429/503 without `Retry-After`.
pub(crate) const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// One endpoint's gate.
pub(crate) struct Gate {
    pub slots: Arc<Semaphore>,
    limiter: Mutex<Option<(u32, u32, Arc<DefaultDirectRateLimiter>)>>,
    paused_until: Mutex<Option<Instant>>,
    circuit: Mutex<Circuit>,
    /// Signalled when the circuit changes (a probe's result frees the waiters).
    circuit_changed: Notify,
    /// Set when the dispatcher disabled the endpoint: deliveries still waiting here
    /// give up instead of sending.
    disabled: AtomicBool,
    /// Picks targets for endpoints that have several.
    balancer: Mutex<Balancer>,
}

impl Gate {
    pub(crate) fn new(concurrency: usize, circuit: Circuit) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            limiter: Mutex::new(None),
            paused_until: Mutex::new(None),
            circuit: Mutex::new(circuit),
            circuit_changed: Notify::new(),
            disabled: AtomicBool::new(false),
            balancer: Mutex::new(Balancer::default()),
        }
    }

    /// Waits until the endpoint may be sent to: past any pause, through the circuit
    /// breaker, and within its rate (`per_second`, evenly spaced, no burst). Returns
    /// whether this attempt is the circuit's probe.
    pub(crate) async fn wait_turn(&self, per_second: Option<u32>, workers: usize) -> bool {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        let probe = loop {
            let changed = self.circuit_changed.notified();
            tokio::pin!(changed);
            // Armed before looking, so a change between the look and the wait is seen.
            changed.as_mut().enable();
            if self.is_disabled() {
                break false;
            }
            let turn = self.lock_circuit().turn(Instant::now());
            let until = match turn {
                Turn::Go => break false,
                Turn::Probe => break true,
                Turn::WaitUntil(t) | Turn::WaitForProbe(t) => t,
            };
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        };
        if let Some(limiter) = self.limiter(per_second, workers) {
            limiter.until_ready().await;
        }
        probe
    }

    /// Feeds an attempt's health to the circuit and wakes the deliveries waiting on it.
    pub(crate) fn record(&self, health: Health, probe: bool, now_ms: i64) -> Change {
        let change = self
            .lock_circuit()
            .record(health, probe, Instant::now(), now_ms);
        self.circuit_changed.notify_waiters();
        change
    }

    /// `closed`, `open` or `half_open`.
    pub(crate) fn circuit_state(&self) -> &'static str {
        self.lock_circuit().state()
    }

    /// Marks the endpoint disabled and wakes every waiting delivery so it gives up.
    pub(crate) fn disable(&self) {
        self.disabled.store(true, Ordering::SeqCst);
        self.circuit_changed.notify_waiters();
    }

    /// The targets one attempt tries, in order (see [`Balancer::order`]).
    pub(crate) fn pick_targets(&self, targets: &Targets) -> Vec<usize> {
        self.balancer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order(targets, &mut rand::rng())
    }

    /// Whether the dispatcher disabled the endpoint.
    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::SeqCst)
    }

    fn lock_circuit(&self) -> std::sync::MutexGuard<'_, Circuit> {
        self.circuit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds back every delivery to the endpoint for `d` (capped at [`MAX_PAUSE`]).
    pub(crate) fn pause(&self, d: Duration) {
        let until = Instant::now() + d.min(MAX_PAUSE);
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    /// The endpoint's pacing in this process: `per_second` split between `workers`
    /// (one send every `workers / per_second` seconds), no burst.
    fn limiter(
        &self,
        per_second: Option<u32>,
        workers: usize,
    ) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = NonZeroU32::new(per_second?)?;
        let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
        let mut current = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        match &*current {
            Some((r, w, l)) if *r == rate.get() && *w == workers => Some(Arc::clone(l)),
            _ => {
                // A changed rate or share starts a fresh limiter.
                let period = Duration::from_secs_f64(f64::from(workers) / f64::from(rate.get()));
                let quota = Quota::with_period(period)
                    .unwrap_or_else(|| Quota::per_second(rate))
                    .allow_burst(NonZeroU32::MIN);
                let limiter = Arc::new(RateLimiter::direct(quota));
                *current = Some((rate.get(), workers, Arc::clone(&limiter)));
                Some(limiter)
            }
        }
    }
}

/// The dispatcher's gates, one per endpoint it has sent to since the start.
impl Dispatcher {
    /// The endpoint's gate; a new one resumes the circuit from the stored failure streak.
    pub(crate) fn endpoint_gate(&self, endpoint: &EndpointTarget) -> Arc<Gate> {
        let mut map = self.lock_gates();
        let cap = self.inner.cfg.max_in_flight_per_endpoint;
        let policy = self.inner.cfg.circuit;
        if self.inner.claimer.is_some() && map.get(&endpoint.id).is_some_and(|g| g.is_disabled()) {
            // A claimed job's endpoint was read from the table just now and is enabled:
            // it was re-enabled since this gate disabled it, possibly by another process
            // (whose `forget_endpoint` cannot reach this one). Start from the stored state.
            map.remove(&endpoint.id);
        }
        Arc::clone(map.entry(endpoint.id.clone()).or_insert_with(|| {
            let circuit = Circuit::resume(
                policy,
                endpoint.failure_streak,
                endpoint.failing_since,
                tokio::time::Instant::now(),
            );
            Arc::new(Gate::new(cap, circuit))
        }))
    }

    /// Drops what the dispatcher holds about an endpoint (its circuit, pauses, limiter)
    /// after the endpoint was changed, re-enabled or deleted; the next delivery starts
    /// from the stored state.
    pub fn forget_endpoint(&self, id: &EndpointId) {
        self.lock_gates().remove(id);
    }

    /// The endpoint's circuit (`closed`, `open`, `half_open`), if it has been used since
    /// the start.
    pub fn circuit_state(&self, id: &EndpointId) -> Option<&'static str> {
        self.lock_gates().get(id).map(|g| g.circuit_state())
    }

    /// How many endpoints this dispatcher holds a circuit for are `[closed, open,
    /// half_open]` (for `/metrics`).
    pub fn circuit_counts(&self) -> [usize; 3] {
        // Copied out first, so no circuit is locked while the map is.
        let gates: Vec<_> = self.lock_gates().values().cloned().collect();
        let mut counts = [0; 3];
        for gate in gates {
            match gate.circuit_state() {
                "open" => counts[1] += 1,
                "half_open" => counts[2] += 1,
                _ => counts[0] += 1,
            }
        }
        counts
    }

    fn lock_gates(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, Arc<Gate>>> {
        self.inner
            .per_endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::circuit::CircuitPolicy;

    fn closed() -> Circuit {
        Circuit::resume(CircuitPolicy::default(), 0, None, Instant::now())
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_later_turns() {
        let gate = Gate::new(4, closed());
        let start = Instant::now();
        gate.pause(Duration::from_secs(2));
        gate.wait_turn(None, 1).await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        gate.pause(Duration::from_secs(3600));
        let before = Instant::now();
        gate.wait_turn(None, 1).await;
        assert_eq!(before.elapsed(), MAX_PAUSE, "capped");
    }
}
