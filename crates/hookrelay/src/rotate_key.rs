//! `hookrelay rotate-master-key`: re-seal every stored credential under a new master key.
//!
//! With a key file, the new key is written to `<key file>.new` first, the database is
//! re-sealed in one transaction, then the new file replaces the old. A crash between
//! the commit and the rename is finished by the next start, which finds that only the
//! `.new` key opens the database. With `HOOKRELAY_MASTER_KEY` (always so on PostgreSQL,
//! whose processes must all be stopped first), the operator supplies the
//! new key (`--new-key`), so it is never only in this process's memory.

use hookrelay_server::master_key::{self, KeyOrigin};
use hookrelay_store::crypto::MasterKey;

use crate::cli::{RotateKeyArgs, ServeArgs};

/// Runs the rotation and says where the new key is.
pub async fn run(args: RotateKeyArgs) -> anyhow::Result<()> {
    let config = crate::settings::load(&ServeArgs {
        config: args.config,
        database_url: args.database_url,
        ..ServeArgs::default()
    })?;
    let url = &config.database_url;
    if hookrelay_server::startup::is_postgres(url) {
        return rotate_postgres(&config, args.new_key.as_deref()).await;
    }
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "unsupported database URL {url:?}: use sqlite://file.db or postgres://…"
    );
    let new_key = match &args.new_key {
        Some(text) => MasterKey::parse(text).map_err(|e| anyhow::anyhow!("--new-key: {e}"))?,
        None => MasterKey::generate(),
    };
    let (store, origin) =
        hookrelay_server::startup::open_sqlite(url, config.master_key.as_deref()).await?;
    match origin {
        KeyOrigin::File { path, .. } => {
            let pending = master_key::pending_key_file(&path);
            // The current key opened the database, so a leftover `.new` file belongs to
            // a rotation that never committed.
            let _ = std::fs::remove_file(&pending);
            master_key::write_key_file(&pending, &new_key)?;
            let n = store
                .rotate_master_key(&master_key::cipher(&new_key))
                .await?;
            master_key::replace_key_file(&pending, &path)?;
            println!(
                "re-sealed {n} stored values; the new master key is in {}",
                path.display()
            );
        }
        KeyOrigin::Configured => {
            anyhow::ensure!(
                args.new_key.is_some(),
                "the master key comes from HOOKRELAY_MASTER_KEY: pass the new one with --new-key \
                 (e.g. --new-key \"$(openssl rand -base64 32)\"), then set HOOKRELAY_MASTER_KEY to it"
            );
            let n = store
                .rotate_master_key(&master_key::cipher(&new_key))
                .await?;
            println!(
                "re-sealed {n} stored values; set HOOKRELAY_MASTER_KEY to the new key before the next start"
            );
        }
        KeyOrigin::Ephemeral => {
            anyhow::bail!("an in-memory database has no stored secrets to rotate")
        }
    }
    Ok(())
}

/// PostgreSQL: the key always comes from `HOOKRELAY_MASTER_KEY`, so the operator gives
/// the new one, stops every process first, and starts them again with the new key.
async fn rotate_postgres(
    config: &hookrelay_server::Config,
    new_key: Option<&str>,
) -> anyhow::Result<()> {
    let text = new_key.ok_or_else(|| {
        anyhow::anyhow!(
            "a PostgreSQL database's key comes from HOOKRELAY_MASTER_KEY: pass the new one with \
             --new-key (e.g. --new-key \"$(openssl rand -base64 32)\")"
        )
    })?;
    let new_key = MasterKey::parse(text).map_err(|e| anyhow::anyhow!("--new-key: {e}"))?;
    let store = hookrelay_server::startup::open_postgres(config).await?;
    let n = store
        .rotate_master_key(&master_key::cipher(&new_key))
        .await?;
    println!(
        "re-sealed {n} stored values; set HOOKRELAY_MASTER_KEY to the new key in every process before starting them again"
    );
    Ok(())
}
