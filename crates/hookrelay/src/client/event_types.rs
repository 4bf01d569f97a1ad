//! `hookrelay event-types`: sync the registry from a YAML file, list it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use hookrelay_core::event_type::Registry;
use reqwest::Method;

use super::connection::{Api, ConnectionArgs};
use super::output::{self, Table};

/// `event-types` and its subcommands.
#[derive(Args)]
pub struct EventTypesArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: EventTypesCommand,
}

/// What to do with the registry.
#[derive(Subcommand)]
pub enum EventTypesCommand {
    /// Make the registry exactly the file: listed types are created or updated, the
    /// others archived (kept for history, no longer publishable).
    ///
    /// The file: `version: 1` and `events: [{code, name, description?, schema?}]`.
    #[command(after_help = "Example: hookrelay event-types sync webhook_events.yaml --dry-run")]
    Sync(SyncArgs),
    /// List the registered types.
    #[command(after_help = "Example: hookrelay event-types list --archived")]
    List(ListArgs),
}

/// Flags of `event-types sync`.
#[derive(Args)]
pub struct SyncArgs {
    /// The registry file (YAML).
    pub file: PathBuf,
    /// Say what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `event-types list`.
#[derive(Args)]
pub struct ListArgs {
    /// Include archived types.
    #[arg(long)]
    pub archived: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs an `event-types` subcommand.
pub async fn run(args: EventTypesArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    match args.command {
        EventTypesCommand::Sync(sync_args) => sync(&api, sync_args).await,
        EventTypesCommand::List(list_args) => list(&api, list_args).await,
    }
}

async fn sync(api: &Api, args: SyncArgs) -> anyhow::Result<()> {
    // Parsed here with the server's own types, so a typo is reported with its line
    // before anything is sent.
    let registry: Registry = super::yaml::read(&args.file)?;
    let body = serde_json::to_value(&registry)?;
    let query = if args.dry_run {
        vec![("dry_run", "true".to_owned())]
    } else {
        Vec::new()
    };
    let spinner = output::spinner(format!(
        "syncing {} event types from {}",
        registry.events.len(),
        args.file.display()
    ));
    let answer = api
        .call(Method::PUT, &["event-types"], &query, Some(&body))
        .await;
    spinner.finish_and_clear();
    let answer = answer?;
    if args.json {
        output::json(&answer);
        return Ok(());
    }
    output::report(&answer, &["created", "updated", "archived"]);
    if args.dry_run {
        println!("dry run: nothing was changed");
    }
    Ok(())
}

async fn list(api: &Api, args: ListArgs) -> anyhow::Result<()> {
    let types = api
        .list_all(
            &["event-types"],
            &[("include_archived", args.archived.to_string())],
        )
        .await?;
    if args.json {
        output::json(&serde_json::Value::Array(types));
        return Ok(());
    }
    let mut table = Table::new(&["code", "name", "archived", "schema"]);
    for t in &types {
        table.row(vec![
            output::cell(&t["code"]),
            output::cell(&t["name"]),
            output::cell(&t["archived"]),
            if t["schema"].is_null() { "-" } else { "yes" }.to_owned(),
        ]);
    }
    table.print("no event types");
    Ok(())
}
