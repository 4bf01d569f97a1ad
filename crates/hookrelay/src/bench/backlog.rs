//! `hookrelay bench --backlog`: what a backlog costs. Every endpoint points at a port
//! where nothing listens, so every attempt is refused and every delivery stays
//! pending; the figures say whether memory follows the backlog (it must not: the table
//! is the queue) and how much disk it takes.

use std::path::Path;
use std::time::Duration;

use hookrelay_store::Store;

use super::load::Published;
use super::report::peak_rss_kib;
use crate::cli::BenchArgs;

/// A loopback port where nothing listens (the discard port), so connections are refused
/// at once.
pub const UNREACHABLE: &str = "http://127.0.0.1:9/";

/// Lets the dispatcher work on the backlog for `--settle-secs` (the peak RSS is the
/// kernel's high-water mark, so nothing needs sampling), then prints the figures.
pub async fn report(
    store: &dyn Store,
    published: &Published,
    accept_elapsed: Duration,
    args: &BenchArgs,
    dir: &Path,
) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let pending = store.pending_stats().await?.count;
    println!("hookrelay bench --backlog");
    println!(
        "  load:                {} events x {} endpoint(s) at {UNREACHABLE} (refused), {} publishers",
        args.events, args.endpoints, args.concurrency
    );
    println!(
        "  accepted:            {} (rejected {}) in {:.1} s, {:.0} events/s",
        published.accepted,
        published.rejected,
        accept_elapsed.as_secs_f64(),
        published.accepted as f64 / accept_elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "  pending deliveries:  {pending} after {} s",
        args.settle_secs
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "  peak RSS:            {:.1} MiB (the whole benchmark: server, publishers)",
            kib as f64 / 1024.0
        );
    }
    if args.database_url.is_none() {
        let size = |name: &str| {
            std::fs::metadata(dir.join(name)).map_or(0.0, |m| m.len() as f64 / 1048576.0)
        };
        println!(
            "  database:            {:.1} MiB, WAL {:.1} MiB",
            size("bench.db"),
            size("bench.db-wal")
        );
    }
    Ok(())
}
