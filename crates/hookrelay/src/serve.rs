//! `hookrelay serve`.

use hookrelay_server::Server;
use hookrelay_server::master_key::KeyOrigin;
use tracing_subscriber::EnvFilter;

use crate::cli::ServeArgs;

/// Starts logging, builds the server, prints a created admin token once, and serves
/// until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format)?;
    let shutdown = shutdown_signal()?;
    let config = crate::settings::load(&args)?;
    let (database, role) = (
        hookrelay_server::startup::redact_url(&config.database_url),
        config.role,
    );
    let server = Server::build(config).await?;
    if let Some(token) = &server.created_admin_token {
        // Printed once on stdout; only its hash is stored.
        println!("admin token: {token}");
    }
    if let KeyOrigin::File {
        path,
        created: true,
    } = &server.key_origin
    {
        tracing::warn!(
            path = %path.display(),
            "created a master key file (mode 0600) that encrypts stored secrets: back it up with the database; without it the secrets cannot be read"
        );
    }
    let addr = server.local_addr()?;
    let scheme = server.scheme();
    tracing::info!(address = %addr, database = %database, %role, recovered = server.recovered, "hookrelay listening on {scheme}://{addr}");
    server.run_until_stopped(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        "json" => builder.json().init(),
        "text" => builder.init(),
        other => anyhow::bail!("unknown log format {other:?}: use text or json"),
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled, so a signal that arrives during start-up is not lost
/// to the default action (which would kill the process without draining).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT received; shutting down"),
                _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received; shutting down");
        })
    }
}
