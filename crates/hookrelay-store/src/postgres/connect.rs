//! Connecting to PostgreSQL: the connection options every connection gets (schema,
//! statement timeout), the pool, the schema itself, and the migrations.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::PgOptions;
use crate::error::{StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a pooled connection before it fails (503): short, so
/// that while the database is down the API answers at once instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest schema name: the work channel's name (`hookrelay_work_<schema>`) must
/// stay within PostgreSQL's 63-byte identifiers.
const MAX_SCHEMA_LEN: usize = 48;

/// Checks a schema name: letters, digits and `_`, not starting with a digit. Names are
/// quoted wherever they are used, so they keep their case.
pub(crate) fn check_schema(schema: &str) -> StoreResult<()> {
    let mut chars = schema.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && schema.len() <= MAX_SCHEMA_LEN;
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "schema".to_owned(),
            message: format!(
                "{schema:?} is not a usable schema name (letters, digits and _, at most {MAX_SCHEMA_LEN})"
            ),
        })
    }
}

/// The options of every connection: `search_path` set to the schema and the statement
/// timeout, sent in the startup packet so they cost no extra round trip.
pub(crate) fn connect_options(
    url: &str,
    schema: Option<&str>,
    statement_timeout_ms: u64,
) -> StoreResult<PgConnectOptions> {
    let mut settings = vec![("statement_timeout", statement_timeout_ms.to_string())];
    if let Some(schema) = schema {
        check_schema(schema)?;
        settings.push(("search_path", format!("\"{schema}\"")));
    }
    Ok(PgConnectOptions::from_str(url)?
        .application_name("hookrelay")
        .options(settings))
}

/// Opens the pool and, with a schema, creates the schema if it is missing.
pub(crate) async fn open_pool(url: &str, options: &PgOptions) -> StoreResult<PgPool> {
    let schema = options.schema.as_deref();
    if let Some(schema) = schema {
        // Before the name goes into any SQL.
        check_schema(schema)?;
        create_schema(url, schema, options.statement_timeout_ms).await?;
    }
    let connect = connect_options(url, schema, options.statement_timeout_ms)?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections.max(2))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A ping on acquire (the default) costs a round trip, but it finds the
        // connections that broke while idle (the server restarted) and replaces them,
        // so the first requests after a restart do not fail.
        .test_before_acquire(true)
        .connect_with(connect)
        .await?)
}

/// `CREATE SCHEMA IF NOT EXISTS`, on a connection of its own (the schema must exist
/// before connections that put it first in their `search_path` create anything).
async fn create_schema(url: &str, schema: &str, statement_timeout_ms: u64) -> StoreResult<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(connect_options(url, None, statement_timeout_ms)?)
        .await?;
    // The name was checked by `check_schema` and is quoted.
    let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
    let result = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
    pool.close().await;
    match result {
        // Two processes creating it at the same moment: the other one won.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("23505") | Some("42P06")) =>
        {
            Ok(())
        }
        other => other.map(drop).map_err(Into::into),
    }
}

/// The versions already applied to this schema (none when it was never migrated).
async fn applied(pool: &PgPool) -> StoreResult<HashSet<i64>> {
    let found: Result<Vec<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await;
    match found {
        Ok(versions) => Ok(versions.into_iter().collect()),
        // 42P01: undefined table, a schema never migrated.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Ok(HashSet::new()),
        Err(e) => Err(e.into()),
    }
}

/// Applies the pending migrations; returns how many were applied.
pub(crate) async fn run_migrations(pool: &PgPool) -> StoreResult<usize> {
    let before = applied(pool).await?;
    // The migrator takes an advisory lock, so processes starting together apply each
    // migration once.
    MIGRATOR.run(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| !before.contains(&m.version))
        .count())
}

/// Fails clearly unless every migration is applied (a start with `migrate = false`).
pub(crate) async fn check_migrated(pool: &PgPool) -> StoreResult<()> {
    let done = applied(pool).await?;
    match MIGRATOR.iter().find(|m| !done.contains(&m.version)) {
        None => Ok(()),
        Some(m) => Err(StoreError::Migrate(Box::new(MigrateError::Source(
            format!(
                "migration {} ({}) is not applied to this database; run `hookrelay migrate` \
                 (or start with migrations enabled)",
                m.version, m.description
            )
            .into(),
        )))),
    }
}
