//! The shared step of `endpoints apply` and `subscriptions apply`: read a YAML file,
//! check its top-level shape, `PUT` it to the scope's collection, and report what the
//! server created, updated and deleted.

use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use super::connection::Api;
use super::exit::usage;
use super::output;

/// What one `apply` sends where.
pub struct Apply<'a> {
    /// The scope.
    pub scope: &'a str,
    /// The collection under the scope: `endpoints` or `subscriptions`.
    pub collection: &'a str,
    /// The YAML file.
    pub file: &'a Path,
    /// Whether the file has the shape the collection takes.
    pub shape_ok: fn(&Value) -> bool,
    /// The shape, for the error when it has not.
    pub expected: &'a str,
    /// Print the answer as JSON.
    pub json: bool,
}

/// Sends the file and prints the report.
pub async fn run(api: &Api, apply: Apply<'_>) -> anyhow::Result<()> {
    let body: Value = super::yaml::read(apply.file)?;
    if !(apply.shape_ok)(&body) {
        return Err(usage(format!(
            "{}: expected {}",
            apply.file.display(),
            apply.expected
        )));
    }
    let answer = api
        .call(
            Method::PUT,
            &["scopes", apply.scope, apply.collection],
            &[],
            Some(&body),
        )
        .await?;
    if apply.json {
        output::json(&answer);
    } else {
        output::report(&answer, &["created", "updated", "deleted"]);
    }
    Ok(())
}
