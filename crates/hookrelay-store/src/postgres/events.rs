//! The event log.

use sqlx::{PgPool, Postgres};

use crate::error::StoreResult;
use crate::model::{EventFilter, EventRecord, Page, PageRequest};
use crate::rows;

pub(crate) async fn get(pool: &PgPool, id: &str) -> StoreResult<Option<EventRecord>> {
    sqlx::query("SELECT * FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| rows::event(&r))
        .transpose()
}

pub(crate) async fn list(
    pool: &PgPool,
    filter: EventFilter,
    page: PageRequest,
) -> StoreResult<Page<EventRecord>> {
    let mut q = sqlx::QueryBuilder::<Postgres>::new("SELECT * FROM events e WHERE 1 = 1");
    if let Some(scope) = filter.scope {
        q.push(" AND EXISTS (SELECT 1 FROM event_scopes s WHERE s.event_id = e.id AND s.scope = ")
            .push_bind(scope)
            .push(")");
    }
    if let Some(allowed) = filter.allowed_scopes {
        // `= ANY` rather than `IN (…)`: an empty list is valid (and matches nothing).
        q.push(
            " AND EXISTS (SELECT 1 FROM event_scopes s WHERE s.event_id = e.id AND s.scope = ANY(",
        )
        .push_bind(allowed)
        .push("))");
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
    if let Some(cursor) = page.cursor {
        q.push(" AND e.id < ").push_bind(cursor);
    }
    q.push(" ORDER BY e.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let rows = q.build().fetch_all(pool).await?;
    let items = rows
        .iter()
        .map(rows::event)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |e| e.id.to_string()))
}
