//! `hookrelay tokens create`: mint a token limited to some scopes (admin token needed).

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::json;

use super::connection::{Api, ConnectionArgs};
use super::output;

/// `tokens` and its subcommands.
#[derive(Args)]
pub struct TokensArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: TokensCommand,
}

/// What to do with tokens.
#[derive(Subcommand)]
pub enum TokensCommand {
    /// Mint a token that sees and changes only the given scopes; its value is printed
    /// once (only its hash is stored).
    #[command(
        after_help = "Example: hookrelay tokens create --scope tenant-42 --name tenant-42-ci"
    )]
    Create(CreateArgs),
}

/// Flags of `tokens create`.
#[derive(Args)]
pub struct CreateArgs {
    /// A scope the token may act on; repeat for several.
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    pub scopes: Vec<String>,
    /// A name to recognise it by in `GET /tokens`.
    #[arg(long)]
    pub name: Option<String>,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `tokens` subcommand.
pub async fn run(args: TokensArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, true)?;
    let TokensCommand::Create(create) = args.command;
    let mut body = json!({ "scopes": create.scopes });
    if let Some(name) = &create.name {
        body["name"] = json!(name);
    }
    let answer = api
        .call(Method::POST, &["tokens"], &[], Some(&body))
        .await?;
    if create.json {
        output::json(&answer);
    } else {
        // The token alone on stdout, so `TOKEN=$(hookrelay tokens create …)` works.
        println!("{}", output::cell(&answer["token"]));
        eprintln!(
            "token {} ({}) for scopes {}: shown once, keep it",
            output::cell(&answer["id"]),
            output::cell(&answer["name"]),
            output::cell(&answer["scopes"]),
        );
    }
    Ok(())
}
