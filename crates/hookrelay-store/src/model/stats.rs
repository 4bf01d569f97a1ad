//! What the dashboard reads about recent activity: attempts per hour, per endpoint, and
//! what needs attention.

use hookrelay_core::ids::DeliveryId;

/// One hour of attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourStats {
    /// The hour's first millisecond (unix ms, a multiple of 3,600,000).
    pub hour_start: i64,
    /// Attempts answered with a 2xx.
    pub succeeded: u64,
    /// Every other attempt (an error status, a timeout, no connection).
    pub failed: u64,
}

/// One endpoint's recent attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// The endpoint.
    pub endpoint_id: String,
    /// Attempts answered with a 2xx since the time asked for.
    pub succeeded: u64,
    /// Other attempts since then.
    pub failed: u64,
    /// The latest attempt within the last week (unix ms), if any.
    pub last_attempt_at: Option<i64>,
    /// Whether that attempt succeeded.
    pub last_ok: Option<bool>,
}

/// An endpoint whose latest attempts failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingEndpoint {
    /// Its scope.
    pub scope: String,
    /// Its code.
    pub code: String,
    /// Where it sends.
    pub url: String,
    /// Consecutive failed attempts.
    pub failure_streak: u32,
    /// When the run of failures began (unix ms).
    pub failing_since: Option<i64>,
    /// Whether it still gets new deliveries.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
}

/// The oldest delivery still waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldestPending {
    /// The delivery.
    pub id: DeliveryId,
    /// Its scope.
    pub scope: String,
    /// Its endpoint's code.
    pub endpoint: String,
    /// When it was created (unix ms).
    pub created_at: i64,
    /// Attempts made so far.
    pub attempts: u32,
}

/// What the overview asks for.
#[derive(Debug, Clone, Default)]
pub struct OverviewRequest {
    /// Count attempts from this time on (unix ms; rounded down to its hour).
    pub since: i64,
    /// Only these scopes (a scoped caller); everything when `None`.
    pub allowed_scopes: Option<Vec<String>>,
    /// Also count inbound requests (the gateway is admin-only).
    pub inbound: bool,
}

/// Recent activity at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    /// Hours with attempts, oldest first (hours without any are left out).
    pub hours: Vec<HourStats>,
    /// Up to ten endpoints with a failure streak, longest failing first.
    pub failing: Vec<FailingEndpoint>,
    /// The oldest pending delivery.
    pub oldest_pending: Option<OldestPending>,
    /// Inbound requests since `since`, by status (`accepted`, `rejected`, `duplicate`).
    pub inbound: Vec<(String, u64)>,
}
