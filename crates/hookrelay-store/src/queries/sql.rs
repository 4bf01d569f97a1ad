//! Just enough of a query layer for statements both dialects run alike: a statement
//! text with `$1`-style parameters (which SQLite accepts as well as PostgreSQL) and its
//! arguments ([`Sql`]), run on either backend's connection ([`Conn`]) or pool ([`Db`]).
//! Keeping the arguments in one small enum is what lets the shared modules be plain
//! functions instead of generic code over every `sqlx` encoding bound.

use std::future::Future;
use std::ops::DerefMut;

use crate::error::StoreResult;
use crate::rows::Columns;

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Flag(bool),
    Bytes(Vec<u8>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Flag(v)
    }
}

/// A statement and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement whose parameters are already numbered (`$1`, `$2`, …).
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Binds the next numbered parameter.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends text (for statements built piece by piece).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next parameter's placeholder and binds it.
    pub(crate) fn push_bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `(…, …)` of the values, or a list that matches nothing when there are
    /// none (`IN ()` is not valid everywhere).
    pub(crate) fn push_list(&mut self, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self.push(")")
    }
}

/// A connection (or transaction) of either backend.
pub(crate) trait Conn: Send {
    /// Its rows.
    type Row: Columns + Send;
    /// Every row.
    fn fetch_all(&mut self, sql: Sql) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;
    /// The first row, if any.
    fn fetch_optional(
        &mut self,
        sql: Sql,
    ) -> impl Future<Output = StoreResult<Option<Self::Row>>> + Send;
    /// Runs a statement; how many rows it changed.
    fn execute(&mut self, sql: Sql) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// A pool of either backend.
pub(crate) trait Db: Sync {
    /// Its connections.
    type Conn: Conn;
    /// A pooled connection.
    type Pooled: DerefMut<Target = Self::Conn> + Send;
    /// A transaction.
    type Tx: DerefMut<Target = Self::Conn> + Send;
    /// A connection for reads.
    fn acquire(&self) -> impl Future<Output = StoreResult<Self::Pooled>> + Send;
    /// Starts a transaction.
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
    /// Commits it.
    fn commit(tx: Self::Tx) -> impl Future<Output = StoreResult<()>> + Send;
    /// Rolls it back.
    fn rollback(tx: Self::Tx) -> impl Future<Output = StoreResult<()>> + Send;
}

macro_rules! impl_backend {
    ($db:ty, $pool:ty, $conn:ty, $row:ty) => {
        impl Conn for $conn {
            type Row = $row;
            async fn fetch_all(&mut self, sql: Sql) -> StoreResult<Vec<$row>> {
                Ok(query::<$db>(sql).fetch_all(self).await?)
            }
            async fn fetch_optional(&mut self, sql: Sql) -> StoreResult<Option<$row>> {
                Ok(query::<$db>(sql).fetch_optional(self).await?)
            }
            async fn execute(&mut self, sql: Sql) -> StoreResult<u64> {
                Ok(query::<$db>(sql).execute(self).await?.rows_affected())
            }
        }

        impl Db for $pool {
            type Conn = $conn;
            type Pooled = sqlx::pool::PoolConnection<$db>;
            type Tx = sqlx::Transaction<'static, $db>;
            async fn acquire(&self) -> StoreResult<Self::Pooled> {
                Ok(sqlx::Pool::acquire(self).await?)
            }
            async fn begin(&self) -> StoreResult<Self::Tx> {
                Ok(sqlx::Pool::begin(self).await?)
            }
            async fn commit(tx: Self::Tx) -> StoreResult<()> {
                Ok(tx.commit().await?)
            }
            async fn rollback(tx: Self::Tx) -> StoreResult<()> {
                Ok(tx.rollback().await?)
            }
        }
    };
}

/// The `sqlx` query of a statement. The text is this crate's own (built from
/// constants and placeholders, never from input), so it is safe to run.
fn query<DB: sqlx::Database>(sql: Sql) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.text));
    for arg in sql.args {
        q = match arg {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Flag(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
        };
    }
    q
}

impl_backend!(
    sqlx::Sqlite,
    sqlx::SqlitePool,
    sqlx::SqliteConnection,
    sqlx::sqlite::SqliteRow
);
impl_backend!(
    sqlx::Postgres,
    sqlx::PgPool,
    sqlx::PgConnection,
    sqlx::postgres::PgRow
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = $1").bind("x");
        sql.push(" AND b IN ")
            .push_list(&["y".to_owned(), "z".to_owned()]);
        sql.push(" AND c IN ").push_list(&[]);
        sql.push(" LIMIT ").push_bind(3_i64);
        assert_eq!(
            sql.text,
            "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL) LIMIT $4"
        );
        assert_eq!(sql.args.len(), 4);
    }
}
