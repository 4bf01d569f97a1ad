//! `hookrelay login`: saves the server and token to the user config file, so later
//! commands need neither flag.

use clap::Args;

use super::config::{self, UserConfig};
use super::connection::{Api, ConnectionArgs, NO_TOKEN};
use super::exit::usage;

/// Flags of `login`.
#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Save without checking that the server accepts the token.
    #[arg(long)]
    pub no_check: bool,
}

/// Checks the token against the server (unless `--no-check`), then writes the file.
pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let token = args
        .connection
        .token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| usage(NO_TOKEN.replace(", or run hookrelay login", "")))?;
    let path = config::path().ok_or_else(|| {
        usage("cannot tell where the config file goes: set XDG_CONFIG_HOME or HOME")
    })?;
    let mut saved = config::load(&path).map_err(|e| usage(format!("{e:#}")))?;
    // A server given neither as a flag nor in the environment keeps the saved one.
    let server = args.connection.server.clone().or(saved.server.take());
    let api = Api::connect(
        &ConnectionArgs {
            server: server.clone(),
            token: Some(token.clone()),
        },
        true,
    )?;
    if !args.no_check {
        // Any valid token may read the registry; a 401 here is a wrong token.
        api.get(&["event-types"], &[("limit", "1".to_owned())])
            .await?;
    }
    let server = api.base().as_str().trim_end_matches('/').to_owned();
    config::save(
        &path,
        &UserConfig {
            server: Some(server.clone()),
            token: Some(token),
        },
    )?;
    println!(
        "logged in to {server}; saved to {} (mode 0600)",
        path.display()
    );
    Ok(())
}
