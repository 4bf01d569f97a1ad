//! Exit codes: 0 when the operation succeeded, 1 when it failed, 2 for a usage or
//! configuration error (the same code clap uses for bad flags), so scripts can tell
//! "the webhook failed" from "the command was wrong".

use std::process::ExitCode;

/// A usage or configuration error: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An operation that failed and already said why on the terminal: exit code 1 with no
/// further message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Shorthand for a [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The exit code for a command's error, after printing it where needed.
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    if error.downcast_ref::<Reported>().is_some() {
        return ExitCode::FAILURE;
    }
    // One readable line: the error and its causes.
    eprintln!("error: {error:#}");
    if error.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
