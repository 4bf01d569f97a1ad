//! `rotate-master-key` on PostgreSQL, with the real binary: the stored secrets are
//! re-sealed under the new key, the old key no longer opens the database, and the
//! secrets read back the same under the new one.
//!
//! Needs PostgreSQL (see `common::postgres_url`).

use std::process::Command;

use serde_json::json;

mod common;
use common::{postgres_url, spawn, stop};

const TOKEN: &str = "pg-key-admin";
const OLD_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NEW_KEY: &str = "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_re_seals_a_postgres_database() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("key_{}_{started}", std::process::id());
    let with_key = |key: &'static str| {
        vec![
            ("HOOKRELAY_DATABASE_URL", url.clone()),
            ("HOOKRELAY_DATABASE_SCHEMA", schema.clone()),
            ("HOOKRELAY_MASTER_KEY", key.to_owned()),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN.to_owned()),
        ]
    };
    let envs = with_key(OLD_KEY);
    let refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = spawn(dir.path(), &refs);
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v1/scopes/s/endpoints", server.base))
        .bearer_auth(TOKEN)
        .json(&json!({"code": "e", "url": "https://example.com/hook", "secret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    stop(&mut server, "-TERM");

    // Without --new-key there is nothing to rotate to: refused, nothing changed.
    let refused = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .arg("rotate-master-key")
        .current_dir(dir.path())
        .env_clear()
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--new-key"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let rotated = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(["rotate-master-key", "--new-key", NEW_KEY])
        .current_dir(dir.path())
        .env_clear()
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(out.contains("re-sealed "), "{out}");

    // The old key no longer opens the database.
    let old = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("HOOKRELAY_LISTEN", "127.0.0.1:0")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_eq!(old.status.code(), Some(1));
    let err = String::from_utf8_lossy(&old.stderr);
    assert!(err.contains("master key"), "{err}");

    // The new one does, and the secret reads back unchanged.
    let envs = with_key(NEW_KEY);
    let refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = spawn(dir.path(), &refs);
    let secret: serde_json::Value = client
        .get(format!(
            "{}/api/v1/scopes/s/endpoints/e/secret",
            server.base
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(secret["secret"], SECRET);
    stop(&mut server, "-TERM");
}
