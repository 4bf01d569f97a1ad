//! `hookrelay openapi`: prints the server's OpenAPI document (`GET /openapi.json`, which
//! needs no token).

use clap::Args;
use reqwest::Method;

use super::connection::{Api, ApiFailure, ConnectionArgs};
use super::output;

/// Flags of `openapi`.
#[derive(Args)]
pub struct OpenapiArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Fetches and prints the document.
pub async fn run(args: OpenapiArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.connection, false)?;
    let url = api.url(&["openapi.json"])?;
    match api.request(Method::GET, url, &[], None, &[]).await {
        Ok(document) => {
            output::json(&document);
            Ok(())
        }
        Err(e)
            if e.downcast_ref::<ApiFailure>()
                .is_some_and(|f| f.status == reqwest::StatusCode::NOT_FOUND) =>
        {
            Err(anyhow::anyhow!(
                "the server at {} does not serve /openapi.json (404): it is older than the OpenAPI document; upgrade it",
                api.base()
            ))
        }
        Err(e) => Err(e),
    }
}
