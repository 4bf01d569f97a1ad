//! `hookrelay bench`: the whole pipeline on this machine, in one process.
//!
//! A receiver on 127.0.0.1, a server on a temporary SQLite database (durable commits:
//! WAL with synchronous=FULL) or on a fresh schema of a PostgreSQL database
//! (`--database-url`), one event type, `--endpoints` subscribed endpoints, and
//! `--concurrency` keep-alive publishers. Each event's data carries the time it was
//! published, so the receiver measures publish→receipt latency. With `--workers N` the
//! deliveries are made by N separate worker processes (see [`workers`]); with
//! `--unhealthy` two unhealthy endpoints share the events ([`neighbours`]); with
//! `--duration`, `--retention` and `--sample-secs` it is a soak test ([`sampler`]).

mod backlog;
mod load;
mod neighbours;
mod receiver;
mod report;
mod sampler;
mod workers;

use std::time::{Duration, Instant};

use anyhow::Context;
use hookrelay_server::{Config, Server};
use hookrelay_store::model::WriteStats;
use serde_json::json;

use crate::cli::BenchArgs;

const TOKEN: &str = "bench-admin-token";

/// Runs the benchmark and prints its figures.
pub async fn run(mut args: BenchArgs) -> anyhow::Result<()> {
    if let (Some(duration), Some(rate)) = (args.duration, args.rate) {
        args.events = (duration.as_secs_f64() * rate as f64).ceil() as u64;
    }
    anyhow::ensure!(args.events > 0, "--events must be at least 1");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.endpoints > 0, "--endpoints must be at least 1");
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let expected = args.events * args.endpoints as u64;
    let receiver = receiver::Receiver::start(expected).await?;

    let mut config = Config {
        listen: "127.0.0.1:0".to_owned(),
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        admin_token: Some(TOKEN.to_owned()),
        // The receiver listens on 127.0.0.1, which the SSRF guard refuses by default.
        allow_networks: Some("127.0.0.0/8".to_owned()),
        max_payload_bytes: 1024 * 1024,
        ..Config::default()
    };
    if let Some(retention) = &args.retention {
        config.retention = retention.clone();
    }
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
        config.database_schema = Some(format!("bench_{}", now_us()));
        config.master_key = Some(hookrelay_store::crypto::MasterKey::generate().to_base64());
        if args.workers > 0 {
            config.role = hookrelay_server::Role::Api;
        }
    }
    let server = Server::build(config.clone()).await?;
    // Started after the API process, which applied the migrations.
    let workers = workers::Workers::spawn(&config, args.workers, dir.path())?;
    let base = format!("http://{}", server.local_addr()?);
    let store = server.store();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until_stopped(async {
        let _ = stop_rx.await;
    }));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let target = if args.backlog {
        backlog::UNREACHABLE.to_owned()
    } else {
        receiver.url()
    };
    setup(&client, &base, &target, args.endpoints).await?;
    let hanging = if args.unhealthy {
        let hanging = neighbours::Hanging::start().await?;
        let auth = format!("Bearer {TOKEN}");
        neighbours::add(&client, &base, &auth, &hanging, args.endpoints).await?;
        Some(hanging)
    } else {
        None
    };
    let sampler = (args.sample_secs > 0).then(|| {
        let database = args
            .database_url
            .is_none()
            .then(|| dir.path().join("bench.db"));
        sampler::Sampler::start(
            std::sync::Arc::clone(&store),
            database,
            Duration::from_secs(args.sample_secs),
        )
    });

    eprintln!(
        "bench: {} events x {} endpoint(s){}, {} publishers{} ...",
        args.events,
        args.endpoints,
        if args.unhealthy {
            " + a dead and a hanging endpoint"
        } else {
            ""
        },
        args.concurrency,
        args.rate
            .map(|r| format!(", steady {r}/s"))
            .unwrap_or_default()
    );
    let setup_stats = store.write_stats().unwrap_or_default();
    let started = Instant::now();
    let published = load::publish_all(&client, &base, TOKEN, &args).await?;
    let accept_elapsed = started.elapsed();
    if args.backlog {
        backlog::report(&*store, &published, accept_elapsed, &args, dir.path()).await?;
        workers.stop();
        let _ = stop_tx.send(());
        serving.await.context("server task")??;
        if let Some(url) = &args.database_url {
            workers::drop_schema(url, config.database_schema.as_deref()).await;
        }
        return Ok(());
    }
    let all_received = receiver.wait_all(Duration::from_secs(300)).await;
    drop(sampler);
    let e2e_elapsed = receiver
        .last_receipt()
        .map_or(started.elapsed(), |t| t.duration_since(started));

    let mut backend = match (&args.database_url, args.workers) {
        (None, _) => "SQLite, WAL, synchronous=FULL".to_owned(),
        (Some(_), 0) => "PostgreSQL, one process".to_owned(),
        (Some(_), n) => format!("PostgreSQL, one API process and {n} worker process(es)"),
    };
    if args.unhealthy {
        backend.push_str("; a dead and a hanging endpoint beside the healthy ones, not counted");
    }
    if let Some(retention) = &args.retention {
        backend.push_str(&format!("; retention {retention}"));
    }
    let report = report::Report {
        backend,
        events: args.events,
        endpoints: args.endpoints,
        concurrency: args.concurrency,
        rate: args.rate,
        accepted: published.accepted,
        rejected: published.rejected,
        accept_elapsed,
        delivered: receiver.count(),
        e2e_elapsed,
        latencies_us: receiver.latencies(),
        publish_latencies_us: published.latencies_us,
        peak_rss_kib: report::peak_rss_kib(),
        write_stats: store.write_stats().map(|end| WriteStats {
            transactions: end.transactions - setup_stats.transactions,
            writes: end.writes - setup_stats.writes,
        }),
        complete: all_received,
    };
    report.print();
    drop(hanging);

    workers.stop();
    let _ = stop_tx.send(());
    serving.await.context("server task")??;
    if let Some(url) = &args.database_url {
        workers::drop_schema(url, config.database_schema.as_deref()).await;
    }
    anyhow::ensure!(all_received, "not every delivery arrived within 300 s");
    Ok(())
}

async fn setup(
    client: &reqwest::Client,
    base: &str,
    receiver_url: &str,
    endpoints: usize,
) -> anyhow::Result<()> {
    let auth = format!("Bearer {TOKEN}");
    client
        .put(format!("{base}/api/v1/event-types/bench.event"))
        .header("authorization", &auth)
        .json(&json!({ "name": "Bench event" }))
        .send()
        .await?
        .error_for_status()?;
    let list: Vec<_> = (0..endpoints)
        .map(|i| json!({ "code": format!("ep{i}"), "url": receiver_url }))
        .collect();
    client
        .put(format!("{base}/api/v1/scopes/bench/endpoints"))
        .header("authorization", &auth)
        .json(&list)
        .send()
        .await?
        .error_for_status()?;
    let subs: serde_json::Map<_, _> = (0..endpoints)
        .map(|i| (format!("ep{i}"), json!(["*"])))
        .collect();
    client
        .put(format!("{base}/api/v1/scopes/bench/subscriptions"))
        .header("authorization", &auth)
        .json(&subs)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Microseconds since the unix epoch.
pub(crate) fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
