//! The master key check of a PostgreSQL database. Credentials are sealed from the
//! first write (the formats are the crate's [`sealing`](crate::sealing)), so unlike
//! SQLite there are no plain values of an earlier version to seal.

use sqlx::PgPool;

use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::sealing::{CHECK_KEY, new_check, verify_check};

/// Checks that `cipher` holds this database's key, writing the check value if the
/// database has none yet. Processes starting together agree on one check: the first
/// insert wins and every process verifies the stored one.
pub(crate) async fn check_or_init(pool: &PgPool, cipher: &Cipher) -> StoreResult<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(CHECK_KEY)
        .bind(new_check(cipher))
        .execute(pool)
        .await?;
    let sealed: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(CHECK_KEY)
        .fetch_one(pool)
        .await?;
    verify_check(cipher, &sealed)
}
