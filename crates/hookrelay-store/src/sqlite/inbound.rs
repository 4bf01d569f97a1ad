//! The inbound request log and the transaction that records a request: the log row,
//! the deduplication check, the forward deliveries and the published event, together —
//! so a request answered 202 is forwarded even if the process dies the next instant.

use std::collections::HashMap;

use hookrelay_core::ids::RequestId;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use super::publish;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::fanout::{self, forward_scope};
use crate::model::{
    ForwardRecord, InboundOutcome, InboundRecord, InboundStatus, NewInbound, Page, PageRequest,
};
use crate::rows::{self, endpoint_columns};

const FORWARD_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    " FROM endpoints ep WHERE ep.scope = ? AND ep.enabled = 1 ORDER BY ep.code"
);

/// Records one request inside the writer's transaction.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Sqlite>,
    cipher: &Cipher,
    req: &NewInbound,
) -> StoreResult<InboundOutcome> {
    let mut status = req.status;
    let mut reason = req.reason.clone();
    let mut duplicate_of = None;
    if let (InboundStatus::Accepted, Some(key)) = (status, &req.dedupe_key) {
        let first: Option<String> = sqlx::query_scalar(
            "SELECT id FROM inbound_requests WHERE source = ? AND dedupe_key = ? \
             AND status = 'accepted' AND received_at >= ? ORDER BY received_at LIMIT 1",
        )
        .bind(&req.source)
        .bind(key)
        .bind(req.received_at - req.dedupe_window_ms)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(first) = first {
            status = InboundStatus::Duplicate;
            reason = Some(format!("duplicate of {first}"));
            duplicate_of = Some(RequestId::from_stored(first));
        }
    }

    let mut jobs = Vec::new();
    let mut published = None;
    let mut forwards = 0;
    if status == InboundStatus::Accepted {
        if let Some(event) = &req.publish {
            let mut out = publish::write_batch(tx, cipher, &[event])
                .await?
                .pop()
                .ok_or(StoreError::Corrupt("inbound publish"))?;
            jobs.append(&mut out.jobs);
            published = Some(out);
        }
        let targets = sqlx::query(FORWARD_ENDPOINTS)
            .bind(forward_scope(&req.source))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| rows::target(row, cipher))
            .collect::<StoreResult<Vec<_>>>()?;
        let forward_jobs = fanout::forwards(req, targets);
        forwards = forward_jobs.len();
        publish::insert_deliveries(tx, &forward_jobs.iter().collect::<Vec<_>>()).await?;
        jobs.extend(forward_jobs);
    }

    sqlx::query(
        "INSERT INTO inbound_requests (id, source, received_at, status, reason, client_ip, dedupe_key, \
         headers, body, verified, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(req.id.as_str())
    .bind(&req.source)
    .bind(req.received_at)
    .bind(status.as_str())
    .bind(reason)
    .bind(&req.client_ip)
    .bind(&req.dedupe_key)
    .bind(rows::to_json(&req.headers))
    .bind(req.body.as_ref())
    .bind(&req.verified)
    .bind(published.as_ref().map(|p| p.event_id.to_string()))
    .execute(&mut **tx)
    .await?;

    Ok(InboundOutcome {
        id: req.id.clone(),
        status,
        duplicate_of,
        forwards,
        published,
        jobs,
    })
}

/// The forwards of these requests, by request id.
async fn forwards(
    pool: &SqlitePool,
    ids: &[String],
) -> StoreResult<HashMap<String, Vec<ForwardRecord>>> {
    let mut out: HashMap<String, Vec<ForwardRecord>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT d.id, d.event_id, d.endpoint_code, d.status, ep.url FROM deliveries d \
         LEFT JOIN endpoints ep ON ep.id = d.endpoint_id WHERE d.event_id IN (",
    );
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.clone());
    }
    q.push(") ORDER BY d.endpoint_code");
    for row in q.build().fetch_all(pool).await? {
        let (request, forward) = rows::forward(&row)?;
        out.entry(request).or_default().push(forward);
    }
    Ok(out)
}

pub(crate) async fn list(
    pool: &SqlitePool,
    source: &str,
    status: Option<InboundStatus>,
    page: PageRequest,
) -> StoreResult<Page<InboundRecord>> {
    // The list shows the body's size, not the body.
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, source, received_at, status, reason, client_ip, dedupe_key, \
         length(body) AS body_size, verified, event_id FROM inbound_requests WHERE source = ",
    );
    q.push_bind(source.to_owned());
    if let Some(status) = status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND id < ").push_bind(cursor);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await?;
    let mut items = found
        .iter()
        .map(|r| rows::inbound(r, false))
        .collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<String> = items.iter().map(|r| r.id.to_string()).collect();
    let mut by_request = forwards(pool, &ids).await?;
    for item in &mut items {
        item.forwards = by_request.remove(item.id.as_str()).unwrap_or_default();
    }
    Ok(Page::from_rows(items, page.limit, |r| r.id.to_string()))
}

pub(crate) async fn get(
    pool: &SqlitePool,
    source: &str,
    id: &str,
) -> StoreResult<Option<InboundRecord>> {
    let Some(row) = sqlx::query(
        "SELECT *, length(body) AS body_size FROM inbound_requests WHERE source = ? AND id = ?",
    )
    .bind(source)
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let mut rec = rows::inbound(&row, true)?;
    rec.forwards = forwards(pool, &[rec.id.to_string()])
        .await?
        .remove(rec.id.as_str())
        .unwrap_or_default();
    Ok(Some(rec))
}
