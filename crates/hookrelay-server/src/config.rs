//! Server settings. The binary fills them from flags, `hookrelay.toml` and
//! `HOOKRELAY_*` variables; tests build them directly.

use std::path::PathBuf;
use std::time::Duration;

use hookrelay_core::network::NetworkPolicy;
use hookrelay_core::retry::RetrySchedule;
use serde::{Deserialize, Serialize};

use crate::dispatch::{CircuitPolicy, DispatchConfig};
use crate::retention::RetentionPolicy;
use crate::ssrf::Guard;

/// What one `hookrelay serve` process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The API, the inbound gateway and deliveries.
    #[default]
    All,
    /// The API and the inbound gateway: accepts and writes, delivers nothing.
    Api,
    /// Deliveries only; the HTTP listener serves `/health`.
    Worker,
}

impl Role {
    /// Whether this process runs a dispatcher.
    pub fn delivers(self) -> bool {
        matches!(self, Self::All | Self::Worker)
    }
    /// Whether this process serves the API.
    pub fn serves_api(self) -> bool {
        matches!(self, Self::All | Self::Api)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::All => "all",
            Self::Api => "api",
            Self::Worker => "worker",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Self::All),
            "api" => Ok(Self::Api),
            "worker" => Ok(Self::Worker),
            other => Err(format!("unknown role {other:?}: use all, api or worker")),
        }
    }
}

/// Everything `hookrelay serve` can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on (`HOOKRELAY_LISTEN`).
    pub listen: String,
    /// PEM certificate chain to serve HTTPS with; needs `tls_key` (`HOOKRELAY_TLS_CERT`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, RSA or EC) of `tls_cert` (`HOOKRELAY_TLS_KEY`).
    pub tls_key: Option<PathBuf>,
    /// `sqlite://file.db`, `sqlite:///abs/file.db`, or `postgres://…` to share one
    /// database between processes (`HOOKRELAY_DATABASE_URL`).
    pub database_url: String,
    /// PostgreSQL: the schema Hookrelay's tables live in, created if missing; unset
    /// means the connection's default search path (`HOOKRELAY_DATABASE_SCHEMA`).
    pub database_schema: Option<String>,
    /// PostgreSQL: connections in the pool (`HOOKRELAY_DATABASE_POOL_SIZE`).
    pub database_pool_size: u32,
    /// PostgreSQL: the longest a statement may run, in ms
    /// (`HOOKRELAY_DATABASE_STATEMENT_TIMEOUT_MS`).
    pub database_statement_timeout_ms: u64,
    /// Apply pending migrations at start (`HOOKRELAY_MIGRATE`; `--no-migrate` turns it
    /// off, so that only `hookrelay migrate` changes the schema).
    pub migrate: bool,
    /// What this process does: `all` (API and deliveries), `api` (accepts and writes,
    /// delivers nothing) or `worker` (delivers; serves only `/health`)
    /// (`HOOKRELAY_ROLE`). `api` and `worker` need PostgreSQL.
    pub role: Role,
    /// How often the dispatcher claims due deliveries when nothing woke it (a commit
    /// with new work, one of its own retries), in ms; both backends
    /// (`HOOKRELAY_POLL_INTERVAL_MS`).
    pub poll_interval_ms: u64,
    /// The admin token; when unset the first start creates one (`HOOKRELAY_ADMIN_TOKEN`).
    pub admin_token: Option<String>,
    /// Base64 of the 32-byte key that seals credentials at rest; when unset, a key file
    /// next to the SQLite database is used, created on the first start
    /// (`HOOKRELAY_MASTER_KEY`).
    pub master_key: Option<String>,
    /// CIDRs exempt from the SSRF guard, e.g. `127.0.0.0/8` (`HOOKRELAY_ALLOW_NETWORKS`).
    pub allow_networks: Option<String>,
    /// Refuse `http://` endpoints (`HOOKRELAY_HTTPS_ONLY`).
    pub https_only: bool,
    /// A PEM bundle of root certificates trusted for deliveries besides the bundled web
    /// PKI roots, for receivers behind a private CA (`HOOKRELAY_EXTRA_ROOT_CERTS`).
    pub extra_root_certs: Option<PathBuf>,
    /// Delays between attempts, e.g. `5s,5m,30m` (`HOOKRELAY_RETRY_SCHEDULE`).
    pub retry_schedule: Option<String>,
    /// Largest accepted request body (`HOOKRELAY_MAX_PAYLOAD_BYTES`).
    pub max_payload_bytes: usize,
    /// Attempts in flight at once, all endpoints together.
    pub max_in_flight: usize,
    /// Attempts in flight at once to one endpoint.
    pub max_in_flight_per_endpoint: usize,
    /// Per-attempt timeout for endpoints that set none, in ms.
    pub attempt_timeout_ms: u64,
    /// How long shutdown waits for attempts in flight, in ms.
    pub shutdown_timeout_ms: u64,
    /// How long the inbound gateway waits for a request's body before answering 408
    /// (`HOOKRELAY_INBOUND_READ_TIMEOUT_MS`), so slow clients cannot hold connections.
    pub inbound_read_timeout_ms: u64,
    /// Every other request's body must arrive within this, in ms, or the request is
    /// answered 408 and the connection closed (`HOOKRELAY_BODY_READ_TIMEOUT_MS`).
    pub body_read_timeout_ms: u64,
    /// The most connections served at once; more wait in the listen queue until one
    /// closes (`HOOKRELAY_MAX_CONNECTIONS`). Keep it under the process's file limit.
    pub max_connections: usize,
    /// How long a client has to send a request's headers (and how long a keep-alive
    /// connection may sit idle) before the connection is closed, in ms
    /// (`HOOKRELAY_HEADER_READ_TIMEOUT_MS`): a client that never finishes its headers
    /// would otherwise hold a connection for ever.
    pub header_read_timeout_ms: u64,
    /// Proxies whose `X-Forwarded-For` names the inbound gateway's caller, as CIDRs
    /// (`HOOKRELAY_TRUSTED_PROXIES`); without it the socket's address counts.
    pub trusted_proxies: Option<String>,
    /// Consecutive failed attempts that open an endpoint's circuit
    /// (`HOOKRELAY_CIRCUIT_THRESHOLD`).
    pub circuit_threshold: u32,
    /// The wait before the first probe of an open circuit, e.g. `30s`; it doubles after
    /// each failed probe, up to 10 minutes (`HOOKRELAY_CIRCUIT_COOLDOWN`).
    pub circuit_cooldown: String,
    /// Disable an endpoint that has failed for this long, e.g. `5d`; `off` never does
    /// (`HOOKRELAY_DISABLE_FAILING_AFTER`).
    pub disable_failing_after: String,
    /// Finished history (events, deliveries, attempts, inbound requests) older than
    /// this is removed, e.g. `30d`, `12h`; `off` keeps it for ever
    /// (`HOOKRELAY_RETENTION`).
    pub retention: String,
    /// Payloads (event data, response bodies, inbound bodies) older than this are
    /// dropped while their rows stay; shorter than `retention` (`HOOKRELAY_PAYLOAD_RETENTION`).
    pub payload_retention: Option<String>,
    /// The most disk the SQLite database may use, e.g. `10GB`, `512MiB`: beyond it
    /// publishes and inbound requests get 507 while accepted deliveries go on; unset,
    /// the disk is the limit (`HOOKRELAY_MAX_DATABASE_SIZE`).
    pub max_database_size: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            tls_cert: None,
            tls_key: None,
            database_url: "sqlite://hookrelay.db".to_owned(),
            database_schema: None,
            database_pool_size: 16,
            database_statement_timeout_ms: 30_000,
            migrate: true,
            role: Role::All,
            poll_interval_ms: 1_000,
            admin_token: None,
            master_key: None,
            allow_networks: None,
            https_only: false,
            extra_root_certs: None,
            retry_schedule: None,
            max_payload_bytes: 1024 * 1024,
            max_in_flight: 512,
            max_in_flight_per_endpoint: 64,
            attempt_timeout_ms: 15_000,
            shutdown_timeout_ms: 10_000,
            trusted_proxies: None,
            inbound_read_timeout_ms: 30_000,
            body_read_timeout_ms: 30_000,
            max_connections: 512,
            header_read_timeout_ms: 10_000,
            circuit_threshold: 10,
            circuit_cooldown: "30s".to_owned(),
            disable_failing_after: "5d".to_owned(),
            retention: "30d".to_owned(),
            payload_retention: None,
            max_database_size: None,
        }
    }
}

impl Config {
    /// The SSRF guard, with the allowed networks parsed.
    pub fn guard(&self) -> anyhow::Result<Guard> {
        let policy = match &self.allow_networks {
            Some(list) => NetworkPolicy::parse(list)
                .map_err(|e| anyhow::anyhow!("HOOKRELAY_ALLOW_NETWORKS: {e}"))?,
            None => NetworkPolicy::default(),
        };
        Ok(Guard::new(policy, self.https_only))
    }

    /// The circuit breaker's settings.
    pub fn circuit(&self) -> anyhow::Result<CircuitPolicy> {
        anyhow::ensure!(
            self.circuit_threshold >= 1,
            "HOOKRELAY_CIRCUIT_THRESHOLD: at least 1 failure must open a circuit"
        );
        let cooldown = humantime::parse_duration(&self.circuit_cooldown)
            .map_err(|e| anyhow::anyhow!("HOOKRELAY_CIRCUIT_COOLDOWN: {e} (e.g. 30s)"))?;
        let disable_after = match self.disable_failing_after.trim() {
            "off" | "never" => None,
            text => Some(humantime::parse_duration(text).map_err(|e| {
                anyhow::anyhow!("HOOKRELAY_DISABLE_FAILING_AFTER: {e} (e.g. 5d, or off)")
            })?),
        };
        Ok(CircuitPolicy {
            threshold: self.circuit_threshold,
            cooldown,
            disable_after,
        })
    }

    /// How long history and payloads are kept.
    pub fn retention(&self) -> anyhow::Result<RetentionPolicy> {
        let history = match self.retention.trim() {
            "off" | "never" => None,
            text => Some(humantime::parse_duration(text).map_err(|e| {
                anyhow::anyhow!("HOOKRELAY_RETENTION: {e} (e.g. 30d, 12h, or off)")
            })?),
        };
        let payload = self
            .payload_retention
            .as_deref()
            .map(|text| {
                humantime::parse_duration(text.trim())
                    .map_err(|e| anyhow::anyhow!("HOOKRELAY_PAYLOAD_RETENTION: {e} (e.g. 7d, 12h)"))
            })
            .transpose()?;
        if let (Some(history), Some(payload)) = (history, payload) {
            anyhow::ensure!(
                payload < history,
                "HOOKRELAY_PAYLOAD_RETENTION ({}) must be shorter than HOOKRELAY_RETENTION ({}): payloads go with their history anyway",
                self.payload_retention.as_deref().unwrap_or_default(),
                self.retention
            );
        }
        for (name, period) in [("RETENTION", history), ("PAYLOAD_RETENTION", payload)] {
            anyhow::ensure!(
                period.is_none_or(|p| p >= Duration::from_secs(1)),
                "HOOKRELAY_{name}: at least 1s"
            );
        }
        Ok(RetentionPolicy { history, payload })
    }

    /// The SQLite database's size limit in bytes, if one is set.
    pub fn max_database_size(&self) -> anyhow::Result<Option<u64>> {
        let Some(text) = self.max_database_size.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let size: bytesize::ByteSize = text
            .parse()
            .map_err(|e| anyhow::anyhow!("HOOKRELAY_MAX_DATABASE_SIZE: {e} (e.g. 10GB, 512MiB)"))?;
        anyhow::ensure!(
            size.as_u64() >= 1024 * 1024,
            "HOOKRELAY_MAX_DATABASE_SIZE: at least 1MiB"
        );
        Ok(Some(size.as_u64()))
    }

    /// The dispatcher's settings, with the retry schedule parsed.
    pub fn dispatch(&self) -> anyhow::Result<DispatchConfig> {
        let retry = match &self.retry_schedule {
            Some(s) => RetrySchedule::parse(s)
                .map_err(|e| anyhow::anyhow!("HOOKRELAY_RETRY_SCHEDULE: {e}"))?,
            None => RetrySchedule::default(),
        };
        Ok(DispatchConfig {
            retry,
            default_timeout: Duration::from_millis(self.attempt_timeout_ms.max(1)),
            max_in_flight: self.max_in_flight,
            max_in_flight_per_endpoint: self.max_in_flight_per_endpoint,
            guard: self.guard()?,
            circuit: self.circuit()?,
            extra_roots: match &self.extra_root_certs {
                Some(path) => crate::dispatch::client::read_extra_roots(path)?,
                None => Vec::new(),
            },
            poll_interval: Duration::from_millis(self.poll_interval_ms.max(10)),
        })
    }
}
