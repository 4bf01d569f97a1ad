//! The work signal: every transaction that creates or re-queues due work sends a
//! notification on the schema's channel (delivered at its commit), and a background
//! task of every store listens on it and wakes that process's dispatcher. Workers also
//! poll, so a lost notification only delays work; after a lost listening connection is
//! back the signal is raised once, since notifications may have been missed meanwhile.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::StoreResult;

/// The first wait before listening again after a failure; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The channel of a schema: processes sharing a schema share the work, processes on
/// other schemas of the same database are not woken by it.
pub(crate) fn channel(schema: Option<&str>) -> String {
    match schema {
        Some(schema) => format!("hookrelay_work_{schema}"),
        None => "hookrelay_work".to_owned(),
    }
}

/// The `application_name` of a store's listening connection.
pub(crate) fn application_name(channel: &str) -> String {
    format!("hookrelay listen {channel}")
}

/// Queues a notification on `channel`, sent when the surrounding transaction commits
/// (several in one transaction are sent once).
pub(crate) async fn notify(conn: &mut PgConnection, channel: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts the listening task on a connection of its own; it runs until aborted.
pub(crate) fn spawn(
    connect: PgConnectOptions,
    channel: String,
    signal: Arc<Notify>,
) -> JoinHandle<()> {
    // A pool of one, which `PgListener` uses to reconnect. Named, so an operator (or a
    // test) can tell the listening connection in `pg_stat_activity`.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(connect.application_name(&application_name(&channel)));
    tokio::spawn(async move {
        let mut backoff = MIN_BACKOFF;
        loop {
            match listen(&pool, &channel).await {
                Ok(mut listener) => {
                    backoff = MIN_BACKOFF;
                    // Whatever was sent while nobody listened is in the table.
                    signal.notify_one();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => signal.notify_one(),
                            // The connection was lost and is back (reconnected eagerly).
                            Ok(None) => signal.notify_one(),
                            Err(e) => {
                                tracing::warn!(error = %e, channel, "listening for new work failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, channel, "cannot listen for new work; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    })
}

async fn listen(pool: &sqlx::PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}
