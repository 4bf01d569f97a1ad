//! The delivery log and what the dispatcher loads. (Re-queueing — manual retries and
//! recovery — is each backend's own: PostgreSQL also ends leases and signals workers.)

use hookrelay_core::ids::DeliveryId;

use super::sql::{Conn, Db, Sql};
use crate::crypto::Cipher;
use crate::error::StoreResult;
use crate::model::{
    AttemptRecord, DeliveryFilter, DeliveryJob, DeliveryRecord, Page, PageRequest, PendingStats,
};
use crate::rows::{self, Columns, job_select};

pub(crate) async fn list(
    db: &impl Db,
    filter: DeliveryFilter,
    page: PageRequest,
) -> StoreResult<Page<DeliveryRecord>> {
    let mut q = Sql::new("SELECT * FROM deliveries WHERE 1 = 1");
    if let Some(scope) = filter.scope {
        q.push(" AND scope = ").push_bind(scope);
    }
    if let Some(allowed) = filter.allowed_scopes {
        q.push(" AND scope IN ").push_list(&allowed);
    }
    if let Some(endpoint) = filter.endpoint {
        q.push(" AND endpoint_code = ").push_bind(endpoint);
    }
    if let Some(event) = filter.event_id {
        q.push(" AND event_id = ").push_bind(event);
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(event_type) = filter.event_type {
        q.push(" AND event_type = ").push_bind(event_type);
    }
    // Ids are time-ordered, so a time range is a range of the key every index ends in.
    if let Some(since) = filter.since {
        q.push(" AND id >= ")
            .push_bind(DeliveryId::time_bound(since));
    }
    if let Some(until) = filter.until {
        q.push(" AND id < ")
            .push_bind(DeliveryId::time_bound(until));
    }
    if let Some(cursor) = page.cursor {
        q.push(" AND id < ").push_bind(cursor);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = db.acquire().await?.fetch_all(q).await?;
    let items = found
        .iter()
        .map(rows::delivery)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |d| d.id.to_string()))
}

/// One delivery and its attempts, if its scope is one of the `allowed` (`None`: any).
pub(crate) async fn get(
    db: &impl Db,
    id: &str,
    allowed: Option<&[String]>,
) -> StoreResult<Option<(DeliveryRecord, Vec<AttemptRecord>)>> {
    let mut sql = Sql::new("SELECT * FROM deliveries WHERE id = ");
    sql.push_bind(id);
    if let Some(allowed) = allowed {
        sql.push(" AND scope IN ").push_list(allowed);
    }
    let mut conn = db.acquire().await?;
    let Some(row) = conn.fetch_optional(sql).await? else {
        return Ok(None);
    };
    let delivery = rows::delivery(&row)?;
    let attempts = conn
        .fetch_all(Sql::new("SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY n").bind(id))
        .await?
        .iter()
        .map(rows::attempt)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((delivery, attempts)))
}

const LOAD_JOB: &str = concat!(job_select!(), "WHERE d.id = $1 AND d.status = 'pending'");

pub(crate) async fn load_job(
    db: &impl Db,
    cipher: &Cipher,
    id: &DeliveryId,
) -> StoreResult<Option<DeliveryJob>> {
    db.acquire()
        .await?
        .fetch_optional(Sql::new(LOAD_JOB).bind(id.as_str()))
        .await?
        .map(|row| rows::job(&row, cipher))
        .transpose()
}

pub(crate) async fn pending(db: &impl Db) -> StoreResult<Vec<(DeliveryId, i64)>> {
    let sql = Sql::new(
        "SELECT id, next_attempt_at FROM deliveries WHERE status = 'pending' ORDER BY next_attempt_at",
    );
    db.acquire()
        .await?
        .fetch_all(sql)
        .await?
        .iter()
        .map(|r| {
            Ok((
                DeliveryId::from_stored(r.text("id")?),
                r.opt_int("next_attempt_at")?.unwrap_or(0),
            ))
        })
        .collect()
}

/// Both halves walk the `deliveries_by_status (status, id)` index: the count over the
/// pending entries, the oldest as the first of them (ids sort by creation, UUID v7), so
/// a scrape costs no table scan however long the table's history is.
const PENDING_STATS: &str = "SELECT \
     (SELECT count(*) FROM deliveries WHERE status = 'pending') AS n, \
     (SELECT created_at FROM deliveries WHERE status = 'pending' ORDER BY id LIMIT 1) AS oldest";

pub(crate) async fn pending_stats(db: &impl Db) -> StoreResult<PendingStats> {
    let row = db
        .acquire()
        .await?
        .fetch_optional(Sql::new(PENDING_STATS))
        .await?;
    let Some(row) = row else {
        return Ok(PendingStats::default());
    };
    Ok(PendingStats {
        count: u64::try_from(row.int("n")?).unwrap_or(0),
        oldest_created_at: row.opt_int("oldest")?,
    })
}
