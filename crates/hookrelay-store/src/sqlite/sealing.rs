//! The master key check of a SQLite database, and sealing values written before
//! encryption at rest existed. The formats and bindings are the crate's
//! [`sealing`](crate::sealing); re-sealing under a new key is [`reseal`](crate::reseal).

use sqlx::SqlitePool;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::sealing::{CHECK_KEY, verify_check};

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
            let sealed = crate::reseal::endpoints(&mut *tx, None, cipher).await?;
            if sealed > 0 {
                tracing::info!(
                    values = sealed,
                    "sealed credentials stored in plain text by an earlier version"
                );
            }
            crate::reseal::write_check(&mut *tx, cipher).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
