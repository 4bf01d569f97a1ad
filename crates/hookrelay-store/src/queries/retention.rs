//! Retention: history older than the configured age is removed in small batches, and
//! payloads may go earlier while their rows stay. A delivery still pending is never
//! removed, nor its event or inbound request, nor the payload it will send. The same
//! statements on both backends; each round is a few short transactions, so a publish
//! never waits long behind one.

use super::sql::{Conn, Db, Sql};
use crate::error::StoreResult;
use crate::model::{PruneReport, PruneRequest};
use crate::rows::Columns;

/// Events old enough, none of whose deliveries is pending, oldest first.
const OLD_EVENTS: &str = "SELECT e.id, e.created_at AS at FROM events e WHERE e.created_at >= $1 \
     AND e.created_at < $2 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id \
     AND d.status = 'pending') ORDER BY e.created_at LIMIT $3";

/// Inbound requests old enough, none of whose forwards is pending, oldest first.
const OLD_REQUESTS: &str = "SELECT r.id, r.received_at AS at FROM inbound_requests r \
     WHERE r.received_at >= $1 AND r.received_at < $2 AND NOT EXISTS (SELECT 1 FROM deliveries d \
     WHERE d.event_id = r.id AND d.status = 'pending') ORDER BY r.received_at LIMIT $3";

/// One round: a batch of old events, a batch of old inbound requests, and (with a
/// payload age) a batch of payloads.
pub(crate) async fn prune<D: Db>(db: &D, req: &PruneRequest) -> StoreResult<PruneReport> {
    let batch = i64::try_from(req.batch.max(1)).unwrap_or(i64::MAX);
    let mut report = PruneReport {
        payload_watermark: req.payload_after,
        ..PruneReport::default()
    };

    let mut tx = db.begin().await?;
    let (events, _) = old(&mut *tx, OLD_EVENTS, 0, req.history_before, batch).await?;
    if !events.is_empty() {
        report.attempts += tx
            .execute(in_list(
                "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN ",
                &events,
                ")",
            ))
            .await?;
        report.deliveries += tx
            .execute(in_list(
                "DELETE FROM deliveries WHERE event_id IN ",
                &events,
                "",
            ))
            .await?;
        tx.execute(in_list(
            "DELETE FROM event_scopes WHERE event_id IN ",
            &events,
            "",
        ))
        .await?;
        report.events += tx
            .execute(in_list("DELETE FROM events WHERE id IN ", &events, ""))
            .await?;
    }
    D::commit(tx).await?;

    let mut tx = db.begin().await?;
    let (requests, _) = old(&mut *tx, OLD_REQUESTS, 0, req.history_before, batch).await?;
    if !requests.is_empty() {
        report.attempts += tx
            .execute(in_list(
                "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN ",
                &requests,
                ")",
            ))
            .await?;
        report.deliveries += tx
            .execute(in_list(
                "DELETE FROM deliveries WHERE event_id IN ",
                &requests,
                "",
            ))
            .await?;
        report.inbound += tx
            .execute(in_list(
                "DELETE FROM inbound_requests WHERE id IN ",
                &requests,
                "",
            ))
            .await?;
    }
    D::commit(tx).await?;

    if let Some(before) = req.payload_before {
        report.payload_watermark = before;
        let mut tx = db.begin().await?;
        let (events, newest) = old(&mut *tx, OLD_EVENTS, req.payload_after, before, batch).await?;
        if !events.is_empty() {
            report.payloads += tx
                .execute(in_list(
                    "UPDATE events SET data = 'null' WHERE id IN ",
                    &events,
                    "",
                ))
                .await?;
            tx.execute(in_list(
                "UPDATE attempts SET response_body = NULL WHERE delivery_id IN \
                 (SELECT id FROM deliveries WHERE event_id IN ",
                &events,
                ")",
            ))
            .await?;
            if events.len() as i64 == batch {
                report.payload_watermark = report
                    .payload_watermark
                    .min(next_start(newest, req.payload_after));
            }
        }
        let (requests, newest) =
            old(&mut *tx, OLD_REQUESTS, req.payload_after, before, batch).await?;
        if !requests.is_empty() {
            let mut sql = Sql::new("UPDATE inbound_requests SET body = ");
            sql.push_bind(Vec::<u8>::new())
                .push(" WHERE id IN ")
                .push_list(&requests);
            report.payloads += tx.execute(sql).await?;
            tx.execute(in_list(
                "UPDATE attempts SET response_body = NULL WHERE delivery_id IN \
                 (SELECT id FROM deliveries WHERE event_id IN ",
                &requests,
                ")",
            ))
            .await?;
            if requests.len() as i64 == batch {
                report.payload_watermark = report
                    .payload_watermark
                    .min(next_start(newest, req.payload_after));
            }
        }
        D::commit(tx).await?;
    }
    Ok(report)
}

/// The ids `query` finds in `[after, before)`, and the newest time among them.
async fn old(
    conn: &mut impl Conn,
    query: &str,
    after: i64,
    before: i64,
    batch: i64,
) -> StoreResult<(Vec<String>, i64)> {
    let rows = conn
        .fetch_all(Sql::new(query).bind(after).bind(before).bind(batch))
        .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut newest = after;
    for row in &rows {
        ids.push(row.text("id")?);
        newest = newest.max(row.int("at")?);
    }
    Ok((ids, newest))
}

/// Where the next payload round starts after a full batch that reached `newest`: there
/// again (rows of that same millisecond may remain), unless the batch made no progress
/// (a whole batch in one millisecond), then just past it, so rounds never repeat.
fn next_start(newest: i64, after: i64) -> i64 {
    if newest > after { newest } else { newest + 1 }
}

/// `head` + `(ids…)` + `tail`.
fn in_list(head: &str, ids: &[String], tail: &str) -> Sql {
    let mut sql = Sql::new(head);
    sql.push_list(ids).push(tail);
    sql
}
