//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookrelay_store::Store;
use hookrelay_store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppState};
use crate::auth::{TokenCache, generate_token, hash_token};
use crate::config::Config;
use crate::dispatch::Dispatcher;

/// A built server, bound and ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    dispatcher: Dispatcher,
    cancel: CancellationToken,
    store: Arc<dyn Store>,
    /// The admin token created by this start (print it once), if one was created.
    pub created_admin_token: Option<String>,
    /// Pending deliveries found at start-up.
    pub recovered: usize,
}

/// Opens the store named by a database URL.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url)
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://file.db")
    }
}

impl Server {
    /// Opens the store, ensures an admin token, binds the listener and starts the
    /// dispatcher (recovering pending deliveries first).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let dispatch_config = config.dispatch()?;
        let guard = dispatch_config.guard.clone();
        let store = open_store(&config.database_url).await?;

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
        let dispatcher = Dispatcher::new(Arc::clone(&store), dispatch_config, cancel.clone())?;
        let recovered = dispatcher
            .start(store.take_job_feed())
            .await
            .context("cannot load pending deliveries")?;

        let state = AppState(Arc::new(App {
            store: Arc::clone(&store),
            dispatcher: Some(dispatcher.clone()),
            config,
            admin_hash,
            tokens: TokenCache::default(),
            registry: Default::default(),
            guard,
        }));
        Ok(Self {
            listener,
            state,
            dispatcher,
            cancel,
            store,
            created_admin_token,
            recovered,
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

    /// Serves until `shutdown` resolves, then stops taking work, lets attempts in flight
    /// finish within the configured deadline, and closes the store.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let deadline = Duration::from_millis(self.state.config().shutdown_timeout_ms);
        let router = crate::api::router(self.state.clone());
        let cancel = self.cancel.clone();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await
            .context("the HTTP server failed")?;
        self.cancel.cancel();
        if !self.dispatcher.drain(deadline).await {
            tracing::warn!(
                deadline_ms = deadline.as_millis() as u64,
                "attempts still in flight at the shutdown deadline; they stay pending and are sent after restart"
            );
        }
        self.store.close().await;
        Ok(())
    }
}
