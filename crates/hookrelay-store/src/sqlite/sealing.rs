//! The master key check of a SQLite database, sealing values written before encryption
//! at rest existed, and re-sealing everything under a new key. The formats and bindings
//! are the crate's [`sealing`](crate::sealing).

use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::crypto::{self, Cipher};
use crate::error::{StoreError, StoreResult};
use crate::sealing::{
    CHECK_KEY, ENDPOINT_SEALED, new_check, open_endpoint_value, seal_endpoint_value, verify_aad,
    verify_check,
};

/// Checks that `cipher` holds this database's key. A database without a check value
/// (new, or written before encryption at rest) gets one, and any credential still in
/// plain text is sealed in the same transaction.
pub(crate) async fn check_or_init(pool: &SqlitePool, cipher: &Cipher) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let check: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(CHECK_KEY)
        .fetch_optional(&mut *tx)
        .await?;
    match check {
        Some(sealed) => verify_check(cipher, &sealed)?,
        None => {
            let sealed = reseal_endpoints(&mut tx, None, cipher).await?;
            if sealed > 0 {
                tracing::info!(
                    values = sealed,
                    "sealed credentials stored in plain text by an earlier version"
                );
            }
            write_check(&mut tx, cipher).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Re-seals every credential from `old` to `new` in one transaction and replaces the
/// key check; returns how many values were re-sealed.
pub(crate) async fn rotate(pool: &SqlitePool, old: &Cipher, new: &Cipher) -> StoreResult<usize> {
    let mut tx = pool.begin().await?;
    let n = reseal_endpoints(&mut tx, Some(old), new).await?
        + reseal_sources(&mut tx, old, new).await?;
    write_check(&mut tx, new).await?;
    tx.commit().await?;
    Ok(n)
}

async fn write_check(conn: &mut SqliteConnection, cipher: &Cipher) -> StoreResult<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(CHECK_KEY)
        .bind(new_check(cipher))
        .execute(conn)
        .await?;
    Ok(())
}

/// Re-seals every source's verify settings from `old` to `new`.
async fn reseal_sources(
    conn: &mut SqliteConnection,
    old: &Cipher,
    new: &Cipher,
) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT name, verify FROM sources")
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let name: String = row.try_get("name")?;
        let aad = verify_aad(&name);
        let plain = old
            .open(&row.try_get::<String, _>("verify")?, &aad)
            .map_err(|_| StoreError::WrongMasterKey("a source's secrets"))?;
        sqlx::query("UPDATE sources SET verify = ? WHERE name = ?")
            .bind(new.seal(&plain, &aad))
            .bind(&name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len())
}

/// Re-seals every endpoint credential under `new`. With `old`, sealed values are opened
/// with it; without, only plain values are sealed (and sealed ones left alone).
async fn reseal_endpoints(
    conn: &mut SqliteConnection,
    old: Option<&Cipher>,
    new: &Cipher,
) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT id, secret, previous_secret, headers, auth FROM endpoints")
        .fetch_all(&mut *conn)
        .await?;
    let mut count = 0;
    for row in &rows {
        let id: String = row.try_get("id")?;
        for (column, kind) in ENDPOINT_SEALED {
            let Some(stored) = row.try_get::<Option<String>, _>(column)? else {
                continue;
            };
            let plain = match (crypto::is_sealed(&stored), old) {
                (true, Some(old)) => open_endpoint_value(old, &id, kind, &stored)?,
                (true, None) => continue,
                (false, _) => stored,
            };
            // Column names come from the constant above, never from input.
            let sql = format!("UPDATE endpoints SET {column} = ? WHERE id = ?");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(seal_endpoint_value(new, &id, kind, &plain))
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            count += 1;
        }
    }
    Ok(count)
}
