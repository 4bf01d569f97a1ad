//! Sealed credentials in the SQLite store: databases from before encryption at rest are
//! sealed on first open, a value moved to another row does not open, and a master key
//! rotation re-seals everything.

use std::collections::BTreeMap;

use hookrelay_core::scope::Scope;
use hookrelay_store::crypto::{Cipher, MasterKey};
use hookrelay_store::model::EndpointInput;
use hookrelay_store::sqlite::SqliteStore;
use hookrelay_store::{Store, StoreError};
use sqlx::sqlite::SqlitePoolOptions;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn input(code: &str) -> EndpointInput {
    EndpointInput {
        code: code.to_owned(),
        name: code.to_owned(),
        url: "https://example.com/hook".to_owned(),
        targets: None,
        enabled: true,
        headers: BTreeMap::from([("X-Api-Key".to_owned(), "k-123".to_owned())]),
        auth: None,
        timeout_ms: None,
        rate_limit: None,
        secret: Some(SECRET.to_owned()),
        generated_secret: String::new(),
    }
}

async fn raw(url: &str, sql: &str) -> Vec<String> {
    let pool = SqlitePoolOptions::new().connect(url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
    pool.close().await;
    rows
}

async fn exec(url: &str, sql: &str) {
    let pool = SqlitePoolOptions::new().connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn plain_values_of_an_older_database_are_sealed_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let key = MasterKey::generate();
    let scope = Scope::parse("s").unwrap();
    let store = SqliteStore::open(&url, Cipher::new(&key)).await.unwrap();
    store.create_endpoint(&scope, input("e")).await.unwrap();
    store.close().await;

    // What a database written before encryption at rest looks like.
    exec(
        &url,
        &format!(
            "UPDATE endpoints SET secret = '{SECRET}', headers = '{{\"X-Api-Key\":\"k-123\"}}'"
        ),
    )
    .await;
    exec(&url, "DELETE FROM meta").await;

    let store = SqliteStore::open(&url, Cipher::new(&key)).await.unwrap();
    let e = store.get_endpoint(&scope, "e").await.unwrap().unwrap();
    assert_eq!(e.secret, SECRET);
    assert_eq!(e.headers["X-Api-Key"], "k-123");
    store.close().await;
    let stored = raw(&url, "SELECT secret || ' ' || headers FROM endpoints").await;
    assert!(stored[0].starts_with("enc1:"), "{stored:?}");
    assert!(!stored[0].contains(SECRET) && !stored[0].contains("k-123"));
}

#[tokio::test]
async fn a_sealed_value_copied_to_another_endpoint_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let cipher = Cipher::new(&MasterKey::generate());
    let scope = Scope::parse("s").unwrap();
    let store = SqliteStore::open(&url, cipher.clone()).await.unwrap();
    store.create_endpoint(&scope, input("a")).await.unwrap();
    store.create_endpoint(&scope, input("b")).await.unwrap();
    store.close().await;

    exec(
        &url,
        "UPDATE endpoints SET secret = (SELECT secret FROM endpoints WHERE code = 'a') WHERE code = 'b'",
    )
    .await;
    let store = SqliteStore::open(&url, cipher).await.unwrap();
    assert!(store.get_endpoint(&scope, "a").await.unwrap().is_some());
    let err = store.get_endpoint(&scope, "b").await.unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey(_)), "{err:?}");
}

#[tokio::test]
async fn a_rotation_re_seals_every_value_under_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let scope = Scope::parse("s").unwrap();
    let store = SqliteStore::open(&url, Cipher::new(&old)).await.unwrap();
    store.create_endpoint(&scope, input("a")).await.unwrap();
    store
        .rotate_secret(
            &scope,
            "a",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            Some(i64::MAX),
        )
        .await
        .unwrap();
    let before = raw(
        &url,
        "SELECT secret || previous_secret || headers FROM endpoints",
    )
    .await;
    // secret, previous_secret and headers of one endpoint.
    assert_eq!(
        store.rotate_master_key(&Cipher::new(&new)).await.unwrap(),
        3
    );
    let after = raw(
        &url,
        "SELECT secret || previous_secret || headers FROM endpoints",
    )
    .await;
    assert_ne!(before, after);

    let err = SqliteStore::open(&url, Cipher::new(&old))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongMasterKey(_)), "{err:?}");
    let store = SqliteStore::open(&url, Cipher::new(&new)).await.unwrap();
    let e = store.get_endpoint(&scope, "a").await.unwrap().unwrap();
    assert_eq!(e.secret, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    assert_eq!(e.previous_secret.unwrap().0, SECRET);
    assert_eq!(e.headers["X-Api-Key"], "k-123");
}
