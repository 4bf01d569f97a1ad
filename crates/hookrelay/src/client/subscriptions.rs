//! `hookrelay subscriptions`: apply a scope's subscriptions from a YAML file, show them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::connection::{Api, ConnectionArgs};
use super::output::{self, Table};

/// `subscriptions` and its subcommands.
#[derive(Args)]
pub struct SubscriptionsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: SubscriptionsCommand,
}

/// What to do with a scope's subscriptions.
#[derive(Subcommand)]
pub enum SubscriptionsCommand {
    /// Make the scope's subscriptions exactly the file's map; endpoints left out lose
    /// theirs.
    ///
    /// The file maps endpoint codes to event patterns ("*", "order.*", "order.paid"), or
    /// to {events: […], filter: {…}} to filter on the payload.
    #[command(
        after_help = "Example: hookrelay subscriptions apply biz:biz1 subscriptions.yaml\n\n\
subscriptions.yaml:\n  webhook1: [\"*\"]\n  billing:\n    events: [order.*]\n    filter: {amount: {$gte: 100}}"
    )]
    Apply(ApplyArgs),
    /// Show the scope's subscriptions.
    #[command(after_help = "Example: hookrelay subscriptions show biz:biz1")]
    Show(ShowArgs),
}

/// Flags of `subscriptions apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The scope, e.g. biz:biz1.
    pub scope: String,
    /// The YAML map of endpoint → patterns.
    pub file: PathBuf,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `subscriptions show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The scope.
    pub scope: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `subscriptions` subcommand.
pub async fn run(args: SubscriptionsArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    match args.command {
        SubscriptionsCommand::Apply(a) => apply(&api, a).await,
        SubscriptionsCommand::Show(a) => show(&api, a).await,
    }
}

async fn apply(api: &Api, args: ApplyArgs) -> anyhow::Result<()> {
    let apply = super::apply::Apply {
        scope: &args.scope,
        collection: "subscriptions",
        file: &args.file,
        shape_ok: Value::is_object,
        expected: "a map of endpoint code to event patterns (`webhook1: [\"*\"]`)",
        json: args.json,
    };
    super::apply::run(api, apply).await
}

async fn show(api: &Api, args: ShowArgs) -> anyhow::Result<()> {
    let answer = api
        .get(&["scopes", &args.scope, "subscriptions"], &[])
        .await?;
    if args.json {
        output::json(&answer);
        return Ok(());
    }
    let mut table = Table::new(&["endpoint", "events", "filter"]);
    for (endpoint, spec) in answer.as_object().into_iter().flatten() {
        let (events, filter) = match spec {
            Value::Array(_) => (spec, &Value::Null),
            _ => (&spec["events"], &spec["filter"]),
        };
        table.row(vec![
            endpoint.clone(),
            output::cell(events),
            output::cell(filter),
        ]);
    }
    table.print(&format!("no subscriptions in scope {}", args.scope));
    Ok(())
}
