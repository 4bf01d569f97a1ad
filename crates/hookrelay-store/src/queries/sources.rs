//! Inbound sources: their settings, with the `verify` part (secrets) sealed.

use hookrelay_core::clock::now_ms;
use hookrelay_core::source::SourceSpec;

use super::sql::{Conn, Db, Sql};
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{Page, PageRequest, SourceRecord};
use crate::rows;

pub(crate) async fn put<D: Db>(
    db: &D,
    cipher: &Cipher,
    name: &str,
    spec: SourceSpec,
) -> StoreResult<(SourceRecord, bool)> {
    let now = now_ms();
    let (plain, sealed) = rows::split_source(name, &spec, cipher);
    let mut tx = db.begin().await?;
    let existed = tx
        .fetch_optional(Sql::new("SELECT name FROM sources WHERE name = $1").bind(name))
        .await?
        .is_some();
    let upsert = Sql::new(
        "INSERT INTO sources (name, spec, verify, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, verify = excluded.verify, \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(plain)
    .bind(sealed)
    .bind(now)
    .bind(now);
    tx.execute(upsert).await?;
    let row = tx
        .fetch_optional(Sql::new("SELECT * FROM sources WHERE name = $1").bind(name))
        .await?
        .ok_or(StoreError::Corrupt("sources"))?;
    let rec = rows::source(&row, cipher)?;
    D::commit(tx).await?;
    Ok((rec, !existed))
}

pub(crate) async fn get(
    db: &impl Db,
    cipher: &Cipher,
    name: &str,
) -> StoreResult<Option<SourceRecord>> {
    let sql = Sql::new("SELECT * FROM sources WHERE name = $1").bind(name);
    db.acquire()
        .await?
        .fetch_optional(sql)
        .await?
        .map(|r| rows::source(&r, cipher))
        .transpose()
}

pub(crate) async fn list(
    db: &impl Db,
    cipher: &Cipher,
    page: PageRequest,
) -> StoreResult<Page<SourceRecord>> {
    let mut q = Sql::new("SELECT * FROM sources WHERE 1 = 1");
    if let Some(cursor) = page.cursor {
        q.push(" AND name > ").push_bind(cursor);
    }
    q.push(" ORDER BY name LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = db.acquire().await?.fetch_all(q).await?;
    let items = found
        .iter()
        .map(|r| rows::source(r, cipher))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |s| s.name.clone()))
}

pub(crate) async fn delete(db: &impl Db, name: &str) -> StoreResult<bool> {
    let sql = Sql::new("DELETE FROM sources WHERE name = $1").bind(name);
    Ok(db.acquire().await?.execute(sql).await? > 0)
}
