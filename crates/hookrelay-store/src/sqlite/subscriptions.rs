//! Subscriptions of a scope's endpoints: read and declarative apply.

use hookrelay_core::clock::now_ms;
use hookrelay_core::scope::Scope;
use sqlx::{Row, SqlitePool};

use crate::error::{StoreError, StoreResult};
use crate::model::{ApplyReport, SubscriptionRecord};
use crate::rows;

pub(crate) async fn list(pool: &SqlitePool, scope: &Scope) -> StoreResult<Vec<SubscriptionRecord>> {
    let found = sqlx::query(
        "SELECT ep.code AS code, s.events AS events, s.filter AS filter FROM subscriptions s \
         JOIN endpoints ep ON ep.id = s.endpoint_id WHERE ep.scope = ? ORDER BY ep.code",
    )
    .bind(scope.as_str())
    .fetch_all(pool)
    .await?;
    found.iter().map(rows::subscription).collect()
}

pub(crate) async fn apply(
    pool: &SqlitePool,
    scope: &Scope,
    subs: Vec<SubscriptionRecord>,
) -> StoreResult<ApplyReport> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let existing = {
        let found = sqlx::query(
            "SELECT ep.id AS id, ep.code AS code, s.events AS events, s.filter AS filter FROM endpoints ep \
             LEFT JOIN subscriptions s ON s.endpoint_id = ep.id WHERE ep.scope = ?",
        )
        .bind(scope.as_str())
        .fetch_all(&mut *tx)
        .await?;
        found
            .into_iter()
            .map(|r| -> StoreResult<_> {
                Ok((
                    r.try_get::<String, _>("code")?,
                    r.try_get::<String, _>("id")?,
                    r.try_get::<Option<String>, _>("events")?,
                    r.try_get::<Option<String>, _>("filter")?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?
    };
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
        sqlx::query(
            "INSERT INTO subscriptions (endpoint_id, events, filter, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (endpoint_id) DO UPDATE SET events = excluded.events, filter = excluded.filter, \
             updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&new_events)
        .bind(&new_filter)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if events.is_some() {
            report.updated.push(sub.endpoint.clone());
        } else {
            report.created.push(sub.endpoint.clone());
        }
    }
    for (code, id, events, _) in &existing {
        if events.is_some() && !subs.iter().any(|s| s.endpoint == *code) {
            sqlx::query("DELETE FROM subscriptions WHERE endpoint_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            report.deleted.push(code.clone());
        }
    }
    tx.commit().await?;
    Ok(report)
}
