//! The inbound request log and the transaction that records a request: the log row,
//! the deduplication check, the forward deliveries and the published event, together —
//! so a request answered 202 is forwarded even if the process dies the next instant.

use std::collections::HashMap;
use std::sync::Arc;

use hookrelay_core::ids::{DeliveryId, EventId, RequestId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};

use super::publish;
use super::rows::{self, endpoint_columns};
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    DeliveryJob, DeliveryStatus, ForwardRecord, InboundOutcome, InboundPayload, InboundRecord,
    InboundStatus, NewInbound, Page, PageRequest,
};

/// The scope holding a source's forward endpoints (`forward-1`, `forward-2`, …).
pub fn forward_scope(source: &str) -> String {
    format!("inbound:{source}")
}

/// The delivery `event_type` of a forward.
pub const FORWARD_TYPE: &str = "inbound";

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
        let scope = forward_scope(&req.source);
        let targets = sqlx::query(FORWARD_ENDPOINTS)
            .bind(&scope)
            .fetch_all(&mut **tx)
            .await?;
        let payload = Arc::new(InboundPayload {
            request_id: req.id.clone(),
            source: req.source.clone(),
            verified: req.verified.clone().unwrap_or_default(),
            headers: req.headers.clone(),
            body: req.body.clone(),
        });
        let mut forward_jobs = Vec::with_capacity(targets.len());
        for row in &targets {
            forward_jobs.push(DeliveryJob {
                delivery_id: DeliveryId::generate(),
                attempts_made: 0,
                due_at: req.received_at,
                // A forward's "event" is the request: its id is the delivery's event_id.
                event_id: EventId::from_stored(req.id.to_string()),
                event_type: FORWARD_TYPE.to_owned(),
                event_created_at: req.received_at,
                data: Arc::from(""),
                scope: scope.clone(),
                endpoint: Some(Arc::new(rows::target(row, cipher)?)),
                inbound: Some(Arc::clone(&payload)),
            });
        }
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

fn record_row(row: &SqliteRow, detail: bool) -> StoreResult<InboundRecord> {
    let status: String = row.try_get("status")?;
    Ok(InboundRecord {
        id: RequestId::from_stored(row.try_get("id")?),
        source: row.try_get("source")?,
        received_at: row.try_get("received_at")?,
        status: InboundStatus::parse(&status)
            .ok_or(StoreError::Corrupt("inbound_requests.status"))?,
        reason: row.try_get("reason")?,
        client_ip: row.try_get("client_ip")?,
        dedupe_key: row.try_get("dedupe_key")?,
        body_size: row.try_get::<i64, _>("body_size")?.max(0) as usize,
        verified: row.try_get("verified")?,
        event_id: row.try_get("event_id")?,
        forwards: Vec::new(),
        headers: if detail {
            rows::json_col(row, "headers", "inbound_requests.headers")?
        } else {
            None
        },
        body: if detail {
            Some(row.try_get::<Vec<u8>, _>("body")?.into())
        } else {
            None
        },
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
        let status: String = row.try_get("status")?;
        out.entry(row.try_get("event_id")?)
            .or_default()
            .push(ForwardRecord {
                delivery_id: DeliveryId::from_stored(row.try_get("id")?),
                endpoint: row.try_get("endpoint_code")?,
                url: row.try_get("url")?,
                status: DeliveryStatus::parse(&status)
                    .ok_or(StoreError::Corrupt("deliveries.status"))?,
            });
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
        .map(|r| record_row(r, false))
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
    let mut rec = record_row(&row, true)?;
    rec.forwards = forwards(pool, &[rec.id.to_string()])
        .await?
        .remove(rec.id.as_str())
        .unwrap_or_default();
    Ok(Some(rec))
}
