//! The user config file that `hookrelay login` writes and every client command reads:
//! `$XDG_CONFIG_HOME/hookrelay/config.toml`, else `~/.config/hookrelay/config.toml`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What the file holds.
#[derive(Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Shows whether a token is set, never the token.
impl std::fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserConfig")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where the file is, or `None` when neither `XDG_CONFIG_HOME` nor `HOME` is set.
pub fn path() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("hookrelay").join("config.toml"));
    }
    non_empty("HOME").map(|home| {
        PathBuf::from(home)
            .join(".config")
            .join("hookrelay")
            .join("config.toml")
    })
}

/// Reads the file; a missing file is an empty config, an unreadable one an error (a
/// half-understood config would send requests to the wrong server).
pub fn load(path: &Path) -> anyhow::Result<UserConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("the config file {} is not valid", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserConfig::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the file with mode 0600 (it holds a token), creating its folder.
pub fn save(path: &Path, config: &UserConfig) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .context("the config path has no parent folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string(config).context("cannot write the config as TOML")?;
    // Written to a sibling created 0600 and renamed over, so the token is never readable
    // by others, not even for a moment, and a crash leaves the old file whole.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    restrict(tmp.as_file())?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn restrict(file: &std::fs::File) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_file: &std::fs::File) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hookrelay").join("config.toml");
        assert_eq!(load(&path).unwrap(), UserConfig::default());
        let config = UserConfig {
            server: Some("http://127.0.0.1:9999".into()),
            token: Some("hr_\"quoted\"".into()),
        };
        save(&path, &config).unwrap();
        assert_eq!(load(&path).unwrap(), config);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
