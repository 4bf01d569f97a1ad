//! The `hookrelay` binary.
//!
//! # Layout
//! - [`cli`]: the commands and flags.
//! - [`settings`]: flags + `hookrelay.toml` + `HOOKRELAY_*` into a server [`Config`](hookrelay_server::Config).
//! - [`serve`]: `hookrelay serve`: logging, signals, the server.
//! - [`listen`]: `hookrelay listen`: a local receiver that prints and verifies webhooks.
//! - [`rotate_key`]: `hookrelay rotate-master-key`: re-seal stored credentials under a new key.
//! - [`migrate`]: `hookrelay migrate`: apply the database migrations and exit.
//! - [`bench`]: `hookrelay bench`: a local receiver, a server on a temporary database, and
//!   keep-alive publishers; prints rates, latency percentiles and peak RSS.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod listen;
mod migrate;
mod rotate_key;
mod serve;
mod settings;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the request path allocates many small, short-lived buffers, which glibc's
/// allocator serves markedly slower (it was ~15 % of CPU in `hookrelay bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
        match cli.command {
            cli::Command::Serve(args) => serve::run(args).await,
            cli::Command::Bench(args) => bench::run(args).await,
            cli::Command::Listen(args) => listen::run(args).await,
            cli::Command::RotateMasterKey(args) => rotate_key::run(args).await,
            cli::Command::Migrate(args) => migrate::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One readable line: the error and its causes.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
