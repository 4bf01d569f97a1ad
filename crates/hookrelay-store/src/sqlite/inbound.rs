//! The transaction that records an inbound request: the log row,
//! the deduplication check, the forward deliveries and the published event, together —
//! so a request answered 202 is forwarded even if the process dies the next instant.

use hookrelay_core::ids::RequestId;
use sqlx::{Sqlite, Transaction};

use super::publish;
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::fanout::{self, forward_scope};
use crate::model::{InboundOutcome, InboundStatus, NewInbound};
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
