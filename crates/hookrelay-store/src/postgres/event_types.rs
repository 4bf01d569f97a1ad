//! The event type registry.

use hookrelay_core::clock::now_ms;
use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::operational;
use sqlx::{PgConnection, PgPool, Postgres};

use crate::changes;
use crate::error::StoreResult;
use crate::model::{EventTypeRecord, Page, PageRequest, SyncReport};
use crate::rows;

async fn fetch(conn: &mut PgConnection, code: &str) -> StoreResult<Option<EventTypeRecord>> {
    sqlx::query("SELECT * FROM event_types WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?
        .map(|r| rows::event_type(&r))
        .transpose()
}

pub(crate) async fn get(pool: &PgPool, code: &str) -> StoreResult<Option<EventTypeRecord>> {
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, code).await
}

/// Upserts one type inside `conn`'s transaction; `Some(created)` when anything changed.
async fn upsert(
    conn: &mut PgConnection,
    def: &EventTypeDef,
    now: i64,
) -> StoreResult<Option<bool>> {
    let existing = fetch(conn, &def.code).await?;
    let schema = def.schema.as_ref().map(rows::to_json);
    match existing {
        Some(e) if changes::type_unchanged(&e, def) => Ok(None),
        Some(_) => {
            sqlx::query(
                "UPDATE event_types SET name = $1, description = $2, schema = $3, archived = FALSE, updated_at = $4 WHERE code = $5",
            )
            .bind(&def.name)
            .bind(&def.description)
            .bind(schema)
            .bind(now)
            .bind(&def.code)
            .execute(&mut *conn)
            .await?;
            Ok(Some(false))
        }
        None => {
            sqlx::query(
                "INSERT INTO event_types (code, name, description, schema, archived, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $6)",
            )
            .bind(&def.code)
            .bind(&def.name)
            .bind(&def.description)
            .bind(schema)
            .bind(now)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(Some(true))
        }
    }
}

pub(crate) async fn put(pool: &PgPool, def: EventTypeDef) -> StoreResult<(EventTypeRecord, bool)> {
    let mut tx = pool.begin().await?;
    let created = upsert(&mut tx, &def, now_ms()).await?.unwrap_or(false);
    let record = fetch(&mut tx, &def.code)
        .await?
        .ok_or(crate::StoreError::Corrupt("event_types"))?;
    tx.commit().await?;
    Ok((record, created))
}

pub(crate) async fn list(
    pool: &PgPool,
    include_archived: bool,
    page: PageRequest,
) -> StoreResult<Page<EventTypeRecord>> {
    let mut q = sqlx::QueryBuilder::<Postgres>::new("SELECT * FROM event_types WHERE 1 = 1");
    if !include_archived {
        q.push(" AND archived = FALSE");
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND code > ").push_bind(cursor);
    }
    q.push(" ORDER BY code LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let rows = q.build().fetch_all(pool).await?;
    let items = rows
        .iter()
        .map(rows::event_type)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |t| t.code.clone()))
}

pub(crate) async fn archive(pool: &PgPool, code: &str) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE event_types SET archived = TRUE, updated_at = $1 WHERE code = $2")
            .bind(now_ms())
            .bind(code)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn sync(
    pool: &PgPool,
    defs: Vec<EventTypeDef>,
    dry_run: bool,
) -> StoreResult<SyncReport> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let mut report = SyncReport::default();
    for def in &defs {
        match upsert(&mut tx, def, now).await? {
            Some(true) => report.created.push(def.code.clone()),
            Some(false) => report.updated.push(def.code.clone()),
            None => report.unchanged.push(def.code.clone()),
        }
    }
    let live: Vec<String> =
        sqlx::query_scalar("SELECT code FROM event_types WHERE archived = FALSE ORDER BY code")
            .fetch_all(&mut *tx)
            .await?;
    for code in live {
        // The operational types are Hookrelay's own; a user's registry file omits them.
        if !defs.iter().any(|d| d.code == code) && !operational::is_builtin(&code) {
            sqlx::query("UPDATE event_types SET archived = TRUE, updated_at = $1 WHERE code = $2")
                .bind(now)
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            report.archived.push(code);
        }
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(report)
}
