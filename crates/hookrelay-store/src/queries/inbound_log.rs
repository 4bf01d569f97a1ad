//! Reading the inbound request log. (Recording a request is each backend's own: it runs
//! in the group-commit writer with the deliveries it creates.)

use std::collections::HashMap;

use super::sql::{Conn, Db, Sql};
use crate::error::StoreResult;
use crate::model::{ForwardRecord, InboundRecord, InboundStatus, Page, PageRequest};
use crate::rows;

/// The forwards of these requests, by request id.
async fn forwards(
    conn: &mut impl Conn,
    ids: &[String],
) -> StoreResult<HashMap<String, Vec<ForwardRecord>>> {
    let mut out: HashMap<String, Vec<ForwardRecord>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut q = Sql::new(
        "SELECT d.id, d.event_id, d.endpoint_code, d.status, ep.url FROM deliveries d \
         LEFT JOIN endpoints ep ON ep.id = d.endpoint_id WHERE d.event_id IN ",
    );
    q.push_list(ids).push(" ORDER BY d.endpoint_code");
    for row in conn.fetch_all(q).await? {
        let (request, forward) = rows::forward(&row)?;
        out.entry(request).or_default().push(forward);
    }
    Ok(out)
}

pub(crate) async fn list(
    db: &impl Db,
    source: &str,
    status: Option<InboundStatus>,
    page: PageRequest,
) -> StoreResult<Page<InboundRecord>> {
    // The list shows the body's size, not the body.
    let mut q = Sql::new(
        "SELECT id, source, received_at, status, reason, client_ip, dedupe_key, \
         CAST(length(body) AS BIGINT) AS body_size, verified, event_id FROM inbound_requests WHERE source = $1",
    )
    .bind(source);
    if let Some(status) = status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND id < ").push_bind(cursor);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let mut conn = db.acquire().await?;
    let mut items = conn
        .fetch_all(q)
        .await?
        .iter()
        .map(|r| rows::inbound(r, false))
        .collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<String> = items.iter().map(|r| r.id.to_string()).collect();
    let mut by_request = forwards(&mut *conn, &ids).await?;
    for item in &mut items {
        item.forwards = by_request.remove(item.id.as_str()).unwrap_or_default();
    }
    Ok(Page::from_rows(items, page.limit, |r| r.id.to_string()))
}

pub(crate) async fn get(
    db: &impl Db,
    source: &str,
    id: &str,
) -> StoreResult<Option<InboundRecord>> {
    let mut conn = db.acquire().await?;
    let sql = Sql::new(
        "SELECT *, CAST(length(body) AS BIGINT) AS body_size FROM inbound_requests \
         WHERE source = $1 AND id = $2",
    )
    .bind(source)
    .bind(id);
    let Some(row) = conn.fetch_optional(sql).await? else {
        return Ok(None);
    };
    let mut rec = rows::inbound(&row, true)?;
    rec.forwards = forwards(&mut *conn, &[rec.id.to_string()])
        .await?
        .remove(rec.id.as_str())
        .unwrap_or_default();
    Ok(Some(rec))
}
