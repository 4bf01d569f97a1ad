//! `hookrelay migrate`: apply the database migrations without serving.

use crate::cli::{MigrateArgs, ServeArgs};

/// Applies pending migrations and says what it did.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let config = crate::settings::load(&ServeArgs {
        database_url: args.database_url,
        database_schema: args.database_schema,
        ..ServeArgs::default()
    })?;
    println!("{}", hookrelay_server::startup::migrate(&config).await?);
    Ok(())
}
