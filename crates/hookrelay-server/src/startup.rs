//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookrelay_store::crypto::MasterKey;
use hookrelay_store::postgres::{PgOptions, PgStore};
use hookrelay_store::sqlite::SqliteStore;
use hookrelay_store::{Store, StoreError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppState};
use crate::auth::{TokenCache, generate_token, hash_token};
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::inbound::client::TrustedProxies;
use crate::master_key::{self, KeyOrigin};
use crate::metrics::Metrics;

/// A built server, bound and ready to run.
pub struct Server {
    listener: TcpListener,
    /// Set when the server terminates TLS itself.
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
    /// Absent in an API-only process.
    dispatcher: Option<Dispatcher>,
    cancel: CancellationToken,
    store: Arc<dyn Store>,
    /// The admin token created by this start (print it once), if one was created.
    pub created_admin_token: Option<String>,
    /// Pending deliveries found at start-up.
    pub recovered: usize,
    /// Where the master key came from (say so when this start created a key file).
    pub key_origin: KeyOrigin,
}

/// Opens the SQLite store at `url` with the master key found by
/// [`master_key::resolve`]. Finishes a key rotation that was interrupted between
/// re-sealing the database and renaming the new key file, and removes a key file this
/// start created if the database turns out to be sealed with another key.
pub async fn open_sqlite(
    url: &str,
    configured_key: Option<&str>,
) -> anyhow::Result<(SqliteStore, KeyOrigin)> {
    let resolved = master_key::resolve(configured_key, url)?;
    let opened = SqliteStore::open(url, master_key::cipher(&resolved.key)).await;
    match (opened, &resolved.origin) {
        (Ok(store), _) => Ok((store, resolved.origin)),
        (Err(StoreError::WrongMasterKey(_)), KeyOrigin::File { path, created }) => {
            let pending = master_key::pending_key_file(path);
            if let Some(new_key) = master_key::read_key_file(&pending)? {
                let store = SqliteStore::open(url, master_key::cipher(&new_key))
                    .await
                    .with_context(|| format!("cannot open the database {url}"))?;
                master_key::replace_key_file(&pending, path)?;
                tracing::info!(path = %path.display(), "finished an interrupted master key rotation");
                return Ok((store, resolved.origin));
            }
            if *created {
                // Leave no stray key beside a database it does not open.
                let _ = std::fs::remove_file(path);
                anyhow::bail!(
                    "the database {url} holds credentials sealed with a master key, and its key file {} is missing: restore it or set HOOKRELAY_MASTER_KEY",
                    path.display()
                );
            }
            Err(StoreError::WrongMasterKey("this database"))
                .with_context(|| format!("the key file {} does not open {url}", path.display()))
        }
        (Err(e), _) => Err(e).with_context(|| format!("cannot open the database {url}")),
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the PostgreSQL store the configuration names. Several processes share it, so
/// the master key must be configured (there is no key file to find).
pub async fn open_postgres(config: &Config) -> anyhow::Result<PgStore> {
    let text = config
        .master_key
        .as_deref()
        .filter(|k| !k.trim().is_empty())
        .context(
            "HOOKRELAY_MASTER_KEY must be set with a PostgreSQL database (the same key in every process), e.g. HOOKRELAY_MASTER_KEY=$(openssl rand -base64 32)",
        )?;
    let key = MasterKey::parse(text).map_err(|e| anyhow::anyhow!("HOOKRELAY_MASTER_KEY: {e}"))?;
    let options = PgOptions {
        max_connections: config.database_pool_size,
        statement_timeout_ms: config.database_statement_timeout_ms,
        schema: config.database_schema.clone(),
        migrate: config.migrate,
    };
    PgStore::open(&config.database_url, master_key::cipher(&key), options)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                redact_url(&config.database_url)
            )
        })
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Opens the store named by the configuration's database URL.
pub async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, KeyOrigin)> {
    let url = &config.database_url;
    let max_size = config.max_database_size()?;
    if url.starts_with("sqlite:") {
        if !config.migrate {
            // One process owns the file, so there is no deployment step to leave the
            // schema to: say so rather than let the setting look honoured.
            tracing::warn!(
                "HOOKRELAY_MIGRATE=false applies to PostgreSQL only; SQLite applies its migrations at start"
            );
        }
        let (store, origin) = open_sqlite(url, config.master_key.as_deref()).await?;
        if let Some(bytes) = max_size {
            store
                .limit_size(bytes)
                .await
                .context("cannot apply HOOKRELAY_MAX_DATABASE_SIZE")?;
        }
        Ok((Arc::new(store), origin))
    } else if is_postgres(url) {
        anyhow::ensure!(
            max_size.is_none(),
            "HOOKRELAY_MAX_DATABASE_SIZE limits a SQLite file; a PostgreSQL database's size is the server's to limit (publishes get 507 when its disk is full)"
        );
        Ok((
            Arc::new(open_postgres(config).await?),
            KeyOrigin::Configured,
        ))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://file.db or postgres://…")
    }
}

/// Applies the migrations of the database the configuration names; says what it did.
pub async fn migrate(config: &Config) -> anyhow::Result<String> {
    let url = &config.database_url;
    if url.starts_with("sqlite:") {
        // Opening a SQLite store applies its migrations (and creates the key file).
        let (store, _) = open_sqlite(url, config.master_key.as_deref()).await?;
        store.close().await;
        Ok(format!("{url}: the schema is up to date"))
    } else if is_postgres(url) {
        let applied = PgStore::migrate(url, config.database_schema.as_deref())
            .await
            .with_context(|| format!("cannot migrate the database {}", redact_url(url)))?;
        Ok(format!(
            "{}: {applied} migration(s) applied; the schema is up to date",
            redact_url(url)
        ))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://file.db or postgres://…")
    }
}

impl Server {
    /// Opens the store, ensures an admin token, binds the listener and starts the
    /// dispatcher (recovering pending deliveries first).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Settings and files are checked before the store is touched, so a bad one
        // leaves nothing behind (such as an admin token that was never printed).
        let dispatch_config = config.dispatch()?;
        let retention = config.retention()?;
        if config.role != crate::Role::All && config.database_url.starts_with("sqlite:") {
            anyhow::bail!(
                "--role {} needs PostgreSQL (HOOKRELAY_DATABASE_URL=postgres://…): a SQLite database belongs to one process, which must run with --role all",
                config.role
            );
        }
        let trusted_proxies = match &config.trusted_proxies {
            Some(list) => TrustedProxies::parse(list)
                .map_err(|e| anyhow::anyhow!("HOOKRELAY_TRUSTED_PROXIES: {e}"))?,
            None => TrustedProxies::default(),
        };
        let tls = crate::tls::from_settings(config.tls_cert.as_deref(), config.tls_key.as_deref())?;
        let guard = dispatch_config.guard.clone();
        let (store, key_origin) = open_store(&config).await?;
        for def in hookrelay_core::operational::builtin_types() {
            store
                .put_event_type(def)
                .await
                .context("cannot register the operational event types")?;
        }

        let (admin_hash, created_admin_token) = match &config.admin_token {
            Some(token) if !token.is_empty() => (Some(hash_token(token)), None),
            _ if store.has_admin_token().await? => (None, None),
            _ => {
                let token = generate_token();
                store
                    .create_token("admin", &hash_token(&token), None)
                    .await
                    .context("cannot store the admin token")?;
                (None, Some(token))
            }
        };

        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;

        let cancel = CancellationToken::new();
        let metrics = Metrics::new()?;
        let (dispatcher, recovered) = if config.role.delivers() {
            let dispatcher = Dispatcher::new(
                Arc::clone(&store),
                dispatch_config,
                metrics.clone(),
                cancel.clone(),
            )?;
            let recovered = dispatcher
                .start(store.take_job_feed())
                .await
                .context("cannot load pending deliveries")?;
            (Some(dispatcher), recovered)
        } else {
            (None, 0)
        };

        let state = AppState(Arc::new(App {
            store: Arc::clone(&store),
            dispatcher: dispatcher.clone(),
            config,
            admin_hash,
            tokens: TokenCache::default(),
            registry: Default::default(),
            guard,
            trusted_proxies,
            metrics: metrics.clone(),
            ui_sessions: Default::default(),
        }));
        // Last, so a start that fails leaves no task behind.
        metrics.spawn_upkeep(cancel.clone());
        if state.config().role.delivers() {
            // One pruner per delivering process (API-only processes leave it to them).
            tokio::spawn(crate::retention::run(
                Arc::clone(&store),
                retention,
                cancel.clone(),
            ));
        }
        Ok(Self {
            listener,
            tls,
            state,
            dispatcher,
            cancel,
            store,
            created_admin_token,
            recovered,
            key_origin,
        })
    }

    /// The store (for tools that report on it, such as the benchmark).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The bound address (tests bind port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// `https` when the server terminates TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves until `shutdown` resolves, then stops taking work, lets attempts in flight
    /// finish within the configured deadline, and closes the store.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let deadline = Duration::from_millis(self.state.config().shutdown_timeout_ms);
        let router = if self.state.config().role.serves_api() {
            crate::http::router::router(self.state.clone())
        } else {
            crate::http::router::worker_router(self.state.clone())
        };
        let cancel = self.cancel.clone();
        let stopping = async move {
            shutdown.await;
            cancel.cancel();
        };
        let limits = crate::serve_conn::Limits {
            header_read_timeout: Duration::from_millis(
                self.state.config().header_read_timeout_ms.max(1),
            ),
            max_connections: self.state.config().max_connections.max(1),
        };
        // The same loop and graceful shutdown either way (`serve_conn.rs`).
        let served = match self.tls {
            Some(tls) => match crate::tls::TlsListener::new(self.listener, tls) {
                Ok(listener) => {
                    crate::serve_conn::serve(listener, router, limits, stopping).await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            None => {
                crate::serve_conn::serve(self.listener, router, limits, stopping).await;
                Ok(())
            }
        };
        // Whatever ended serving, deliveries in flight are drained and the store closed.
        self.cancel.cancel();
        if let Some(dispatcher) = &self.dispatcher
            && !dispatcher.drain(deadline).await
        {
            tracing::warn!(
                deadline_ms = deadline.as_millis() as u64,
                "attempts still in flight at the shutdown deadline; they stay pending and are sent after restart"
            );
        }
        self.store.close().await;
        served.context("the HTTP server failed")
    }
}
