//! API tokens (hashes only).

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::TokenId;
use sqlx::PgPool;

use crate::error::StoreResult;
use crate::model::TokenRecord;
use crate::rows;

pub(crate) async fn create(
    pool: &PgPool,
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
    sqlx::query(
        "INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(record.id.as_str())
    .bind(&record.name)
    .bind(hash)
    .bind(record.scopes.as_ref().map(rows::to_json))
    .bind(record.created_at)
    .execute(pool)
    .await?;
    Ok(record)
}

pub(crate) async fn find(pool: &PgPool, hash: &str) -> StoreResult<Option<TokenRecord>> {
    sqlx::query("SELECT * FROM tokens WHERE hash = $1 AND revoked_at IS NULL")
        .bind(hash)
        .fetch_optional(pool)
        .await?
        .map(|r| rows::token(&r))
        .transpose()
}

pub(crate) async fn has_admin(pool: &PgPool) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tokens WHERE scopes IS NULL AND revoked_at IS NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

pub(crate) async fn list(pool: &PgPool) -> StoreResult<Vec<TokenRecord>> {
    sqlx::query("SELECT * FROM tokens WHERE revoked_at IS NULL ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::token)
        .collect()
}

pub(crate) async fn revoke(pool: &PgPool, id: &str) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() > 0)
}
