//! Sending again: `hookrelay retry` (one delivery, now) and `hookrelay recover` (an
//! endpoint's failed deliveries since a time).

use std::time::{Duration, Instant};

use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::connection::{Api, ConnectionArgs};
use super::exit::Reported;
use super::output;

/// Flags of `retry`.
#[derive(Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The delivery, dlv_….
    pub delivery: String,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `recover`.
#[derive(Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The endpoint's scope.
    pub scope: String,
    /// The endpoint's code.
    pub endpoint: String,
    /// Failed deliveries created since: a duration ago (2h, 30m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: String,
    /// Follow the re-queued deliveries with a progress bar until none is pending; exit 1
    /// if any failed again.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// `hookrelay retry`.
pub async fn retry(args: RetryArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let answer = api
        .call(
            Method::POST,
            &["deliveries", &args.delivery, "retry"],
            &[],
            None,
        )
        .await?;
    if args.json {
        println!("{answer}");
    } else {
        println!(
            "{} queued for another attempt now (to {}/{}, {} attempts so far)",
            output::cell(&answer["id"]),
            output::cell(&answer["scope"]),
            output::cell(&answer["endpoint"]),
            output::cell(&answer["attempt_count"]),
        );
    }
    Ok(())
}

/// `hookrelay recover`.
pub async fn recover(args: RecoverArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let spinner = output::spinner(format!(
        "re-queueing the failed deliveries of {}/{}",
        args.scope, args.endpoint
    ));
    let answer = api
        .call(
            Method::POST,
            &[
                "scopes",
                &args.scope,
                "endpoints",
                &args.endpoint,
                "recover",
            ],
            &[],
            Some(&json!({ "since": args.since })),
        )
        .await;
    spinner.finish_and_clear();
    let answer = answer?;
    let ids: Vec<String> = answer["delivery_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    println!(
        "{} of {}/{} re-queued",
        output::count(ids.len() as u64, "failed delivery", "failed deliveries"),
        args.scope,
        args.endpoint
    );
    if args.wait && !ids.is_empty() {
        follow(&api, &ids, args.timeout).await?;
    }
    Ok(())
}

/// Shows a progress bar over `ids` until none is pending.
async fn follow(api: &Api, ids: &[String], timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let bar = output::progress(ids.len() as u64, "delivering");
    let mut done: Vec<Value> = Vec::new();
    let mut left: Vec<&String> = ids.iter().collect();
    while !left.is_empty() {
        let mut still = Vec::new();
        for id in left {
            let d = api.get(&["deliveries", id], &[]).await?;
            if d["status"] == "pending" {
                still.push(id);
            } else {
                bar.inc(1);
                done.push(d);
            }
        }
        left = still;
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            bar.finish_and_clear();
            anyhow::bail!(
                "{} deliveries still pending after {}",
                left.len(),
                humantime::format_duration(timeout)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bar.finish_and_clear();
    let failed = done.iter().filter(|d| d["status"] == "failed").count();
    println!("{} succeeded, {failed} failed again", done.len() - failed);
    if failed > 0 {
        return Err(Reported(format!("{failed} deliveries failed again")).into());
    }
    Ok(())
}
