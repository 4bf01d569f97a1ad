//! `hookrelay endpoints`: apply a scope's endpoints from a YAML file, list them, show a
//! signing secret.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::connection::{Api, ConnectionArgs};
use super::output::{self, Table};

/// `endpoints` and its subcommands.
#[derive(Args)]
pub struct EndpointsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: EndpointsCommand,
}

/// What to do with a scope's endpoints.
#[derive(Subcommand)]
pub enum EndpointsCommand {
    /// Make the scope's endpoints exactly the file's list (create, update, delete).
    ///
    /// The file is a YAML list of endpoint objects: code, url, and optionally name,
    /// enabled, headers, auth, timeout_ms, rate_limit, secret, key_type.
    #[command(
        after_help = "Example: hookrelay endpoints apply biz:biz1 endpoints.yaml\n\n\
endpoints.yaml:\n  - code: webhook1\n    url: http://127.0.0.1:9000/hooks"
    )]
    Apply(ApplyArgs),
    /// List the scope's endpoints.
    #[command(after_help = "Example: hookrelay endpoints list biz:biz1")]
    List(ScopeArgs),
    /// Print an endpoint's signing secret (give it to the receiver).
    #[command(
        after_help = "Example: hookrelay listen --secret \"$(hookrelay endpoints secret biz:biz1 webhook1)\""
    )]
    Secret(SecretArgs),
}

/// Flags of `endpoints apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The scope, e.g. biz:biz1.
    pub scope: String,
    /// The YAML list of endpoints.
    pub file: PathBuf,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `endpoints list`.
#[derive(Args)]
pub struct ScopeArgs {
    /// The scope, e.g. biz:biz1.
    pub scope: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `endpoints secret`.
#[derive(Args)]
pub struct SecretArgs {
    /// The scope.
    pub scope: String,
    /// The endpoint's code.
    pub endpoint: String,
}

/// Runs an `endpoints` subcommand.
pub async fn run(args: EndpointsArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    match args.command {
        EndpointsCommand::Apply(a) => apply(&api, a).await,
        EndpointsCommand::List(a) => list(&api, a).await,
        EndpointsCommand::Secret(a) => secret(&api, a).await,
    }
}

async fn apply(api: &Api, args: ApplyArgs) -> anyhow::Result<()> {
    let apply = super::apply::Apply {
        scope: &args.scope,
        collection: "endpoints",
        file: &args.file,
        shape_ok: Value::is_array,
        expected: "a list of endpoints (each item `- code: …`)",
        json: args.json,
    };
    super::apply::run(api, apply).await
}

async fn list(api: &Api, args: ScopeArgs) -> anyhow::Result<()> {
    let endpoints = api
        .list_all(&["scopes", &args.scope, "endpoints"], &[])
        .await?;
    if args.json {
        output::json(&Value::Array(endpoints));
        return Ok(());
    }
    let mut table = Table::new(&["code", "url", "enabled", "circuit", "subscriptions"]);
    for e in &endpoints {
        let enabled = match (&e["enabled"], &e["disabled_reason"]) {
            (Value::Bool(true), _) => "yes".to_owned(),
            (_, Value::String(reason)) => format!("no ({reason})"),
            _ => "no".to_owned(),
        };
        table.row(vec![
            output::cell(&e["code"]),
            output::cell(&e["url"]),
            enabled,
            output::cell(&e["circuit"]),
            output::cell(&e["subscriptions"]),
        ]);
    }
    table.print(&format!("no endpoints in scope {}", args.scope));
    Ok(())
}

async fn secret(api: &Api, args: SecretArgs) -> anyhow::Result<()> {
    let answer = api
        .get(
            &["scopes", &args.scope, "endpoints", &args.endpoint, "secret"],
            &[],
        )
        .await?;
    // An ed25519 endpoint: the receiver needs the public key, not the signing key.
    let shown = answer["public_key"]
        .as_str()
        .or(answer["secret"].as_str())
        .unwrap_or_default();
    println!("{shown}");
    Ok(())
}
