//! The event log.

use super::sql::{Conn, Db, Sql};
use crate::error::StoreResult;
use crate::model::{EventFilter, EventRecord, Page, PageRequest};
use crate::rows;

/// One event, if it targets one of the `allowed` scopes (`None`: any scope).
pub(crate) async fn get(
    db: &impl Db,
    id: &str,
    allowed: Option<&[String]>,
) -> StoreResult<Option<EventRecord>> {
    let mut sql = Sql::new("SELECT * FROM events e WHERE e.id = ");
    sql.push_bind(id);
    if let Some(allowed) = allowed {
        sql.push(
            " AND EXISTS (SELECT 1 FROM event_scopes s WHERE s.event_id = e.id AND s.scope IN ",
        )
        .push_list(allowed)
        .push(")");
    }
    db.acquire()
        .await?
        .fetch_optional(sql)
        .await?
        .map(|r| rows::event(&r))
        .transpose()
}

pub(crate) async fn list(
    db: &impl Db,
    filter: EventFilter,
    page: PageRequest,
) -> StoreResult<Page<EventRecord>> {
    let mut q = Sql::new("SELECT * FROM events e WHERE 1 = 1");
    if let Some(scope) = filter.scope {
        q.push(" AND EXISTS (SELECT 1 FROM event_scopes s WHERE s.event_id = e.id AND s.scope = ")
            .push_bind(scope)
            .push(")");
    }
    if let Some(allowed) = filter.allowed_scopes {
        q.push(" AND EXISTS (SELECT 1 FROM event_scopes s WHERE s.event_id = e.id AND s.scope IN ")
            .push_list(&allowed)
            .push(")");
    }
    if let Some(t) = filter.event_type {
        q.push(" AND e.type = ").push_bind(t);
    }
    if let Some(since) = filter.since {
        q.push(" AND e.created_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        q.push(" AND e.created_at < ").push_bind(until);
    }
    if let Some(key) = filter.idempotency_key {
        q.push(" AND e.idempotency_key = ").push_bind(key);
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND e.id < ").push_bind(cursor);
    }
    q.push(" ORDER BY e.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = db.acquire().await?.fetch_all(q).await?;
    let items = found
        .iter()
        .map(rows::event)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |e| e.id.to_string()))
}
