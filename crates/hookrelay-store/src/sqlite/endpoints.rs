//! Endpoints of a scope: create, read, patch, delete and declarative apply.

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::EndpointId;
use hookrelay_core::scope::Scope;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::changes;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, Page, PageRequest};
use crate::rows::{self, endpoint_columns};
use crate::sealing::seal_endpoint_value;

const SELECT_ONE: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events FROM endpoints ep LEFT JOIN subscriptions s ON s.endpoint_id = ep.id \
     WHERE ep.scope = ? AND ep.code = ?"
);

pub(crate) async fn fetch(
    conn: &mut SqliteConnection,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<Option<EndpointRecord>> {
    sqlx::query(SELECT_ONE)
        .bind(scope.as_str())
        .bind(code)
        .fetch_optional(conn)
        .await?
        .map(|r| rows::endpoint(&r, cipher))
        .transpose()
}

pub(crate) async fn get(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<Option<EndpointRecord>> {
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, cipher, scope, code).await
}

pub(crate) async fn list(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    page: PageRequest,
) -> StoreResult<Page<EndpointRecord>> {
    let mut q = sqlx::QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        endpoint_columns!(),
        ", s.events AS sub_events FROM endpoints ep LEFT JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = "
    ));
    q.push_bind(scope.as_str().to_owned());
    if let Some(cursor) = page.cursor {
        q.push(" AND ep.code > ").push_bind(cursor);
    }
    q.push(" ORDER BY ep.code LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let rows = q.build().fetch_all(pool).await?;
    let items = rows
        .iter()
        .map(|r| rows::endpoint(r, cipher))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |e| e.code.clone()))
}

async fn insert(
    conn: &mut SqliteConnection,
    cipher: &Cipher,
    scope: &Scope,
    input: &EndpointInput,
    secret: &str,
    now: i64,
) -> StoreResult<()> {
    let id = EndpointId::generate();
    let seal = |kind, plain: &str| seal_endpoint_value(cipher, id.as_str(), kind, plain);
    let result = sqlx::query(
        "INSERT INTO endpoints (id, scope, code, name, url, enabled, disabled_reason, headers, auth, timeout_ms, \
         rate_limit, secret, created_at, updated_at, targets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_str())
    .bind(scope.as_str())
    .bind(&input.code)
    .bind(&input.name)
    .bind(&input.url)
    .bind(input.enabled)
    .bind((!input.enabled).then_some(changes::DISABLED_BY_USER))
    .bind(seal("headers", &rows::to_json(&input.headers)))
    .bind(input.auth.as_ref().map(|a| seal("auth", &rows::to_json(a))))
    .bind(input.timeout_ms.map(i64::from))
    .bind(input.rate_limit.map(i64::from))
    .bind(seal("secret", secret))
    .bind(now)
    .bind(now)
    .bind(input.targets.as_ref().map(rows::to_json))
    .execute(conn)
    .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
            format!("endpoint {:?} already exists in scope {scope}", input.code),
        )),
        other => other.map(drop).map_err(Into::into),
    }
}

/// Writes every field of `input` over the stored endpoint `id`.
async fn overwrite(
    conn: &mut SqliteConnection,
    cipher: &Cipher,
    existing: &EndpointRecord,
    input: &EndpointInput,
    now: i64,
) -> StoreResult<()> {
    let reason = changes::disabled_reason(existing, input);
    let seal = |kind, plain: &str| seal_endpoint_value(cipher, existing.id.as_str(), kind, plain);
    let reenabled = changes::reenables(existing, input);
    sqlx::query(
        "UPDATE endpoints SET name = ?, url = ?, enabled = ?, disabled_reason = ?, headers = ?, auth = ?, \
         timeout_ms = ?, rate_limit = ?, secret = ?, updated_at = ?, targets = ?, \
         failure_streak = CASE WHEN ? THEN 0 ELSE failure_streak END, \
         failing_since = CASE WHEN ? THEN NULL ELSE failing_since END WHERE id = ?",
    )
    .bind(&input.name)
    .bind(&input.url)
    .bind(input.enabled)
    .bind(reason)
    .bind(seal("headers", &rows::to_json(&input.headers)))
    .bind(input.auth.as_ref().map(|a| seal("auth", &rows::to_json(a))))
    .bind(input.timeout_ms.map(i64::from))
    .bind(input.rate_limit.map(i64::from))
    .bind(seal(
        "secret",
        input.secret.as_deref().unwrap_or(&existing.secret),
    ))
    .bind(now)
    .bind(input.targets.as_ref().map(rows::to_json))
    .bind(reenabled)
    .bind(reenabled)
    .bind(existing.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn create(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    input: EndpointInput,
) -> StoreResult<EndpointRecord> {
    let mut tx = pool.begin().await?;
    let secret = input.secret.as_deref().unwrap_or(&input.generated_secret);
    insert(&mut tx, cipher, scope, &input, secret, now_ms()).await?;
    let record = fetch(&mut tx, cipher, scope, &input.code)
        .await?
        .ok_or(StoreError::Corrupt("endpoints"))?;
    tx.commit().await?;
    Ok(record)
}

pub(crate) async fn update(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
    patch: EndpointPatch,
) -> StoreResult<EndpointRecord> {
    let mut tx = pool.begin().await?;
    let existing = fetch(&mut tx, cipher, scope, code)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("endpoint {code:?} in scope {scope}")))?;
    let input = changes::patched(&existing, patch);
    overwrite(&mut tx, cipher, &existing, &input, now_ms()).await?;
    let record = fetch(&mut tx, cipher, scope, code)
        .await?
        .ok_or(StoreError::Corrupt("endpoints"))?;
    tx.commit().await?;
    Ok(record)
}

pub(crate) async fn delete(pool: &SqlitePool, scope: &Scope, code: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM endpoints WHERE scope = ? AND code = ?")
        .bind(scope.as_str())
        .bind(code)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn rotate_secret(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
    secret: &str,
    previous_until: Option<i64>,
) -> StoreResult<EndpointRecord> {
    let mut tx = pool.begin().await?;
    let existing = fetch(&mut tx, cipher, scope, code)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("endpoint {code:?} in scope {scope}")))?;
    // The current secret's sealed text moves to `previous_secret` as it is: both columns
    // seal the kind `secret` of the same endpoint.
    sqlx::query(
        "UPDATE endpoints SET previous_secret = CASE WHEN ? IS NULL THEN NULL ELSE secret END, \
         previous_secret_expires_at = ?, secret = ?, updated_at = ? WHERE id = ?",
    )
    .bind(previous_until)
    .bind(previous_until)
    .bind(seal_endpoint_value(
        cipher,
        existing.id.as_str(),
        "secret",
        secret,
    ))
    .bind(now_ms())
    .bind(existing.id.as_str())
    .execute(&mut *tx)
    .await?;
    let record = fetch(&mut tx, cipher, scope, code)
        .await?
        .ok_or(StoreError::Corrupt("endpoints"))?;
    tx.commit().await?;
    Ok(record)
}

pub(crate) async fn apply(
    pool: &SqlitePool,
    cipher: &Cipher,
    scope: &Scope,
    inputs: Vec<EndpointInput>,
) -> StoreResult<ApplyReport> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let mut report = ApplyReport::default();
    for input in &inputs {
        match fetch(&mut tx, cipher, scope, &input.code).await? {
            Some(existing) if changes::differs(&existing, input) => {
                overwrite(&mut tx, cipher, &existing, input, now).await?;
                report.updated.push(input.code.clone());
            }
            Some(_) => report.unchanged.push(input.code.clone()),
            None => {
                let secret = input.secret.as_deref().unwrap_or(&input.generated_secret);
                insert(&mut tx, cipher, scope, input, secret, now).await?;
                report.created.push(input.code.clone());
            }
        }
    }
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM endpoints WHERE scope = ? ORDER BY code")
            .bind(scope.as_str())
            .fetch_all(&mut *tx)
            .await?;
    for code in codes {
        if !inputs.iter().any(|i| i.code == code) {
            sqlx::query("DELETE FROM endpoints WHERE scope = ? AND code = ?")
                .bind(scope.as_str())
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            report.deleted.push(code);
        }
    }
    tx.commit().await?;
    Ok(report)
}
