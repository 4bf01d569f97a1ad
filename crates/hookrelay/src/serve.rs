//! `hookrelay serve`.

use hookrelay_server::Server;
use tracing_subscriber::EnvFilter;

use crate::cli::ServeArgs;

/// Starts logging, builds the server, prints a created admin token once, and serves
/// until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format)?;
    let config = crate::settings::load(&args)?;
    let database = config.database_url.clone();
    let server = Server::build(config).await?;
    if let Some(token) = &server.created_admin_token {
        // Printed once on stdout; only its hash is stored.
        println!("admin token: {token}");
    }
    let addr = server.local_addr()?;
    tracing::info!(address = %addr, database = %database, recovered = server.recovered, "hookrelay listening on http://{addr}");
    server.run_until_stopped(shutdown_signal()).await?;
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

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        _ = term => tracing::info!("SIGTERM received; shutting down"),
    }
}
