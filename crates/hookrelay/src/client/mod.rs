//! The command-line client of the HTTP API: every command that talks to a running
//! `hookrelay serve` over `/api/v1`.
//!
//! # Layout
//! - [`connection`]: which server and token (flag > environment > config file), and the
//!   HTTP client that turns API errors into readable ones.
//! - [`config`]: the user config file `login` writes.
//! - [`login`]: `hookrelay login`.
//! - [`event_types`]: `event-types sync` (and `list`).
//! - [`apply`]: what `endpoints apply` and `subscriptions apply` share.
//! - [`endpoints`]: `endpoints apply`, `endpoints list`.
//! - [`subscriptions`]: `subscriptions apply` (and `show`).
//! - [`send`]: `send`, with `--wait` for the outcome of every delivery.
//! - [`logs`]: `events`, `deliveries` and `tail`.
//! - [`resend`]: `retry` and `recover`.
//! - [`tokens`]: `tokens create`.
//! - [`openapi`]: `hookrelay openapi`.
//! - [`yaml`]: reading the YAML files that `sync` and `apply` take.
//! - [`output`]: tables on a terminal, `--json` for scripts, colour, spinners.
//! - [`exit`]: the exit codes (0 ok, 1 operation failed, 2 usage or configuration).

pub mod apply;
pub mod config;
pub mod connection;
pub mod endpoints;
pub mod event_types;
pub mod exit;
pub mod login;
pub mod logs;
pub mod openapi;
pub mod output;
pub mod resend;
pub mod send;
pub mod subscriptions;
pub mod tokens;
pub mod yaml;
