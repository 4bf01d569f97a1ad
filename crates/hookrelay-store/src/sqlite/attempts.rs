//! SQLite's statements for recording attempts: multi-row `VALUES` in chunks, one
//! statement per endpoint whose streak changes (the shared shape is
//! [`crate::batch::attempts`]).

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::publish::CHUNK;
use crate::batch::attempts::{self, AttemptStatements, Recorded};
use crate::error::StoreResult;
use crate::health::StreakChange;
use crate::model::AttemptResult;
use crate::rows;

impl AttemptStatements for SqliteConnection {
    const CHUNK: usize = CHUNK;

    const GIVE_UP: &'static str = "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, \
         last_error = $1, updated_at = $2 WHERE id = $3 AND status = 'pending' \
         AND next_attempt_at = $4";

    const LEASED: bool = false;

    // One writer: no concurrent batch to lock rows against, nor to spread the counters
    // away from (the default order and shard).

    async fn update_deliveries(
        &mut self,
        results: &[&AttemptResult],
    ) -> StoreResult<Vec<SqliteRow>> {
        let mut q = QueryBuilder::<Sqlite>::new("WITH v (id, status, next_at, err, upd, due) AS (");
        q.push_values(results.iter(), |mut b, r| {
            let (status, next_at) = attempts::next_state(r);
            b.push_bind(r.delivery_id.to_string())
                .push_bind(status)
                .push_bind(next_at)
                .push_bind(r.attempt.error.clone())
                .push_bind(attempts::updated_at(r))
                .push_bind(r.due_at);
        });
        q.push(
            ") UPDATE deliveries SET attempts = deliveries.attempts + 1, status = v.status, \
             next_attempt_at = v.next_at, last_error = v.err, updated_at = v.upd FROM v WHERE deliveries.id = v.id \
             AND deliveries.status = 'pending' AND deliveries.next_attempt_at = v.due \
             RETURNING deliveries.id AS id, deliveries.attempts AS n, deliveries.scope AS scope",
        );
        Ok(q.build().fetch_all(&mut *self).await?)
    }

    async fn insert_attempts(&mut self, recorded: &[Recorded<'_>]) -> StoreResult<()> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO attempts (delivery_id, n, at, url, status_code, duration_ms, error, request_headers, \
             response_headers, response_body, failed_over) ",
        );
        q.push_values(recorded.iter(), |mut b, (r, n, _)| {
            let a = &r.attempt;
            b.push_bind(r.delivery_id.to_string())
                .push_bind(*n)
                .push_bind(a.at)
                .push_bind(a.url.clone())
                .push_bind(a.status_code.map(i64::from))
                .push_bind(a.duration_ms as i64)
                .push_bind(a.error.clone())
                .push_bind(rows::to_json(&a.request_headers))
                .push_bind(rows::to_json(&a.response_headers))
                .push_bind(a.response_body.clone())
                .push_bind((!a.failed_over.is_empty()).then(|| rows::to_json(&a.failed_over)));
        });
        q.build().execute(&mut *self).await?;
        Ok(())
    }

    async fn write_health(&mut self, changes: &[(&str, StreakChange)]) -> StoreResult<()> {
        for (id, c) in changes {
            let sql = if c.reset {
                "UPDATE endpoints SET failure_streak = ?, failing_since = ? WHERE id = ?"
            } else {
                "UPDATE endpoints SET failure_streak = failure_streak + ?, \
                 failing_since = COALESCE(failing_since, ?) WHERE id = ?"
            };
            sqlx::query(sql)
                .bind(c.failures)
                .bind(c.first_failure_at)
                .bind(*id)
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}
