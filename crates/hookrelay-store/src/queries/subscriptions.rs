//! Subscriptions of a scope's endpoints: read and declarative apply.

use hookrelay_core::clock::now_ms;
use hookrelay_core::scope::Scope;

use super::sql::{Conn, Db, Sql};
use crate::error::{StoreError, StoreResult};
use crate::model::{ApplyReport, SubscriptionRecord};
use crate::rows::{self, Columns};

pub(crate) async fn list(db: &impl Db, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>> {
    let sql = Sql::new(
        "SELECT ep.code AS code, s.events AS events, s.filter AS filter FROM subscriptions s \
         JOIN endpoints ep ON ep.id = s.endpoint_id WHERE ep.scope = $1 ORDER BY ep.code",
    )
    .bind(scope.as_str());
    let found = db.acquire().await?.fetch_all(sql).await?;
    found.iter().map(rows::subscription).collect()
}

/// An endpoint of the scope and its stored subscription (code, id, events, filter).
type Existing = (String, String, Option<String>, Option<String>);

pub(crate) async fn apply<D: Db>(
    db: &D,
    scope: &Scope,
    subs: Vec<SubscriptionRecord>,
) -> StoreResult<ApplyReport> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let existing = tx
        .fetch_all(
            Sql::new(
                "SELECT ep.id AS id, ep.code AS code, s.events AS events, s.filter AS filter FROM endpoints ep \
                 LEFT JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = $1",
            )
            .bind(scope.as_str()),
        )
        .await?
        .iter()
        .map(|r| -> StoreResult<Existing> {
            Ok((
                r.text("code")?,
                r.text("id")?,
                r.opt_text("events")?,
                r.opt_text("filter")?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut report = ApplyReport::default();
    for sub in &subs {
        let Some((_, id, events, filter)) =
            existing.iter().find(|(code, ..)| *code == sub.endpoint)
        else {
            return Err(StoreError::Invalid {
                field: sub.endpoint.clone(),
                message: format!("no endpoint {:?} in scope {scope}", sub.endpoint),
            });
        };
        let new_events = rows::to_json(&sub.events);
        let new_filter = sub.filter.as_ref().map(rows::to_json);
        if events.as_deref() == Some(new_events.as_str()) && *filter == new_filter {
            report.unchanged.push(sub.endpoint.clone());
            continue;
        }
        let upsert = Sql::new(
            "INSERT INTO subscriptions (endpoint_id, events, filter, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (endpoint_id) DO UPDATE SET events = excluded.events, filter = excluded.filter, \
             updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(new_events)
        .bind(new_filter)
        .bind(now);
        tx.execute(upsert).await?;
        if events.is_some() {
            report.updated.push(sub.endpoint.clone());
        } else {
            report.created.push(sub.endpoint.clone());
        }
    }
    for (code, id, events, _) in &existing {
        if events.is_some() && !subs.iter().any(|s| s.endpoint == *code) {
            tx.execute(Sql::new("DELETE FROM subscriptions WHERE endpoint_id = $1").bind(id))
                .await?;
            report.deleted.push(code.clone());
        }
    }
    D::commit(tx).await?;
    Ok(report)
}
