//! Commands and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::client::{
    endpoints, event_types, login, logs, openapi, resend, send, subscriptions, tokens,
};

/// Hookrelay: send and receive webhooks, signed, retried, never lost.
///
/// The client commands (login, event-types, endpoints, subscriptions, send, events,
/// deliveries, tail, retry, recover, tokens, openapi) talk to a running server: --server
/// or HOOKRELAY_URL (default http://127.0.0.1:8080), --token or HOOKRELAY_TOKEN, else
/// what `hookrelay login` saved.
///
/// Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.
#[derive(Parser)]
#[command(name = "hookrelay", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the API and the dispatcher.
    ///
    /// Example: hookrelay serve --listen 127.0.0.1:8080 --database-url sqlite://hookrelay.db
    Serve(Box<ServeArgs>),
    /// Measure accept rate, end-to-end deliveries/s and latency on this machine.
    ///
    /// Example: hookrelay bench --events 50000 --concurrency 64
    Bench(BenchArgs),
    /// A local receiver for development: prints each webhook and checks its signature.
    ///
    /// Example: hookrelay listen --port 9000 --secret whsec_... --forward-to http://127.0.0.1:3000/webhooks
    Listen(ListenArgs),
    /// Re-encrypt every stored secret under a new master key (stop the server first).
    ///
    /// With the default key file (hookrelay.db.key) a new key is generated and replaces it.
    /// With HOOKRELAY_MASTER_KEY, pass the new key and set the variable to it afterwards:
    ///
    /// Example: hookrelay rotate-master-key --new-key "$(openssl rand -base64 32)"
    RotateMasterKey(RotateKeyArgs),
    /// Apply the database migrations and exit (for deployments that start with
    /// --no-migrate, so only one step ever changes the schema).
    ///
    /// Example: hookrelay migrate --database-url postgres://hookrelay@db/hookrelay
    Migrate(MigrateArgs),
    /// Save the server URL and token for the other commands (mode 0600, in
    /// $XDG_CONFIG_HOME/hookrelay/config.toml or ~/.config/hookrelay/config.toml).
    ///
    /// Example: hookrelay login --server http://127.0.0.1:8080 --token hr_...
    Login(login::LoginArgs),
    /// The event type registry: sync it from a YAML file, list it.
    ///
    /// Example: hookrelay event-types sync webhook_events.yaml
    EventTypes(event_types::EventTypesArgs),
    /// A scope's endpoints: apply a YAML list, list them, show a signing secret.
    ///
    /// Example: hookrelay endpoints apply biz:biz1 endpoints.yaml
    Endpoints(endpoints::EndpointsArgs),
    /// A scope's subscriptions: apply a YAML map of endpoint to event patterns, show them.
    ///
    /// Example: hookrelay subscriptions apply biz:biz1 subscriptions.yaml
    Subscriptions(subscriptions::SubscriptionsArgs),
    /// Publish an event and print its id; --wait follows its deliveries to the end.
    ///
    /// Example: hookrelay send order.paid --scope biz:biz1 --data '{"amount":42}' --wait
    Send(send::SendArgs),
    /// The event log, newest first.
    ///
    /// Example: hookrelay events --scope biz:biz1 --type order.paid
    Events(logs::EventsArgs),
    /// The delivery log, newest first.
    ///
    /// Example: hookrelay deliveries --status failed --json
    Deliveries(logs::DeliveriesArgs),
    /// Follow the delivery log live: new deliveries and status changes (Ctrl-C stops).
    ///
    /// Example: hookrelay tail --scope biz:biz1
    Tail(logs::TailArgs),
    /// Send one delivery again, now.
    ///
    /// Example: hookrelay retry dlv_...
    Retry(resend::RetryArgs),
    /// Re-queue an endpoint's failed deliveries since a time.
    ///
    /// Example: hookrelay recover biz:biz1 webhook1 --since 2h --wait
    Recover(resend::RecoverArgs),
    /// API tokens limited to some scopes.
    ///
    /// Example: hookrelay tokens create --scope tenant-42 --name ci
    Tokens(tokens::TokensArgs),
    /// Print the server's OpenAPI document.
    ///
    /// Example: hookrelay openapi > openapi.json
    Openapi(openapi::OpenapiArgs),
    /// Check a captured webhook's signature and say which part failed (exit 0 valid, 1 not).
    ///
    /// Example: hookrelay verify --secret whsec_... -H 'webhook-id: evt_...' -H 'webhook-timestamp: 1795000000' -H 'webhook-signature: v1,...' < body.json
    Verify(crate::verify::VerifyArgs),
    /// Print a shell completion script.
    ///
    /// Example: hookrelay completions bash > ~/.local/share/bash-completion/completions/hookrelay
    Completions(CompletionsArgs),
}

/// Flags of `completions`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// sqlite://file.db or postgres://… [default: HOOKRELAY_DATABASE_URL, else sqlite://hookrelay.db].
    #[arg(long, value_name = "URL", env = "HOOKRELAY_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL: the schema for Hookrelay's tables.
    #[arg(long, value_name = "NAME", env = "HOOKRELAY_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
}

/// `--no-migrate` given → `migrate = false`.
fn negate<S: serde::Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(!value)
}

/// Flags of `rotate-master-key`.
#[derive(Args)]
pub struct RotateKeyArgs {
    /// A TOML file with the serve keys (default: ./hookrelay.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// sqlite://file.db, sqlite:///abs/path.db or postgres://… (stop every process on it
    /// first) [default: sqlite://hookrelay.db].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The new key, base64 of 32 bytes [default: a fresh random key].
    #[arg(long, value_name = "BASE64")]
    pub new_key: Option<String>,
}

/// Flags of `listen`.
#[derive(Args)]
pub struct ListenArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// The endpoint's signing secret (whsec_…), or its public key (whpk_…) for an ed25519
    /// endpoint; each webhook's signature is checked against it.
    #[arg(long, value_name = "WHSEC")]
    pub secret: Option<String>,
    /// The status to answer with [default: 204, or with --forward-to the application's].
    #[arg(long)]
    pub status: Option<u16>,
    /// Forward each webhook (method, headers, body) to this URL, e.g. your application's
    /// handler, and print its answer.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
}

/// Flags of `serve`; each also comes from `hookrelay.toml` or `HOOKRELAY_<NAME>`.
/// Flags win over the environment, which wins over the file.
#[derive(Args, Serialize, Default)]
pub struct ServeArgs {
    /// A TOML file with the same keys (default: ./hookrelay.toml when present).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    #[serde(skip)]
    pub log_format: String,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, RSA or EC) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// sqlite://file.db, sqlite:///abs/path.db, or postgres://user@host/db to share one
    /// database between processes [default: sqlite://hookrelay.db].
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// PostgreSQL: the schema for Hookrelay's tables, created if missing.
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_schema: Option<String>,
    /// PostgreSQL: connections in the pool [default: 16].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_pool_size: Option<u32>,
    /// PostgreSQL: the longest a statement may run, in ms [default: 30000].
    #[arg(long, value_name = "MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_statement_timeout_ms: Option<u64>,
    /// Do not apply migrations at start (run `hookrelay migrate` instead).
    #[arg(long)]
    #[serde(
        skip_serializing_if = "std::ops::Not::not",
        rename = "migrate",
        serialize_with = "negate"
    )]
    pub no_migrate: bool,
    /// all (API and deliveries), api (accepts and writes only) or worker (delivers only;
    /// serves /health); api and worker need PostgreSQL [default: all].
    #[arg(long, value_name = "ROLE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<hookrelay_server::Role>,
    /// How often the dispatcher looks for due deliveries when nothing woke it (a commit
    /// with new work, one of its own retries), in ms; both backends [default: 1000].
    #[arg(long, value_name = "MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    /// The admin token; when unset the first start creates one and prints it once.
    #[arg(long, value_name = "TOKEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    /// Base64 of the 32-byte key that encrypts secrets at rest [default: a key file next
    /// to the database, created on the first start].
    #[arg(long, value_name = "BASE64")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
    /// CIDRs exempt from the SSRF guard, e.g. 127.0.0.0/8 for a receiver on this machine.
    #[arg(long, value_name = "CIDRS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_networks: Option<String>,
    /// Refuse http:// endpoints (only https://).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub https_only: bool,
    /// A PEM bundle of extra root certificates trusted for deliveries, for receivers
    /// behind a private CA (the bundled web PKI roots stay trusted).
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_root_certs: Option<PathBuf>,
    /// Delays between attempts, e.g. 5s,5m,30m [default: 5s,5m,30m,2h,5h,10h,14h,20h,24h].
    #[arg(long, value_name = "LIST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_schedule: Option<String>,
    /// Remove finished history (events, deliveries, attempts, inbound requests) older
    /// than this, e.g. 90d, 12h; off keeps it for ever [default: 30d].
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// Drop payloads (event data, response bodies, inbound bodies) older than this while
    /// keeping their rows; shorter than --retention.
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_retention: Option<String>,
    /// The most disk the SQLite database may use, e.g. 10GB, 512MiB: beyond it publishes
    /// get 507 while accepted deliveries go on [default: the disk is the limit].
    #[arg(long, value_name = "SIZE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_database_size: Option<String>,
    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_payload_bytes: Option<usize>,
    /// Per-attempt timeout for endpoints that set none, in ms [default: 15000].
    #[arg(long, value_name = "MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_timeout_ms: Option<u64>,
}

/// Flags of `bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Events to publish.
    #[arg(long, default_value_t = 20_000)]
    pub events: u64,
    /// Concurrent keep-alive publishers.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Publish at this steady rate (events/s) instead of as fast as possible.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Endpoints subscribed to the event type (each event is delivered to each).
    #[arg(long, default_value_t = 1)]
    pub endpoints: usize,
    /// Bytes of padding in each event's data.
    #[arg(long, default_value_t = 256)]
    pub payload_bytes: usize,
    /// Run on this PostgreSQL database (a fresh schema, dropped afterwards) instead of
    /// a temporary SQLite file, e.g. postgres://postgres@127.0.0.1:5432/test.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// With --database-url: deliver from this many separate `hookrelay serve --role
    /// worker` processes, the benchmark's own server only accepting (--role api).
    #[arg(long, default_value_t = 0, requires = "database_url")]
    pub workers: usize,
    /// Measure a backlog instead of throughput: the endpoints point at a port where
    /// nothing listens (every attempt is refused), the events are published, and after
    /// `--settle-secs` the pending deliveries, the peak RSS and the database's size are
    /// printed.
    #[arg(long)]
    pub backlog: bool,
    /// With --backlog: how long to keep the server running after the last publish.
    #[arg(long, default_value_t = 10, requires = "backlog")]
    pub settle_secs: u64,
    /// Subscribe two unhealthy endpoints to the same events beside the healthy ones:
    /// one refusing connections, one that accepts and never answers. The figures stay
    /// the healthy endpoints' (compare a run without the flag).
    #[arg(long)]
    pub unhealthy: bool,
    /// With --rate: publish for this long (e.g. 10m) instead of --events events.
    #[arg(long, value_name = "DURATION", requires = "rate", value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// The server's HOOKRELAY_RETENTION for the run, e.g. 2m (a soak test's short one)
    /// [default: the server's, 30d].
    #[arg(long, value_name = "DURATION")]
    pub retention: Option<String>,
    /// Print the process's RSS, the database's and WAL's size and the pending
    /// deliveries every this many seconds (0: only the final figures).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub sample_secs: u64,
}
