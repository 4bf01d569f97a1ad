//! Inbound sources: their settings, with the `verify` part (secrets) sealed.

use hookrelay_core::clock::now_ms;
use hookrelay_core::source::{SourceSpec, Verify};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqlitePool};

use super::rows;
use crate::crypto::{self, Cipher};
use crate::error::{StoreError, StoreResult};
use crate::model::{Page, PageRequest, SourceRecord};

/// The seal binding of a source's verify settings.
pub(crate) fn verify_aad(name: &str) -> String {
    crypto::aad("source", name, "verify")
}

fn record(row: &SqliteRow, cipher: &Cipher) -> StoreResult<SourceRecord> {
    let name: String = row.try_get("name")?;
    let sealed: String = row.try_get("verify")?;
    let verify_json = cipher
        .open(&sealed, &verify_aad(&name))
        .map_err(|_| StoreError::WrongMasterKey("a source's secrets"))?;
    let verify: Verify =
        serde_json::from_str(&verify_json).map_err(|_| StoreError::Corrupt("sources.verify"))?;
    let mut spec: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>("spec")?)
        .map_err(|_| StoreError::Corrupt("sources.spec"))?;
    spec["verify"] =
        serde_json::to_value(&verify).map_err(|_| StoreError::Corrupt("sources.verify"))?;
    let spec: SourceSpec =
        serde_json::from_value(spec).map_err(|_| StoreError::Corrupt("sources.spec"))?;
    Ok(SourceRecord {
        name,
        spec,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The settings without `verify` (stored plain), and the sealed `verify`.
fn split(name: &str, spec: &SourceSpec, cipher: &Cipher) -> (String, String) {
    let mut plain = serde_json::to_value(spec).unwrap_or_default();
    if let Some(map) = plain.as_object_mut() {
        map.remove("verify");
    }
    let sealed = cipher.seal(&rows::to_json(&spec.verify), &verify_aad(name));
    (plain.to_string(), sealed)
}

pub(crate) async fn put(
    pool: &SqlitePool,
    cipher: &Cipher,
    name: &str,
    spec: SourceSpec,
) -> StoreResult<(SourceRecord, bool)> {
    let now = now_ms();
    let (plain, sealed) = split(name, &spec, cipher);
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
    let rec = record(&row, cipher)?;
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
        .map(|r| record(&r, cipher))
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
        .map(|r| record(r, cipher))
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
