//! Endpoints of a scope: create, read, patch, delete and declarative apply.

use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::EndpointId;
use hookrelay_core::scope::Scope;

use super::sql::{Conn, Db, Sql};
use crate::changes;
use crate::classify;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{ApplyReport, EndpointInput, EndpointPatch, EndpointRecord, Page, PageRequest};
use crate::rows::{self, Columns, endpoint_columns};
use crate::sealing::seal_endpoint_value;

const SELECT: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", s.events AS sub_events FROM endpoints ep LEFT JOIN subscriptions s ON s.endpoint_id = ep.id \
     WHERE ep.scope = $1"
);

async fn fetch(
    conn: &mut impl Conn,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<Option<EndpointRecord>> {
    let mut sql = Sql::new(SELECT).bind(scope.as_str());
    sql.push(" AND ep.code = ").push_bind(code);
    conn.fetch_optional(sql)
        .await?
        .map(|r| rows::endpoint(&r, cipher))
        .transpose()
}

/// [`fetch`], or `NotFound`.
async fn existing(
    conn: &mut impl Conn,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<EndpointRecord> {
    fetch(conn, cipher, scope, code)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("endpoint {code:?} in scope {scope}")))
}

/// [`fetch`] of a row this transaction just wrote.
async fn written(
    conn: &mut impl Conn,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<EndpointRecord> {
    fetch(conn, cipher, scope, code)
        .await?
        .ok_or(StoreError::Corrupt("endpoints"))
}

pub(crate) async fn get(
    db: &impl Db,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
) -> StoreResult<Option<EndpointRecord>> {
    fetch(&mut *db.acquire().await?, cipher, scope, code).await
}

pub(crate) async fn list(
    db: &impl Db,
    cipher: &Cipher,
    scope: &Scope,
    page: PageRequest,
) -> StoreResult<Page<EndpointRecord>> {
    let mut q = Sql::new(SELECT).bind(scope.as_str());
    if let Some(cursor) = page.cursor {
        q.push(" AND ep.code > ").push_bind(cursor);
    }
    q.push(" ORDER BY ep.code LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = db.acquire().await?.fetch_all(q).await?;
    let items = found
        .iter()
        .map(|r| rows::endpoint(r, cipher))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |e| e.code.clone()))
}

async fn insert(
    conn: &mut impl Conn,
    cipher: &Cipher,
    scope: &Scope,
    input: &EndpointInput,
    secret: &str,
    now: i64,
) -> StoreResult<()> {
    let id = EndpointId::generate();
    let seal = |kind, plain: &str| seal_endpoint_value(cipher, id.as_str(), kind, plain);
    let sql = Sql::new(
        "INSERT INTO endpoints (id, scope, code, name, url, enabled, disabled_reason, headers, auth, timeout_ms, \
         rate_limit, secret, created_at, updated_at, targets) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
    .bind(input.targets.as_ref().map(rows::to_json));
    match conn.execute(sql).await {
        Err(e) if classify::is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "endpoint {:?} already exists in scope {scope}",
            input.code
        ))),
        other => other.map(drop),
    }
}

/// Writes every field of `input` over the stored endpoint `existing`.
async fn overwrite(
    conn: &mut impl Conn,
    cipher: &Cipher,
    existing: &EndpointRecord,
    input: &EndpointInput,
    now: i64,
) -> StoreResult<()> {
    let seal = |kind, plain: &str| seal_endpoint_value(cipher, existing.id.as_str(), kind, plain);
    let reenabled = changes::reenables(existing, input);
    let sql = Sql::new(
        "UPDATE endpoints SET name = $1, url = $2, enabled = $3, disabled_reason = $4, headers = $5, auth = $6, \
         timeout_ms = $7, rate_limit = $8, secret = $9, updated_at = $10, targets = $11, \
         failure_streak = CASE WHEN $12 THEN 0 ELSE failure_streak END, \
         failing_since = CASE WHEN $13 THEN NULL ELSE failing_since END WHERE id = $14",
    )
    .bind(&input.name)
    .bind(&input.url)
    .bind(input.enabled)
    .bind(changes::disabled_reason(existing, input))
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
    .bind(existing.id.as_str());
    conn.execute(sql).await?;
    Ok(())
}

pub(crate) async fn create<D: Db>(
    db: &D,
    cipher: &Cipher,
    scope: &Scope,
    input: EndpointInput,
) -> StoreResult<EndpointRecord> {
    let mut tx = db.begin().await?;
    let secret = input.secret.as_deref().unwrap_or(&input.generated_secret);
    insert(&mut *tx, cipher, scope, &input, secret, now_ms()).await?;
    let record = written(&mut *tx, cipher, scope, &input.code).await?;
    D::commit(tx).await?;
    Ok(record)
}

pub(crate) async fn update<D: Db>(
    db: &D,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
    patch: EndpointPatch,
) -> StoreResult<EndpointRecord> {
    let mut tx = db.begin().await?;
    let existing = existing(&mut *tx, cipher, scope, code).await?;
    let input = changes::patched(&existing, patch);
    overwrite(&mut *tx, cipher, &existing, &input, now_ms()).await?;
    let record = written(&mut *tx, cipher, scope, code).await?;
    D::commit(tx).await?;
    Ok(record)
}

pub(crate) async fn delete(db: &impl Db, scope: &Scope, code: &str) -> StoreResult<bool> {
    let sql = Sql::new("DELETE FROM endpoints WHERE scope = $1 AND code = $2")
        .bind(scope.as_str())
        .bind(code);
    Ok(db.acquire().await?.execute(sql).await? > 0)
}

pub(crate) async fn rotate_secret<D: Db>(
    db: &D,
    cipher: &Cipher,
    scope: &Scope,
    code: &str,
    secret: &str,
    previous_until: Option<i64>,
) -> StoreResult<EndpointRecord> {
    let mut tx = db.begin().await?;
    let existing = existing(&mut *tx, cipher, scope, code).await?;
    // The current secret's sealed text moves to `previous_secret` as it is: both columns
    // seal the kind `secret` of the same endpoint.
    let sql = Sql::new(
        "UPDATE endpoints SET previous_secret = CASE WHEN $1 IS NULL THEN NULL ELSE secret END, \
         previous_secret_expires_at = $2, secret = $3, updated_at = $4 WHERE id = $5",
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
    .bind(existing.id.as_str());
    tx.execute(sql).await?;
    let record = written(&mut *tx, cipher, scope, code).await?;
    D::commit(tx).await?;
    Ok(record)
}

pub(crate) async fn apply<D: Db>(
    db: &D,
    cipher: &Cipher,
    scope: &Scope,
    inputs: Vec<EndpointInput>,
) -> StoreResult<ApplyReport> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut report = ApplyReport::default();
    for input in &inputs {
        match fetch(&mut *tx, cipher, scope, &input.code).await? {
            Some(existing) if changes::differs(&existing, input) => {
                overwrite(&mut *tx, cipher, &existing, input, now).await?;
                report.updated.push(input.code.clone());
            }
            Some(_) => report.unchanged.push(input.code.clone()),
            None => {
                let secret = input.secret.as_deref().unwrap_or(&input.generated_secret);
                insert(&mut *tx, cipher, scope, input, secret, now).await?;
                report.created.push(input.code.clone());
            }
        }
    }
    let codes = tx
        .fetch_all(
            Sql::new("SELECT code FROM endpoints WHERE scope = $1 ORDER BY code")
                .bind(scope.as_str()),
        )
        .await?;
    for row in &codes {
        let code = row.text("code")?;
        if !inputs.iter().any(|i| i.code == code) {
            let sql = Sql::new("DELETE FROM endpoints WHERE scope = $1 AND code = $2")
                .bind(scope.as_str())
                .bind(&code);
            tx.execute(sql).await?;
            report.deleted.push(code);
        }
    }
    D::commit(tx).await?;
    Ok(report)
}
