//! `hookrelay send`: publish an event; with `--wait`, follow its deliveries to the end.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::connection::{Api, ConnectionArgs};
use super::exit::{Reported, usage};
use super::output;

/// How often `--wait` asks for the deliveries' state.
const POLL: Duration = Duration::from_millis(200);

/// Flags of `send`.
#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The event type's code, e.g. order.paid.
    #[arg(value_name = "TYPE")]
    pub event_type: String,
    /// A scope to publish to; repeat for several.
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    pub scopes: Vec<String>,
    /// The event's data: JSON text, @file to read it from a file, or @- for stdin.
    #[arg(long, value_name = "JSON|@FILE", default_value = "{}")]
    pub data: String,
    /// Publishing twice with the same key creates one event.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Wait until no delivery is pending and print each one's outcome; exit 1 if any
    /// failed.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, e.g. 30s or 2m.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Print JSON (the server's answer, then with --wait the deliveries).
    #[arg(long)]
    pub json: bool,
}

/// Reads `--data`: inline JSON, `@file` or `@-`.
fn read_data(data: &str) -> anyhow::Result<Value> {
    let text = match data.strip_prefix('@') {
        Some("-") => std::io::read_to_string(std::io::stdin())
            .map_err(|e| usage(format!("cannot read --data from stdin: {e}")))?,
        Some(file) => std::fs::read_to_string(Path::new(file))
            .map_err(|e| usage(format!("cannot read --data file {file}: {e}")))?,
        None => data.to_owned(),
    };
    serde_json::from_str(&text).map_err(|e| usage(format!("--data is not valid JSON: {e}")))
}

/// Publishes, prints the event id, and with `--wait` the outcomes.
pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    let data = read_data(&args.data)?;
    let api = Api::connect(&args.connection, true)?;
    let mut body = json!({ "type": args.event_type, "scopes": args.scopes, "data": data });
    if let Some(key) = &args.idempotency_key {
        body["idempotency_key"] = json!(key);
    }
    let answer = api
        .call(Method::POST, &["events"], &[], Some(&body))
        .await?;
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    if args.json {
        println!("{answer}");
    } else {
        println!("{id}");
        let count = answer["deliveries"].as_u64().unwrap_or(0);
        let duplicate = if answer["duplicate"] == json!(true) {
            " (duplicate: this idempotency key was used before; nothing new was queued)"
        } else {
            ""
        };
        eprintln!(
            "{} queued{duplicate}",
            output::count(count, "delivery", "deliveries")
        );
    }
    if !args.wait {
        return Ok(());
    }
    let deliveries = wait(&api, &id, args.timeout).await?;
    print_outcomes(&api, &deliveries, args.json).await?;
    let failed = deliveries
        .iter()
        .filter(|d| d["status"] == "failed")
        .count();
    if failed > 0 {
        return Err(Reported(format!(
            "{} failed",
            output::count(failed as u64, "delivery", "deliveries")
        ))
        .into());
    }
    Ok(())
}

/// Polls the event's deliveries until none is pending, or fails at the deadline.
async fn wait(api: &Api, event: &str, timeout: Duration) -> anyhow::Result<Vec<Value>> {
    let deadline = Instant::now() + timeout;
    let spinner = output::spinner("waiting for the deliveries");
    let result = loop {
        // Every page: an event published to many scopes can have more than one page of
        // deliveries.
        let deliveries = match api
            .list_all(&["deliveries"], &[("event", event.to_owned())])
            .await
        {
            Ok(deliveries) => deliveries,
            Err(e) => break Err(e),
        };
        let pending = deliveries
            .iter()
            .filter(|d| d["status"] == "pending")
            .count();
        if pending == 0 {
            break Ok(deliveries);
        }
        if Instant::now() >= deadline {
            break Err(anyhow::anyhow!(
                "{pending} of {} deliveries still pending after {} (raise --timeout, or follow them with hookrelay tail)",
                deliveries.len(),
                humantime::format_duration(timeout)
            ));
        }
        spinner.set_message(format!("waiting for {pending} pending deliveries"));
        tokio::time::sleep(POLL).await;
    };
    spinner.finish_and_clear();
    result
}

/// One line per delivery: endpoint, status, attempts, and the last attempt's answer.
async fn print_outcomes(api: &Api, deliveries: &[Value], json: bool) -> anyhow::Result<()> {
    if deliveries.is_empty() && !json {
        println!("no endpoint is subscribed to this event in these scopes");
    }
    for d in deliveries {
        let id = d["id"].as_str().unwrap_or_default();
        // The list leaves attempts out; the last one says what the receiver answered.
        let full = api.get(&["deliveries", id], &[]).await?;
        if json {
            println!("{full}");
            continue;
        }
        let last = full["attempts"]
            .as_array()
            .and_then(|a| a.last())
            .cloned()
            .unwrap_or(Value::Null);
        let answered = match (&last["status_code"], &last["error"]) {
            (Value::Number(code), _) => format!("HTTP {code}"),
            (_, Value::String(error)) => error.clone(),
            _ => "no attempt".to_owned(),
        };
        println!(
            "{id}  {}/{}  {}  {}, last: {answered}",
            output::cell(&d["scope"]),
            output::cell(&d["endpoint"]),
            output::status(d["status"].as_str().unwrap_or("?")),
            output::count(
                full["attempt_count"].as_u64().unwrap_or(0),
                "attempt",
                "attempts"
            ),
        );
    }
    Ok(())
}
