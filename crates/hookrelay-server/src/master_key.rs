//! Where the master key comes from: `HOOKRELAY_MASTER_KEY`, or a key file next to the
//! SQLite database that the first start creates (mode 0600).
//!
//! Opening the store checks the key (the database holds a sealed check value), so a
//! wrong key stops the start at once instead of failing at the first delivery.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hookrelay_store::crypto::{Cipher, MasterKey};

/// The key a start uses, and where it came from.
pub struct ResolvedKey {
    /// The key.
    pub key: MasterKey,
    /// Where it came from.
    pub origin: KeyOrigin,
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `HOOKRELAY_MASTER_KEY` (or `master_key` in the config file or `--master-key`).
    Configured,
    /// A key file next to the database; `created` when this start wrote it.
    File {
        /// The key file.
        path: PathBuf,
        /// Whether this start generated it.
        created: bool,
    },
    /// An in-memory database: the key lives as long as the process.
    Ephemeral,
}

/// The key file for a database file: `hookrelay.db` → `hookrelay.db.key`.
pub fn key_file_for(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// The key file a rotation writes first, renamed over the key file once the database
/// is re-sealed (see [`finish_interrupted_rotation`]).
pub fn pending_key_file(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Finds the master key: the configured one, else the key file next to the database
/// (created with a fresh key if absent).
pub fn resolve(configured: Option<&str>, database_url: &str) -> anyhow::Result<ResolvedKey> {
    if let Some(text) = configured.filter(|t| !t.trim().is_empty()) {
        let key =
            MasterKey::parse(text).map_err(|e| anyhow::anyhow!("HOOKRELAY_MASTER_KEY: {e}"))?;
        return Ok(ResolvedKey {
            key,
            origin: KeyOrigin::Configured,
        });
    }
    let Some(database) = hookrelay_store::sqlite::database_file(database_url) else {
        return Ok(ResolvedKey {
            key: MasterKey::generate(),
            origin: KeyOrigin::Ephemeral,
        });
    };
    let path = key_file_for(&database);
    match read_key_file(&path)? {
        Some(key) => Ok(ResolvedKey {
            key,
            origin: KeyOrigin::File {
                path,
                created: false,
            },
        }),
        None => {
            let key = MasterKey::generate();
            write_key_file(&path, &key)?;
            Ok(ResolvedKey {
                key,
                origin: KeyOrigin::File {
                    path,
                    created: true,
                },
            })
        }
    }
}

/// Reads a key file; `None` if it does not exist. Warns when others may read it.
pub fn read_key_file(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the key file {}", path.display()));
        }
    };
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the master key file is readable by other users; chmod 600 it"
        );
    }
    let key = MasterKey::parse(&text)
        .map_err(|e| anyhow::anyhow!("the key file {}: {e}", path.display()))?;
    Ok(Some(key))
}

/// Writes a new key file, readable by its owner only, and makes it durable before the
/// database is sealed with the key (a key lost to a crash would lose every secret).
pub fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    sync_parent(path);
    Ok(())
}

/// Replaces `to` with `from` atomically and durably.
pub fn replace_key_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::rename(from, to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
    sync_parent(to);
    Ok(())
}

fn sync_parent(path: &Path) {
    // Persisting the directory entry; a failure here only weakens crash safety on
    // unusual file systems, so it is not an error.
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// The cipher for a resolved key.
pub fn cipher(key: &MasterKey) -> Cipher {
    Cipher::new(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_creates_a_private_key_file_and_the_next_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let first = resolve(None, &url).unwrap();
        let path = dir.path().join("h.db.key");
        assert_eq!(
            first.origin,
            KeyOrigin::File {
                path: path.clone(),
                created: true
            }
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let second = resolve(None, &url).unwrap();
        assert_eq!(second.key, first.key);
        assert_eq!(
            second.origin,
            KeyOrigin::File {
                path,
                created: false
            }
        );
    }

    #[test]
    fn a_configured_key_wins_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let key = MasterKey::generate();
        let got = resolve(Some(&key.to_base64()), &url).unwrap();
        assert_eq!(got.key, key);
        assert_eq!(got.origin, KeyOrigin::Configured);
        assert!(!dir.path().join("h.db.key").exists());
        let err = resolve(Some("c2hvcnQ="), &url).err().unwrap().to_string();
        assert!(
            err.contains("HOOKRELAY_MASTER_KEY") && err.contains("32 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_key_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("h.db.key"), "garbage!").unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let err = resolve(None, &url).err().unwrap().to_string();
        assert!(err.contains("h.db.key"), "{err}");
    }
}
