//! Inbound sources: their settings, with the `verify` part (secrets) sealed.

use hookrelay_core::clock::now_ms;
use hookrelay_core::source::SourceSpec;
use sqlx::{Sqlite, SqlitePool};

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::{Page, PageRequest, SourceRecord};
use crate::rows;

pub(crate) async fn put(
    pool: &SqlitePool,
    cipher: &Cipher,
    name: &str,
    spec: SourceSpec,
) -> StoreResult<(SourceRecord, bool)> {
    let now = now_ms();
    let (plain, sealed) = rows::split_source(name, &spec, cipher);
    let mut tx = pool.begin().await?;
    let existed: Option<String> = sqlx::query_scalar("SELECT name FROM sources WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sources (name, spec, verify, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, verify = excluded.verify, \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(plain)
    .bind(sealed)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query("SELECT * FROM sources WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
    let rec = rows::source(&row, cipher)?;
    tx.commit().await?;
    Ok((rec, existed.is_none()))
}

pub(crate) async fn get(
    pool: &SqlitePool,
    cipher: &Cipher,
    name: &str,
) -> StoreResult<Option<SourceRecord>> {
    sqlx::query("SELECT * FROM sources WHERE name = ?")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(|r| rows::source(&r, cipher))
        .transpose()
}

pub(crate) async fn list(
    pool: &SqlitePool,
    cipher: &Cipher,
    page: PageRequest,
) -> StoreResult<Page<SourceRecord>> {
    let mut q = sqlx::QueryBuilder::<Sqlite>::new("SELECT * FROM sources WHERE 1 = 1");
    if let Some(cursor) = page.cursor {
        q.push(" AND name > ").push_bind(cursor);
    }
    q.push(" ORDER BY name LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await?;
    let items = found
        .iter()
        .map(|r| rows::source(r, cipher))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |s| s.name.clone()))
}

pub(crate) async fn delete(pool: &SqlitePool, name: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM sources WHERE name = ?")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
