//! What an attempt's [`Outcome`] does, once it is known: the attempt metrics, the pause a
//! 429/503 asks for, the decision (success, retry at, give up — [`classify`]), the
//! endpoint's circuit and auto-disable, the record in the store, the delivery metrics,
//! the retry put in the schedule and the operational events. Also giving a delivery up
//! without an attempt.
//!
//! The ending is classified into [`Health`](hookrelay_store::model::Health) once, here,
//! and that one value feeds both the circuit and the store's failure streak.

use hookrelay_core::clock::{now_ms, to_rfc3339};
use hookrelay_store::model::{
    AttemptResult, DeliveryJob, EndpointTarget, GiveUp, Health, NextStep, Recorded,
};

use super::attempt::Outcome;
use super::circuit::Change;
use super::classify::{self, Ending};
use super::gate::{self, Gate};
use super::send::Sent;
use super::{Dispatcher, RECORD_FAILURE_BACKOFF_MS, operational};

impl Dispatcher {
    /// Settles one attempt of `job` to `endpoint` (whose gate it passed). A retry is
    /// scheduled only once the attempt is recorded; when recording fails, the delivery
    /// stays pending and is tried again after [`RECORD_FAILURE_BACKOFF_MS`].
    pub(crate) async fn settle(
        &self,
        job: DeliveryJob,
        endpoint: &EndpointTarget,
        gate: &Gate,
        outcome: Outcome,
        lease_until: Option<i64>,
    ) {
        let Outcome {
            sent:
                Sent {
                    record,
                    ending,
                    retry_after,
                },
            took,
            probe,
        } = outcome;
        self.inner.metrics.attempt(record.status_code, took);
        if let Ending::Status(429 | 503) = ending {
            // The receiver asked for less traffic: every delivery to it waits.
            gate.pause(retry_after.unwrap_or(gate::DEFAULT_PAUSE));
        }
        let decision = classify::decide(
            ending,
            job.attempts_made + 1,
            retry_after,
            &self.inner.cfg.retry,
            now_ms(),
        );
        log_decision(&job, endpoint, record.error.as_deref(), decision.next);
        let health = ending.health();
        let (change, disable) =
            update_circuit(&job, endpoint, gate, health, probe, decision.disable);
        let last = (record.status_code, record.error.clone());
        let result = AttemptResult {
            delivery_id: job.delivery_id.clone(),
            endpoint_id: endpoint.id.clone(),
            attempt: record,
            next: decision.next,
            disable_endpoint: disable.clone(),
            health,
            due_at: job.due_at,
            lease_until,
        };
        match self.inner.store.record_attempt(result).await {
            Ok(Recorded::Applied) => {
                self.inner.metrics.delivery(decision.next);
                if let NextStep::RetryAt(at) = decision.next {
                    self.schedule([job.delivery_id.clone()], at);
                }
                self.report(&job, endpoint, last, Some(decision.next), disable, change)
                    .await;
            }
            Ok(Recorded::Superseded) => {
                // The endpoint's health still counts the attempt; the delivery is
                // another attempt's (or a manual retry's) to report.
                tracing::info!(delivery = %job.delivery_id, endpoint = %endpoint.code,
                    "attempt kept as history only: the delivery moved on meanwhile (its lease was taken over, or it was re-queued)");
                self.report(&job, endpoint, last, None, disable, change)
                    .await;
            }
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "could not record an attempt; the delivery stays pending");
                self.schedule([job.delivery_id], now_ms() + RECORD_FAILURE_BACKOFF_MS);
            }
        }
    }

    /// Publishes the operational events an attempt's recorded result calls for (`next`
    /// is `None` when the result did not move the delivery on).
    async fn report(
        &self,
        job: &DeliveryJob,
        endpoint: &EndpointTarget,
        last: (Option<u16>, Option<String>),
        next: Option<NextStep>,
        disabled: Option<String>,
        change: Change,
    ) {
        let store = self.inner.store.as_ref();
        if next == Some(NextStep::Failed) {
            operational::delivery_failed(store, job, endpoint, last).await;
        }
        let (failures, since) = match change {
            Change::Recovered {
                failures,
                failing_since,
            } => {
                operational::endpoint_recovered(
                    store,
                    &job.scope,
                    endpoint,
                    failures,
                    failing_since,
                )
                .await;
                return;
            }
            Change::Disable {
                failures,
                failing_since,
            } => (failures, Some(failing_since)),
            Change::Opened | Change::None => (endpoint.failure_streak + 1, endpoint.failing_since),
        };
        if let Some(reason) = disabled {
            operational::endpoint_disabled(store, &job.scope, endpoint, &reason, failures, since)
                .await;
        }
    }

    /// Marks a delivery failed without an attempt (its endpoint disabled or deleted, its
    /// secret unusable), unless it moved on since it was taken (`lease_until` is the
    /// lease it is held under, if claimed): a worker whose lease ran out, or a delivery
    /// re-queued by hand meanwhile, is left to whoever holds it now.
    pub(crate) async fn give_up(&self, job: &DeliveryJob, lease_until: Option<i64>, reason: &str) {
        let give_up = GiveUp {
            delivery_id: job.delivery_id.clone(),
            reason: reason.to_owned(),
            at: now_ms(),
            due_at: job.due_at,
            lease_until,
        };
        match self.inner.store.give_up_delivery(give_up).await {
            Ok(Recorded::Applied) => {
                tracing::info!(delivery = %job.delivery_id, reason, "delivery given up");
                self.inner.metrics.given_up()
            }
            Ok(Recorded::Superseded) => {
                tracing::info!(delivery = %job.delivery_id, reason, "delivery not given up: it moved on since it was taken")
            }
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "could not mark a delivery failed")
            }
        }
    }
}

/// Logs what the decision was (a success only at debug level: it is the common case).
fn log_decision(job: &DeliveryJob, endpoint: &EndpointTarget, error: Option<&str>, next: NextStep) {
    match next {
        NextStep::Succeeded => {
            tracing::debug!(delivery = %job.delivery_id, endpoint = %endpoint.code, "delivery succeeded")
        }
        NextStep::RetryAt(at) => tracing::info!(
            delivery = %job.delivery_id, endpoint = %endpoint.code, error,
            retry_in_ms = at - now_ms(), "attempt failed; retry scheduled"
        ),
        NextStep::Failed => tracing::warn!(
            delivery = %job.delivery_id, endpoint = %endpoint.code, error,
            "delivery failed"
        ),
    }
}

/// Feeds the attempt's health to the endpoint's circuit and logs what that changed.
/// Returns the change and why the endpoint is disabled, if it is: `disable` (the
/// decision's, a 410) or, failing for longer than the policy allows, the circuit's.
/// A disabled endpoint's gate sends the deliveries still waiting at it away.
fn update_circuit(
    job: &DeliveryJob,
    endpoint: &EndpointTarget,
    gate: &Gate,
    health: Health,
    probe: bool,
    mut disable: Option<String>,
) -> (Change, Option<String>) {
    let change = gate.record(health, probe, now_ms());
    match &change {
        Change::Opened => tracing::warn!(
            endpoint = %endpoint.code, scope = %job.scope,
            "circuit opened after consecutive failures; deliveries to the endpoint wait for a probe"
        ),
        Change::Recovered { .. } => {
            tracing::info!(endpoint = %endpoint.code, scope = %job.scope, "endpoint recovered; circuit closed")
        }
        Change::Disable {
            failures,
            failing_since,
        } => {
            disable.get_or_insert_with(|| {
                format!(
                    "failing since {} ({failures} consecutive failures)",
                    to_rfc3339(*failing_since)
                )
            });
        }
        Change::None => {}
    }
    if let Some(reason) = &disable {
        tracing::warn!(endpoint = %endpoint.code, scope = %job.scope, reason, "endpoint disabled");
        gate.disable();
    }
    (change, disable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ending_says_one_health_to_the_circuit_and_the_store() {
        assert_eq!(Ending::Status(200).health(), Health::Success);
        assert_eq!(Ending::Status(204).health(), Health::Success);
        // Busy, not broken: neither ends nor grows the failure streak.
        assert_eq!(Ending::Status(429).health(), Health::Neutral);
        for failing in [
            Ending::Status(302),
            Ending::Status(410),
            Ending::Status(500),
            Ending::Status(503),
            Ending::NoAnswer,
        ] {
            assert_eq!(failing.health(), Health::Failure, "{failing:?}");
        }
    }
}
