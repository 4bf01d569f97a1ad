//! The event type registry.

use hookrelay_core::clock::now_ms;
use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::operational;

use super::sql::{Conn, Db, Sql};
use crate::changes;
use crate::error::{StoreError, StoreResult};
use crate::model::{EventTypeRecord, Page, PageRequest, SyncReport};
use crate::rows::{self, Columns};

async fn fetch(conn: &mut impl Conn, code: &str) -> StoreResult<Option<EventTypeRecord>> {
    let sql = Sql::new("SELECT * FROM event_types WHERE code = $1").bind(code);
    conn.fetch_optional(sql)
        .await?
        .map(|r| rows::event_type(&r))
        .transpose()
}

pub(crate) async fn get(db: &impl Db, code: &str) -> StoreResult<Option<EventTypeRecord>> {
    fetch(&mut *db.acquire().await?, code).await
}

/// Upserts one type inside `conn`'s transaction; `Some(created)` when anything changed.
async fn upsert(conn: &mut impl Conn, def: &EventTypeDef, now: i64) -> StoreResult<Option<bool>> {
    let existing = fetch(conn, &def.code).await?;
    let schema = def.schema.as_ref().map(rows::to_json);
    match existing {
        Some(e) if changes::type_unchanged(&e, def) => Ok(None),
        Some(_) => {
            let sql = Sql::new(
                "UPDATE event_types SET name = $1, description = $2, schema = $3, archived = FALSE, \
                 updated_at = $4 WHERE code = $5",
            )
            .bind(&def.name)
            .bind(def.description.as_deref())
            .bind(schema)
            .bind(now)
            .bind(&def.code);
            conn.execute(sql).await?;
            Ok(Some(false))
        }
        None => {
            let sql = Sql::new(
                "INSERT INTO event_types (code, name, description, schema, archived, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $6)",
            )
            .bind(&def.code)
            .bind(&def.name)
            .bind(def.description.as_deref())
            .bind(schema)
            .bind(now)
            .bind(now);
            conn.execute(sql).await?;
            Ok(Some(true))
        }
    }
}

pub(crate) async fn put<D: Db>(db: &D, def: EventTypeDef) -> StoreResult<(EventTypeRecord, bool)> {
    let mut tx = db.begin().await?;
    let created = upsert(&mut *tx, &def, now_ms()).await?.unwrap_or(false);
    let record = fetch(&mut *tx, &def.code)
        .await?
        .ok_or(StoreError::Corrupt("event_types"))?;
    D::commit(tx).await?;
    Ok((record, created))
}

pub(crate) async fn list(
    db: &impl Db,
    include_archived: bool,
    page: PageRequest,
) -> StoreResult<Page<EventTypeRecord>> {
    let mut q = Sql::new("SELECT * FROM event_types WHERE 1 = 1");
    if !include_archived {
        q.push(" AND archived = FALSE");
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND code > ").push_bind(cursor);
    }
    q.push(" ORDER BY code LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = db.acquire().await?.fetch_all(q).await?;
    let items = found
        .iter()
        .map(rows::event_type)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |t| t.code.clone()))
}

pub(crate) async fn archive(db: &impl Db, code: &str) -> StoreResult<bool> {
    let sql = Sql::new("UPDATE event_types SET archived = TRUE, updated_at = $1 WHERE code = $2")
        .bind(now_ms())
        .bind(code);
    Ok(db.acquire().await?.execute(sql).await? > 0)
}

pub(crate) async fn sync<D: Db>(
    db: &D,
    defs: Vec<EventTypeDef>,
    dry_run: bool,
) -> StoreResult<SyncReport> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut report = SyncReport::default();
    for def in &defs {
        match upsert(&mut *tx, def, now).await? {
            Some(true) => report.created.push(def.code.clone()),
            Some(false) => report.updated.push(def.code.clone()),
            None => report.unchanged.push(def.code.clone()),
        }
    }
    let live = tx
        .fetch_all(Sql::new(
            "SELECT code FROM event_types WHERE archived = FALSE ORDER BY code",
        ))
        .await?;
    for row in &live {
        let code = row.text("code")?;
        // The operational types are Hookrelay's own; a user's registry file omits them.
        if !defs.iter().any(|d| d.code == code) && !operational::is_builtin(&code) {
            let sql =
                Sql::new("UPDATE event_types SET archived = TRUE, updated_at = $1 WHERE code = $2")
                    .bind(now)
                    .bind(&code);
            tx.execute(sql).await?;
            report.archived.push(code);
        }
    }
    if dry_run {
        D::rollback(tx).await?;
    } else {
        D::commit(tx).await?;
    }
    Ok(report)
}
