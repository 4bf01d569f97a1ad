//! The benchmark's figures.

use std::time::Duration;

pub struct Report {
    /// What the server ran on, e.g. `SQLite, WAL, synchronous=FULL`.
    pub backend: String,
    pub events: u64,
    pub endpoints: usize,
    pub concurrency: usize,
    pub rate: Option<u64>,
    pub accepted: u64,
    pub rejected: u64,
    pub accept_elapsed: Duration,
    pub delivered: u64,
    pub e2e_elapsed: Duration,
    pub latencies_us: Vec<u64>,
    pub publish_latencies_us: Vec<u64>,
    pub peak_rss_kib: Option<u64>,
    pub complete: bool,
    pub write_stats: Option<hookrelay_store::model::WriteStats>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

impl Report {
    pub fn print(mut self) {
        self.latencies_us.sort_unstable();
        self.publish_latencies_us.sort_unstable();
        let secs = |d: Duration| d.as_secs_f64().max(1e-9);
        println!("hookrelay bench ({})", self.backend);
        println!(
            "  load:                {} events x {} endpoint(s), {} publishers, {}",
            self.events,
            self.endpoints,
            self.concurrency,
            self.rate
                .map_or("as fast as possible".to_owned(), |r| format!(
                    "steady {r} events/s"
                ))
        );
        println!(
            "  accepted:            {} (rejected {})",
            self.accepted, self.rejected
        );
        println!(
            "  accept rate:         {:.0} events/s ({:.2} s)",
            self.accepted as f64 / secs(self.accept_elapsed),
            secs(self.accept_elapsed)
        );
        println!(
            "  delivered:           {} of {}{}",
            self.delivered,
            self.events * self.endpoints as u64,
            if self.complete { "" } else { " (INCOMPLETE)" }
        );
        println!(
            "  end-to-end:          {:.0} deliveries/s ({:.2} s)",
            self.delivered as f64 / secs(self.e2e_elapsed),
            secs(self.e2e_elapsed)
        );
        for (name, v) in [
            ("publish→receipt", &self.latencies_us),
            ("publish (202) call", &self.publish_latencies_us),
        ] {
            println!(
                "  {name:<20} p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                percentile(v, 50.0),
                percentile(v, 90.0),
                percentile(v, 99.0),
                percentile(v, 100.0)
            );
        }
        if let Some(w) = self.write_stats {
            println!(
                "  group commit:        {} writes (publishes + attempt results) in {} committed transactions, {:.1} per commit",
                w.writes,
                w.transactions,
                w.writes as f64 / w.transactions.max(1) as f64
            );
        }
        match self.peak_rss_kib {
            Some(kib) => println!(
                "  peak RSS:            {:.1} MiB (whole process: server, publishers and receiver)",
                kib as f64 / 1024.0
            ),
            None => println!("  peak RSS:            unavailable on this platform"),
        }
    }
}

/// Peak resident set size of this process (`VmHWM`), Linux only.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
