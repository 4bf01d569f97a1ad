//! The benchmark's publishers: `--concurrency` tasks sharing a keep-alive client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::now_us;
use crate::cli::BenchArgs;

pub struct Published {
    pub accepted: u64,
    pub rejected: u64,
    pub latencies_us: Vec<u64>,
}

pub async fn publish_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    args: &BenchArgs,
) -> anyhow::Result<Published> {
    let next = Arc::new(AtomicU64::new(0));
    let padding: String = "x".repeat(args.payload_bytes);
    let url = format!("{base}/api/v1/events");
    let auth = format!("Bearer {token}");
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let (client, next, url, auth, padding) = (
            client.clone(),
            next.clone(),
            url.clone(),
            auth.clone(),
            padding.clone(),
        );
        let (total, rate) = (args.events, args.rate);
        tasks.push(tokio::spawn(async move {
            let mut out = Published {
                accepted: 0,
                rejected: 0,
                latencies_us: Vec::new(),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                if let Some(rate) = rate {
                    // Event i leaves at start + i/rate: a steady, open-loop arrival rate.
                    let at = started + Duration::from_secs_f64(i as f64 / rate as f64);
                    tokio::time::sleep_until(at.into()).await;
                }
                let t0 = now_us();
                let body = format!(
                    "{{\"type\":\"bench.event\",\"scopes\":[\"bench\"],\"data\":{{\"n\":{i},\"sent_us\":{t0},\"pad\":\"{padding}\"}}}}"
                );
                let ok = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::ACCEPTED);
                out.latencies_us.push(now_us().saturating_sub(t0));
                if ok {
                    out.accepted += 1;
                } else {
                    out.rejected += 1;
                }
            }
            out
        }));
    }
    let mut total = Published {
        accepted: 0,
        rejected: 0,
        latencies_us: Vec::new(),
    };
    for task in tasks {
        let part = task.await.context("publisher task")?;
        total.accepted += part.accepted;
        total.rejected += part.rejected;
        total.latencies_us.extend(part.latencies_us);
    }
    Ok(total)
}
