//! Encryption at rest: no credential (endpoints' and inbound sources') is readable in the
//! database files, the key file is private, and a wrong key stops the start.

use std::os::unix::fs::PermissionsExt;

use hookrelay_server::master_key;
use hookrelay_store::crypto::MasterKey;
use serde_json::json;

use crate::support::{TestApp, TestReceiver, on_postgres};

/// These tests read the SQLite files and the key file beside them; on PostgreSQL the
/// store's own tests (`hookrelay-store/tests/postgres.rs`) check the raw columns.
fn sqlite_only() -> bool {
    if on_postgres() {
        eprintln!("SQLite files and key file only: not run on PostgreSQL");
    }
    on_postgres()
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HEADER_VALUE: &str = "custom-header-value-7f3a91";
const BEARER: &str = "bearer-token-value-c41d77";
const PASSWORD: &str = "basic-password-value-9e2b05";
const SOURCE_SECRET: &str = "github-source-secret-5d8c13";
const SOURCE_PASSWORD: &str = "source-basic-password-a61f4e";
const SOURCE_KEY: &str = "source-api-key-value-0b7e92";

/// Every file of the database (main file, WAL, shared memory) as bytes.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(app.dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("test.db") && !name.ends_with(".key") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn credentials_never_reach_the_database_files_in_plain_text() {
    if sqlite_only() {
        return;
    }
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "bearer", "url": receiver.url("/b"), "secret": SECRET,
                   "headers": {"X-Custom": HEADER_VALUE},
                   "auth": {"type": "bearer", "token": BEARER}}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app
        .post(
            "/scopes/s/endpoints",
            json!({"code": "basic", "url": receiver.url("/c"),
                   "auth": {"type": "basic", "username": "u", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    app.put(
        "/scopes/s/subscriptions",
        json!({"bearer": ["*"], "basic": ["*"]}),
    )
    .await;
    // A rotation moves the old secret to the previous-secret column.
    let (s, _) = app
        .post("/scopes/s/endpoints/bearer/secret/rotate", json!({}))
        .await;
    assert_eq!(s, 200);

    // The receiver gets the real values: they are sealed only at rest.
    app.publish("a", &["s"], json!({"n": 1})).await;
    let got = receiver.wait_for(2).await;
    let to_bearer = got.iter().find(|r| r.path == "/b").expect("delivered");
    assert_eq!(to_bearer.headers["x-custom"], HEADER_VALUE);
    assert_eq!(
        to_bearer.headers["authorization"],
        format!("Bearer {BEARER}")
    );
    let (_, shown) = app.get("/scopes/s/endpoints/bearer/secret").await;
    assert!(shown["secret"].as_str().unwrap().starts_with("whsec_"));

    // Inbound sources hold the providers' secrets and the credentials callers present.
    for (name, verify) in [
        ("gh", json!({"type": "github", "secrets": [SOURCE_SECRET]})),
        (
            "basic",
            json!({"type": "basic", "username": "provider", "password": SOURCE_PASSWORD}),
        ),
        (
            "keyed",
            json!({"type": "api_key", "header": "x-api-key", "values": [SOURCE_KEY]}),
        ),
    ] {
        let (s, body) = app
            .put(
                &format!("/sources/{name}"),
                json!({"verify": verify, "forward_to": [receiver.url("/in")]}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    // A request that presents the key: the request log keeps it redacted.
    let sent = app
        .client
        .post(format!("{}/in/keyed", app.base))
        .header("x-api-key", SOURCE_KEY)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 202);
    receiver.wait_for(3).await;

    // Every committed write is in the WAL or the main file; scan both.
    let bytes = database_bytes(&app);
    assert!(bytes.len() > 4096, "the database files were read");
    assert!(
        contains(&bytes, &receiver.url("/b")),
        "the scan sees what was written (the endpoint URL is not a secret)"
    );
    assert!(
        contains(&bytes, "x-api-key"),
        "the scan sees the request log (the header name is not a secret)"
    );
    for secret in [
        SECRET,
        HEADER_VALUE,
        BEARER,
        PASSWORD,
        &shown["secret"].as_str().unwrap()[6..],
        SOURCE_SECRET,
        SOURCE_PASSWORD,
        SOURCE_KEY,
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database files"
        );
    }
    let mode = std::fs::metadata(app.dir().join("test.db.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key file is private");
    app.stop().await;
}

#[tokio::test]
async fn the_database_only_opens_with_its_own_master_key() {
    if sqlite_only() {
        return;
    }
    let key = MasterKey::generate();
    let app = TestApp::with(|c| c.master_key = Some(key.to_base64())).await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    assert!(
        !app.dir().join("test.db.key").exists(),
        "a configured key writes no key file"
    );

    let other = MasterKey::generate();
    let err = app
        .build_error_with(|c| c.master_key = Some(other.to_base64()))
        .await;
    assert!(err.contains("HOOKRELAY_MASTER_KEY"), "{err}");
    let err = app
        .build_error_with(|c| c.master_key = Some("dG9vIHNob3J0".into()))
        .await;
    assert!(err.contains("32 bytes"), "{err}");
    // Without the configured key, a key file is not invented for a sealed database.
    let err = app.build_error_with(|c| c.master_key = None).await;
    assert!(err.contains("key file") && err.contains("missing"), "{err}");
    assert!(!app.dir().join("test.db.key").exists());

    // With the right key it still delivers, signing with the stored secret.
    let app = app.restart().await;
    app.publish("a", &["s"], json!({"n": 1})).await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
}

#[tokio::test]
async fn a_rotation_cut_off_before_the_key_file_was_replaced_is_finished_at_the_next_start() {
    if sqlite_only() {
        return;
    }
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "e", &receiver.url("/"), &["a"]).await;
    let (_, secret) = app.get("/scopes/s/endpoints/e/secret").await;
    let stopped = app.stop_keeping_files().await;

    // What `rotate-master-key` does, cut off after the database commit: the new key is
    // only in `test.db.key.new`.
    let key_file = stopped.dir.path().join("test.db.key");
    let (store, _) = hookrelay_server::startup::open_sqlite(&stopped.config.database_url, None)
        .await
        .unwrap();
    let new_key = MasterKey::generate();
    master_key::write_key_file(&master_key::pending_key_file(&key_file), &new_key).unwrap();
    store
        .rotate_master_key(&master_key::cipher(&new_key))
        .await
        .unwrap();

    let app = stopped.start().await;
    let (s, again) = app.get("/scopes/s/endpoints/e/secret").await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again, secret);
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        new_key.to_base64()
    );
    assert!(!master_key::pending_key_file(&key_file).exists());
    app.stop().await;
}
