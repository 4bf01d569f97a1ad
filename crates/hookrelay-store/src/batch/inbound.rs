//! The transaction that records an inbound request: the log row,
//! the deduplication check, the forward deliveries and the published event, together —
//! so a request answered 202 is forwarded even if the process dies the next instant.

use std::future::Future;

use hookrelay_core::ids::RequestId;

use super::publish::{self, PublishStatements};
use crate::crypto::Cipher;
use crate::error::{StoreError, StoreResult};
use crate::fanout::{self, forward_scope};
use crate::model::{InboundOutcome, InboundStatus, NewInbound};
use crate::queries::sql::Sql;
use crate::rows::{self, Columns, endpoint_columns};

const FORWARD_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    " FROM endpoints ep WHERE ep.scope = $1 AND ep.enabled = $2 ORDER BY ep.code"
);

/// What recording a request needs beyond a publish's statements.
pub(crate) trait InboundStatements: PublishStatements {
    /// Makes the duplicate check and the insert of one source's `key` happen one
    /// transaction at a time, until this one ends.
    fn lock_dedupe_key(
        &mut self,
        source: &str,
        key: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Records one request inside a writer's transaction.
pub(crate) async fn record<C: InboundStatements>(
    conn: &mut C,
    cipher: &Cipher,
    req: &NewInbound,
) -> StoreResult<InboundOutcome> {
    let mut status = req.status;
    let mut reason = req.reason.clone();
    let mut duplicate_of = None;
    if let (InboundStatus::Accepted, Some(key)) = (status, &req.dedupe_key) {
        conn.lock_dedupe_key(&req.source, key).await?;
        let first = Sql::new(
            "SELECT id FROM inbound_requests WHERE source = $1 AND dedupe_key = $2 \
             AND status = 'accepted' AND received_at >= $3 ORDER BY received_at LIMIT 1",
        )
        .bind(&req.source)
        .bind(key)
        .bind(req.received_at - req.dedupe_window_ms);
        if let Some(row) = conn.fetch_optional(first).await? {
            let first = row.text("id")?;
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
            let mut out = publish::write_batch(conn, cipher, &[event])
                .await?
                .pop()
                .ok_or(StoreError::Corrupt("inbound publish"))?;
            jobs.append(&mut out.jobs);
            published = Some(out);
        }
        let endpoints = Sql::new(FORWARD_ENDPOINTS)
            .bind(forward_scope(&req.source))
            .bind(true);
        let targets = conn
            .fetch_all(endpoints)
            .await?
            .iter()
            .map(|row| rows::target(row, cipher))
            .collect::<StoreResult<Vec<_>>>()?;
        let forward_jobs = fanout::forwards(req, targets);
        forwards = forward_jobs.len();
        conn.insert_deliveries(&forward_jobs.iter().collect::<Vec<_>>())
            .await?;
        jobs.extend(forward_jobs);
    }

    let insert = Sql::new(
        "INSERT INTO inbound_requests (id, source, received_at, status, reason, client_ip, dedupe_key, \
         headers, body, verified, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(req.id.as_str())
    .bind(&req.source)
    .bind(req.received_at)
    .bind(status.as_str())
    .bind(reason)
    .bind(req.client_ip.clone())
    .bind(req.dedupe_key.clone())
    .bind(rows::to_json(&req.headers))
    .bind(req.body.to_vec())
    .bind(req.verified.clone())
    .bind(published.as_ref().map(|p| p.event_id.to_string()));
    conn.execute(insert).await?;

    Ok(InboundOutcome {
        id: req.id.clone(),
        status,
        duplicate_of,
        forwards,
        published,
        jobs,
    })
}
