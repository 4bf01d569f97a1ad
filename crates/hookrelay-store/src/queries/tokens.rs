//! API tokens (hashes only).

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::TokenId;

use super::sql::{Conn, Db, Sql};
use crate::error::StoreResult;
use crate::model::TokenRecord;
use crate::rows::{self, Columns};

pub(crate) async fn create(
    db: &impl Db,
    name: &str,
    hash: &str,
    scopes: Option<Vec<String>>,
) -> StoreResult<TokenRecord> {
    let record = TokenRecord {
        id: TokenId::generate(),
        name: name.to_owned(),
        scopes,
        created_at: now_ms(),
    };
    let sql = Sql::new(
        "INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(record.id.as_str())
    .bind(&record.name)
    .bind(hash)
    .bind(record.scopes.as_ref().map(rows::to_json))
    .bind(record.created_at);
    db.acquire().await?.execute(sql).await?;
    Ok(record)
}

pub(crate) async fn find(db: &impl Db, hash: &str) -> StoreResult<Option<TokenRecord>> {
    let sql = Sql::new("SELECT * FROM tokens WHERE hash = $1 AND revoked_at IS NULL").bind(hash);
    db.acquire()
        .await?
        .fetch_optional(sql)
        .await?
        .map(|r| rows::token(&r))
        .transpose()
}

pub(crate) async fn has_admin(db: &impl Db) -> StoreResult<bool> {
    let sql =
        Sql::new("SELECT count(*) AS n FROM tokens WHERE scopes IS NULL AND revoked_at IS NULL");
    let found = db.acquire().await?.fetch_optional(sql).await?;
    Ok(match found {
        Some(row) => row.int("n")? > 0,
        None => false,
    })
}

pub(crate) async fn list(db: &impl Db) -> StoreResult<Vec<TokenRecord>> {
    let sql = Sql::new("SELECT * FROM tokens WHERE revoked_at IS NULL ORDER BY id");
    db.acquire()
        .await?
        .fetch_all(sql)
        .await?
        .iter()
        .map(rows::token)
        .collect()
}

pub(crate) async fn revoke(db: &impl Db, id: &str) -> StoreResult<bool> {
    let sql = Sql::new("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id);
    Ok(db.acquire().await?.execute(sql).await? > 0)
}
