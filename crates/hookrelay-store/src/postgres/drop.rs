//! Dropping a schema and everything in it, for tools that make throw-away schemas
//! (the benchmark).

use sqlx::postgres::PgPoolOptions;

use super::connect;
use crate::error::StoreResult;

/// `DROP SCHEMA … CASCADE`: every table of that Hookrelay installation is gone.
pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
    connect::check_schema(schema)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(connect::connect_options(url, None, 0)?)
        .await?;
    // The name was checked to be letters, digits and `_`, so quoting it is enough.
    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    let dropped = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
    pool.close().await;
    dropped?;
    Ok(())
}
