//! The `hookrelay` binary.
//!
//! # Layout
//! - [`cli`]: the commands and flags.
//! - [`settings`]: flags + `hookrelay.toml` + `HOOKRELAY_*` into a server [`Config`](hookrelay_server::Config).
//! - [`serve`]: `hookrelay serve`: logging, signals, the server.
//! - [`listen`]: `hookrelay listen`: a local receiver that prints and verifies webhooks,
//!   and can forward them to the application being developed.
//! - [`verify`]: `hookrelay verify`: checks a captured webhook's signature (Standard
//!   Webhooks, GitHub, Stripe, Shopify, Slack) and names the part that failed.
//! - [`client`]: the commands that call a running server's HTTP API (`login`,
//!   `event-types`, `endpoints`, `subscriptions`, `send`, `events`, `deliveries`, `tail`,
//!   `retry`, `recover`, `tokens`, `openapi`), one file per command group.
//! - `completions`: shell completion scripts (clap_complete), in this file.
//! - [`rotate_key`]: `hookrelay rotate-master-key`: re-seal stored credentials under a new key.
//! - [`migrate`]: `hookrelay migrate`: apply the database migrations and exit.
//! - [`bench`]: `hookrelay bench`: a local receiver, a server on a temporary database, and
//!   keep-alive publishers; prints rates, latency percentiles and peak RSS.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod client;
mod listen;
mod migrate;
mod rotate_key;
mod serve;
mod settings;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// mimalloc: the request path allocates many small, short-lived buffers, which glibc's
/// allocator serves markedly slower (it was ~15 % of CPU in `hookrelay bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The commands that need no runtime.
    let command = match cli.command {
        cli::Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut cli::Cli::command(),
                "hookrelay",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        cli::Command::Verify(args) => return outcome(verify::run(args)),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        use cli::Command;
        match command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::RotateMasterKey(args) => rotate_key::run(args).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Login(args) => client::login::run(args).await,
            Command::EventTypes(args) => client::event_types::run(args).await,
            Command::Endpoints(args) => client::endpoints::run(args).await,
            Command::Subscriptions(args) => client::subscriptions::run(args).await,
            Command::Send(args) => client::send::run(args).await,
            Command::Events(args) => client::logs::events(args).await,
            Command::Deliveries(args) => client::logs::deliveries(args).await,
            Command::Tail(args) => client::logs::tail(args).await,
            Command::Retry(args) => client::resend::retry(args).await,
            Command::Recover(args) => client::resend::recover(args).await,
            Command::Tokens(args) => client::tokens::run(args).await,
            Command::Openapi(args) => client::openapi::run(args).await,
            // Run above, before the runtime was built.
            Command::Verify(_) | Command::Completions(_) => Ok(()),
        }
    });
    outcome(result)
}

/// 0 on success; else the error on one line and its exit code (see [`client::exit`]).
fn outcome(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => client::exit::code_for(&e),
    }
}
