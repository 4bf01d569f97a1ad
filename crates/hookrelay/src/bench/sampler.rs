//! `--sample-secs N`: a line every N seconds with the process's resident memory, the
//! SQLite database's and WAL's size and the deliveries still pending, so a long run
//! (`--duration` with `--retention`) shows whether any of them keeps growing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookrelay_store::Store;

/// Prints samples until dropped.
pub struct Sampler {
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Samples every `every`; `database` is the SQLite file, if the run uses one.
    pub fn start(store: Arc<dyn Store>, database: Option<PathBuf>, every: Duration) -> Self {
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval_at((started + every).into(), every);
            println!("  t        RSS (MiB)  database (MiB)  WAL (MiB)  pending");
            loop {
                tick.tick().await;
                let size = |suffix: &str| {
                    database.as_ref().map_or(f64::NAN, |db| {
                        let mut path = db.clone().into_os_string();
                        path.push(suffix);
                        std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1048576.0)
                    })
                };
                let pending = store.pending_stats().await.map_or(-1, |p| p.count as i64);
                println!(
                    "  {:>5} s  {:>9.1}  {:>14.1}  {:>9.1}  {pending}",
                    started.elapsed().as_secs(),
                    rss_kib().map_or(f64::NAN, |k| k as f64 / 1024.0),
                    size(""),
                    size("-wal"),
                );
            }
        });
        Self { task }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// This process's resident set size now (`VmRSS`), Linux only.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
