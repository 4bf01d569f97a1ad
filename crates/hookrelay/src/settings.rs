//! Where `serve` settings come from: defaults, then `hookrelay.toml`, then `HOOKRELAY_*`
//! variables, then flags.

use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use hookrelay_server::Config;

use crate::cli::ServeArgs;

/// Merges every source into one config.
pub fn load(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match &args.config {
        Some(path) => {
            anyhow::ensure!(
                path.exists(),
                "the config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        None if Path::new("hookrelay.toml").exists() => {
            figment = figment.merge(Toml::file("hookrelay.toml"))
        }
        None => {}
    }
    figment
        .merge(Env::prefixed("HOOKRELAY_"))
        .merge(Serialized::defaults(args))
        .extract()
        .context("invalid configuration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail closure returns figment::Error"
    )]
    fn flags_override_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "hookrelay.toml",
                "listen = \"127.0.0.1:9999\"\nretry_schedule = \"1s\"",
            )?;
            jail.set_env("HOOKRELAY_RETRY_SCHEDULE", "2s,3s");
            let args = ServeArgs {
                database_url: Some("sqlite://x.db".into()),
                ..ServeArgs::default()
            };
            let config = load(&args).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, "127.0.0.1:9999");
            assert_eq!(config.retry_schedule.as_deref(), Some("2s,3s"));
            assert_eq!(config.database_url, "sqlite://x.db");
            assert_eq!(config.max_payload_bytes, 1024 * 1024);
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail closure returns figment::Error"
    )]
    fn tls_paths_come_from_every_source() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("hookrelay.toml", "tls_cert = \"/etc/hookrelay/cert.pem\"")?;
            jail.set_env("HOOKRELAY_TLS_KEY", "/etc/hookrelay/key.pem");
            let args = ServeArgs {
                extra_root_certs: Some("/etc/hookrelay/private-ca.pem".into()),
                ..ServeArgs::default()
            };
            let config = load(&args).map_err(|e| e.to_string())?;
            assert_eq!(
                config.tls_cert.as_deref(),
                Some(Path::new("/etc/hookrelay/cert.pem"))
            );
            assert_eq!(
                config.tls_key.as_deref(),
                Some(Path::new("/etc/hookrelay/key.pem"))
            );
            assert_eq!(
                config.extra_root_certs.as_deref(),
                Some(Path::new("/etc/hookrelay/private-ca.pem"))
            );
            Ok(())
        });
    }
}
