//! Re-sealing every stored credential under a new master key, in one transaction, on
//! either backend: the endpoints' sealed columns, the sources' verify settings, and the
//! key check. Run it while no other process has the database open: one still holding
//! the old key could not open what this writes.

use crate::crypto::{self, Cipher};
use crate::error::{StoreError, StoreResult};
use crate::queries::sql::{Conn, Db, Sql};
use crate::rows::Columns;
use crate::sealing::{
    CHECK_KEY, ENDPOINT_SEALED, new_check, open_endpoint_value, seal_endpoint_value, verify_aad,
};

/// Re-seals every credential from `old` to `new` and replaces the key check; returns
/// how many values were re-sealed. Nothing changes unless all of it commits.
pub(crate) async fn rotate<D: Db>(db: &D, old: &Cipher, new: &Cipher) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    let n = endpoints(&mut *tx, Some(old), new).await? + sources(&mut *tx, old, new).await?;
    write_check(&mut *tx, new).await?;
    D::commit(tx).await?;
    Ok(n)
}

/// Stores the check value that proves which key the database is sealed with.
pub(crate) async fn write_check(conn: &mut impl Conn, cipher: &Cipher) -> StoreResult<()> {
    conn.execute(
        Sql::new(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(CHECK_KEY)
        .bind(new_check(cipher)),
    )
    .await?;
    Ok(())
}

/// Re-seals every source's verify settings from `old` to `new`.
async fn sources(conn: &mut impl Conn, old: &Cipher, new: &Cipher) -> StoreResult<usize> {
    let rows = conn
        .fetch_all(Sql::new("SELECT name, verify FROM sources"))
        .await?;
    for row in &rows {
        let name = row.text("name")?;
        let aad = verify_aad(&name);
        let plain = old
            .open(&row.text("verify")?, &aad)
            .map_err(|_| StoreError::WrongMasterKey("a source's secrets"))?;
        conn.execute(
            Sql::new("UPDATE sources SET verify = $1 WHERE name = $2")
                .bind(new.seal(&plain, &aad))
                .bind(&name),
        )
        .await?;
    }
    Ok(rows.len())
}

/// Re-seals every endpoint credential under `new`. With `old`, sealed values are opened
/// with it; without, only plain values are sealed (and sealed ones left alone).
pub(crate) async fn endpoints(
    conn: &mut impl Conn,
    old: Option<&Cipher>,
    new: &Cipher,
) -> StoreResult<usize> {
    let rows = conn
        .fetch_all(Sql::new(
            "SELECT id, secret, previous_secret, headers, auth FROM endpoints",
        ))
        .await?;
    let mut count = 0;
    for row in &rows {
        let id = row.text("id")?;
        for (column, kind) in ENDPOINT_SEALED {
            let Some(stored) = row.opt_text(column)? else {
                continue;
            };
            let plain = match (crypto::is_sealed(&stored), old) {
                (true, Some(old)) => open_endpoint_value(old, &id, kind, &stored)?,
                (true, None) => continue,
                (false, _) => stored,
            };
            // Column names come from the constant above, never from input.
            conn.execute(
                Sql::new(&format!("UPDATE endpoints SET {column} = $1 WHERE id = $2"))
                    .bind(seal_endpoint_value(new, &id, kind, &plain))
                    .bind(&id),
            )
            .await?;
            count += 1;
        }
    }
    Ok(count)
}
