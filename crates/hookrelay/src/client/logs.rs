//! The logs: `hookrelay events`, `hookrelay deliveries`, and `hookrelay tail`, which
//! follows the delivery log live.

use std::collections::HashMap;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::connection::{Api, ConnectionArgs};
use super::output::{self, Table};

/// Flags of `events`.
#[derive(Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only events published to this scope.
    #[arg(long)]
    pub scope: Option<String>,
    /// Only events of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only events since this time: RFC 3339, or a duration ago (2h, 30m).
    #[arg(long, value_name = "WHEN", value_parser = since)]
    pub since: Option<String>,
    /// How many, newest first (1 to 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `deliveries`.
#[derive(Args)]
pub struct DeliveriesArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only deliveries in this state.
    #[arg(long, value_parser = ["pending", "succeeded", "failed"])]
    pub status: Option<String>,
    /// Only deliveries to endpoints with this code.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Only deliveries to endpoints of this scope.
    #[arg(long)]
    pub scope: Option<String>,
    /// Only deliveries of this event.
    #[arg(long, value_name = "EVENT_ID")]
    pub event: Option<String>,
    /// How many, newest first (1 to 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tail`.
#[derive(Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only deliveries to endpoints of this scope.
    #[arg(long)]
    pub scope: Option<String>,
    /// Only deliveries to endpoints with this code.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// How often to look, e.g. 500ms or 2s.
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--since`: an RFC 3339 time as it is, or a duration ago turned into one (the API
/// takes only times).
fn since(text: &str) -> Result<String, String> {
    use hookrelay_core::clock::{now_ms, parse_rfc3339, to_rfc3339};
    if parse_rfc3339(text).is_some() {
        return Ok(text.to_owned());
    }
    let ago = humantime::parse_duration(text)
        .map_err(|_| "use an RFC 3339 time or a duration such as 2h".to_owned())?;
    let ago_ms = i64::try_from(ago.as_millis()).unwrap_or(i64::MAX);
    Ok(to_rfc3339(now_ms().saturating_sub(ago_ms)))
}

fn push(query: &mut Vec<(&'static str, String)>, name: &'static str, value: &Option<String>) {
    if let Some(v) = value {
        query.push((name, v.clone()));
    }
}

/// `hookrelay events`.
pub async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let mut query = vec![("limit", args.limit.to_string())];
    push(&mut query, "scope", &args.scope);
    push(&mut query, "type", &args.event_type);
    push(&mut query, "since", &args.since);
    let page = api.get(&["events"], &query).await?;
    if args.json {
        output::json(&page["data"]);
        return Ok(());
    }
    let mut table = Table::new(&["id", "type", "scopes", "time", "data"]);
    for e in page["data"].as_array().into_iter().flatten() {
        let mut data = e["data"].to_string();
        if data.chars().count() > 60 {
            data = data.chars().take(57).collect::<String>() + "...";
        }
        table.row(vec![
            output::cell(&e["id"]),
            output::cell(&e["type"]),
            output::cell(&e["scopes"]),
            output::cell(&e["timestamp"]),
            data,
        ]);
    }
    table.print("no events");
    Ok(())
}

/// `hookrelay deliveries`.
pub async fn deliveries(args: DeliveriesArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let mut query = vec![("limit", args.limit.to_string())];
    push(&mut query, "status", &args.status);
    push(&mut query, "endpoint", &args.endpoint);
    push(&mut query, "scope", &args.scope);
    push(&mut query, "event", &args.event);
    let page = api.get(&["deliveries"], &query).await?;
    if args.json {
        output::json(&page["data"]);
        return Ok(());
    }
    let mut table = Table::new(&[
        "id", "event", "type", "endpoint", "status", "attempts", "next", "error",
    ]);
    for d in page["data"].as_array().into_iter().flatten() {
        table.row(vec![
            output::cell(&d["id"]),
            output::cell(&d["event_id"]),
            output::cell(&d["event_type"]),
            format!(
                "{}/{}",
                output::cell(&d["scope"]),
                output::cell(&d["endpoint"])
            ),
            output::cell(&d["status"]),
            output::cell(&d["attempt_count"]),
            output::cell(&d["next_attempt_at"]),
            output::cell(&d["last_error"]),
        ]);
    }
    table.print("no deliveries");
    Ok(())
}

/// What `tail` remembers of a delivery to notice a change.
type Seen = (String, u64);

fn seen(d: &Value) -> Seen {
    (
        d["status"].as_str().unwrap_or_default().to_owned(),
        d["attempt_count"].as_u64().unwrap_or(0),
    )
}

fn line(d: &Value) -> String {
    let error = match &d["last_error"] {
        Value::String(e) if d["status"] != "succeeded" => format!("  {e}"),
        _ => String::new(),
    };
    format!(
        "{}  {}  {}  {}/{}  {}  attempts {}{error}",
        output::cell(&d["updated_at"]),
        output::cell(&d["id"]),
        output::cell(&d["event_type"]),
        output::cell(&d["scope"]),
        output::cell(&d["endpoint"]),
        output::status(d["status"].as_str().unwrap_or("?")),
        output::cell(&d["attempt_count"]),
    )
}

/// How many recent deliveries `tail` shows when it starts, like `tail` shows the last
/// lines of a file.
const BACKLOG: usize = 10;

/// `hookrelay tail`: polls the newest deliveries and prints new ones and changes until
/// Ctrl-C.
pub async fn tail(args: TailArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let mut query = vec![("limit", "200".to_owned())];
    push(&mut query, "scope", &args.scope);
    push(&mut query, "endpoint", &args.endpoint);
    let mut known: HashMap<String, Seen> = HashMap::new();
    let mut first = true;
    eprintln!("following deliveries on {} (Ctrl-C to stop)", api.base());
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let page = api.get(&["deliveries"], &query).await?;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        // The log is newest first; print oldest first, as a log reads.
        let mut changed: Vec<&Value> = items
            .iter()
            .filter(|d| {
                let id = d["id"].as_str().unwrap_or_default();
                known.get(id) != Some(&seen(d))
            })
            .collect();
        if first {
            changed.truncate(BACKLOG);
            first = false;
        }
        for d in changed.iter().rev() {
            if args.json {
                println!("{d}");
            } else {
                println!("{}", line(d));
            }
        }
        // Only the current page is remembered, so memory stays bounded however long
        // it runs; a delivery that fell off the page does not come back to it.
        known = items
            .iter()
            .map(|d| (d["id"].as_str().unwrap_or_default().to_owned(), seen(d)))
            .collect();
        tokio::select! {
            _ = &mut stop => return Ok(()),
            () = tokio::time::sleep(args.interval) => {}
        }
    }
}
