//! The PostgreSQL store against a real server: `HOOKRELAY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test works in a fresh schema of its
//! own, dropped at the end. A server that does not answer fails the tests, unless
//! `HOOKRELAY_TEST_POSTGRES=off` says to skip them.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::DeliveryId;
use hookrelay_store::crypto::{Cipher, MasterKey};
use hookrelay_store::model::*;
use hookrelay_store::postgres::{PgOptions, PgStore};
use hookrelay_store::{Store, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// How long a test waits for something that should happen at once.
const DEADLINE: Duration = Duration::from_secs(10);

fn url() -> String {
    std::env::var("HOOKRELAY_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A fresh schema, dropped when the test ends (passing or not).
struct TestDb {
    url: String,
    schema: String,
    key: MasterKey,
    raw: PgPool,
}

impl TestDb {
    /// `None` (after saying so) when PostgreSQL tests are switched off, or when no
    /// server answers outside CI (a laptop without PostgreSQL still runs the rest of the
    /// suite); under CI (`CI` set) a server that does not answer fails the test.
    async fn new() -> Option<Self> {
        if std::env::var("HOOKRELAY_TEST_POSTGRES").as_deref() == Ok("off") {
            println!("skipping: HOOKRELAY_TEST_POSTGRES=off");
            return None;
        }
        let url = url();
        let raw = match PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url)
            .await
        {
            Ok(pool) => pool,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "SKIPPED: PostgreSQL at {url} does not answer ({e}); start it or point \
                     HOOKRELAY_TEST_POSTGRES_URL at a server to run this test"
                );
                return None;
            }
            Err(e) => {
                panic!("PostgreSQL at {url} does not answer ({e}): CI must start it (see .ci/run)")
            }
        };
        let schema = format!("hr_test_{:016x}", rand::random::<u64>());
        Some(Self {
            url,
            schema,
            key: MasterKey::generate(),
            raw,
        })
    }

    fn options(&self) -> PgOptions {
        PgOptions {
            schema: Some(self.schema.clone()),
            ..PgOptions::default()
        }
    }

    async fn store(&self) -> PgStore {
        PgStore::open(&self.url, Cipher::new(&self.key), self.options())
            .await
            .expect("open the store")
    }

    /// A query on the test's schema (`{s}` stands for it).
    fn sql(&self, sql: &str) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(sql.replace("{s}", &format!("\"{}\"", self.schema)))
    }

    async fn texts(&self, sql: &str) -> Vec<String> {
        sqlx::query_scalar(self.sql(sql))
            .fetch_all(&self.raw)
            .await
            .expect("raw query")
    }

    async fn ints(&self, sql: &str) -> Vec<Option<i64>> {
        sqlx::query_scalar(self.sql(sql))
            .fetch_all(&self.raw)
            .await
            .expect("raw query")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop has no runtime to await on: a thread with one of its own does it.
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .ok()?;
                pool.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test schema {}", self.schema);
        }
    }
}

macro_rules! test_db {
    () => {
        match TestDb::new().await {
            Some(db) => db,
            None => return,
        }
    };
}

/// A claim of up to `limit` rows, any number of them of one endpoint.
fn claim(limit: usize, lease_ms: i64, now: i64) -> ClaimRequest {
    ClaimRequest {
        limit,
        lease_ms,
        now,
        per_endpoint: limit,
        ..ClaimRequest::default()
    }
}

/// Claims everything due (a far-future `now`), in batches.
async fn claim_all(store: &PgStore, now: i64) -> Vec<DeliveryJob> {
    let mut all = Vec::new();
    loop {
        let jobs = store.claim_due(&claim(100, 60_000, now)).await.unwrap();
        if jobs.is_empty() {
            return all;
        }
        all.extend(jobs);
    }
}

#[tokio::test]
async fn an_idempotency_key_used_again_returns_the_original_and_queues_nothing() {
    let db = test_db!();
    let store = db.store().await;
    idempotency(&store).await;
    assert_eq!(db.ints("SELECT count(*) FROM {s}.events").await, [Some(2)]);
    store.close().await;
}

#[tokio::test]
async fn an_idempotency_key_is_unique_only_in_its_namespace() {
    let db = test_db!();
    let store = db.store().await;
    idempotency_namespaces(&store).await;
    store.close().await;
}

#[tokio::test]
async fn pending_stats_count_the_queue_and_date_its_oldest() {
    let db = test_db!();
    let store = db.store().await;
    pending_stats(&store).await;
    store.close().await;
}

#[tokio::test]
async fn one_key_published_through_two_stores_at_once_is_one_event() {
    let db = test_db!();
    let one = db.store().await;
    let two = db.store().await;
    with_endpoints(&one, &["a"]).await;
    for round in 0..20 {
        let key = format!("race-{round}");
        let (x, y) = tokio::join!(
            one.publish(event(&["s"], Some(&key))),
            two.publish(event(&["s"], Some(&key)))
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.event_id, y.event_id);
        assert!(x.duplicate != y.duplicate, "exactly one of them is new");
        assert_eq!((x.deliveries, y.deliveries), (1, 1));
    }
    assert_eq!(
        db.ints("SELECT count(*) FROM {s}.deliveries").await,
        [Some(20)]
    );
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn a_publish_creates_one_delivery_per_matching_enabled_endpoint() {
    let db = test_db!();
    let store = db.store().await;
    let event_id = fan_out(&store).await;
    let jobs = claim_all(&store, now_ms() + 1).await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job.event_id, event_id);
        let loaded = store.load_job(&job.delivery_id).await.unwrap().unwrap();
        assert_eq!(loaded.endpoint, job.endpoint);
        assert_eq!(loaded.data, job.data);
    }
    store.close().await;
}

#[tokio::test]
async fn two_stores_claiming_at_once_never_get_the_same_delivery() {
    let db = test_db!();
    let one = Arc::new(db.store().await);
    let two = Arc::new(db.store().await);
    with_endpoints(&*one, &["a", "b", "c", "d", "e"]).await;
    let publishes = (0..100).map(|_| one.publish(event(&["s"], None)));
    for out in join_all(publishes).await {
        assert_eq!(out.unwrap().deliveries, 5);
    }
    let now = now_ms() + 1;
    let claimer = |store: Arc<PgStore>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let jobs = store.claim_due(&claim(7, 60_000, now)).await.unwrap();
                if jobs.is_empty() {
                    return got;
                }
                got.extend(jobs.into_iter().map(|j| j.delivery_id.to_string()));
            }
        })
    };
    let (a, b) = tokio::join!(claimer(Arc::clone(&one)), claimer(Arc::clone(&two)));
    let (a, b) = (a.unwrap(), b.unwrap());
    let (sa, sb): (HashSet<_>, HashSet<_>) = (a.iter().collect(), b.iter().collect());
    assert_eq!(sa.len(), a.len(), "one claimer got a row twice");
    assert_eq!(sb.len(), b.len(), "one claimer got a row twice");
    assert!(sa.is_disjoint(&sb), "both claimers got the same rows");
    assert_eq!(sa.len() + sb.len(), 500);
    let all: HashSet<String> = db
        .texts("SELECT id FROM {s}.deliveries")
        .await
        .into_iter()
        .collect();
    assert_eq!(all, sa.union(&sb).map(|s| (*s).clone()).collect());
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn a_claimed_delivery_comes_back_only_when_its_lease_runs_out_or_is_released() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let claimed = store.claim_due(&claim(10, 1_000, now)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].delivery_id.clone();
    assert!(
        store
            .claim_due(&claim(10, 1_000, now))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_due(&claim(10, 1_000, now + 999))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_due(&claim(10, 1_000, now + 1_001))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "an expired lease makes the row claimable");
    assert_eq!(again[0].delivery_id, id);

    assert!(
        store
            .claim_due(&claim(10, 1_000, now + 1_002))
            .await
            .unwrap()
            .is_empty()
    );
    // The first claim's lease ran out and the row was claimed again: releasing with the
    // old lease must not free the new holder's row.
    store
        .release_claims(&[(id.clone(), now + 1_000)])
        .await
        .unwrap();
    assert!(
        store
            .claim_due(&claim(10, 1_000, now + 1_002))
            .await
            .unwrap()
            .is_empty(),
        "a stale release leaves the current lease alone"
    );
    store
        .release_claims(&[(id.clone(), now + 1_001 + 1_000)])
        .await
        .unwrap();
    let released = store
        .claim_due(&claim(10, 1_000, now + 1_002))
        .await
        .unwrap();
    assert_eq!(released.len(), 1, "a released row is claimable at once");
    store.close().await;
}

#[tokio::test]
async fn a_lease_is_renewed_only_by_the_worker_that_holds_it() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let claimed = store.claim_due(&claim(10, 1_000, now)).await.unwrap();
    let id = claimed[0].delivery_id.clone();
    assert!(
        !store
            .renew_claim(&id, now + 999, now + 60_000)
            .await
            .unwrap(),
        "another lease end is someone else's claim"
    );
    assert!(
        store
            .renew_claim(&id, now + 1_000, now + 60_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_due(&claim(10, 1_000, now + 30_000))
            .await
            .unwrap()
            .is_empty(),
        "the renewed lease holds past the first one's end"
    );
    assert_eq!(
        store
            .claim_due(&claim(10, 1_000, now + 60_001))
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}

/// A worker whose lease ran out mid-attempt (a GC pause, a hanging target) reports
/// after another worker took the row over: its late result must not undo the other's.
#[tokio::test]
async fn a_late_result_from_a_lost_lease_never_overwrites_the_newer_one() {
    let db = test_db!();
    let (first, second) = (db.store().await, db.store().await);
    with_endpoints(&first, &["a"]).await;
    first.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let mine = first.claim_due(&claim(10, 1_000, now)).await.unwrap();
    assert_eq!(mine.len(), 1);
    // The first worker's lease runs out while it is still sending; the second takes
    // the row and delivers it.
    let later = now + 1_001;
    let theirs = second.claim_due(&claim(10, 60_000, later)).await.unwrap();
    assert_eq!(theirs.len(), 1, "an expired lease makes the row claimable");
    let delivered = AttemptResult {
        lease_until: Some(later + 60_000),
        ..attempt(&theirs[0], NextStep::Succeeded)
    };
    assert_eq!(
        second.record_attempt(delivered).await.unwrap(),
        Recorded::Applied
    );
    // Now the first worker reports a failure, with a retry, under its old lease.
    let late = AttemptResult {
        lease_until: Some(now + 1_000),
        ..attempt(&mine[0], NextStep::RetryAt(later + 5_000))
    };
    assert_eq!(
        first.record_attempt(late).await.unwrap(),
        Recorded::Superseded
    );
    let id = mine[0].delivery_id.as_str();
    let (d, attempts) = first.get_delivery(id, None).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Succeeded, "the success stands");
    assert_eq!(d.next_attempt_at, None);
    assert_eq!(d.last_error, None);
    assert_eq!(attempts.len(), 2, "the late attempt is kept as history");
    assert_eq!(attempts[1].status_code, Some(500));
    assert!(
        first
            .claim_due(&claim(10, 60_000, later + 10_000))
            .await
            .unwrap()
            .is_empty(),
        "nothing is queued again"
    );

    // The same while the second worker still holds the row: its lease is untouched and
    // only its own result settles the delivery.
    first.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let mine = first.claim_due(&claim(10, 1_000, now)).await.unwrap();
    let theirs = second
        .claim_due(&claim(10, 60_000, now + 1_001))
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    let late = AttemptResult {
        lease_until: Some(now + 1_000),
        ..attempt(&mine[0], NextStep::Failed)
    };
    assert_eq!(
        first.record_attempt(late).await.unwrap(),
        Recorded::Superseded
    );
    assert_eq!(
        db.ints(&format!(
            "SELECT lease_until FROM {{s}}.deliveries WHERE id = '{}'",
            mine[0].delivery_id
        ))
        .await,
        [Some(now + 1_001 + 60_000)],
        "the holder keeps its lease"
    );
    let done = AttemptResult {
        lease_until: Some(now + 1_001 + 60_000),
        ..attempt(&theirs[0], NextStep::Succeeded)
    };
    assert_eq!(
        second.record_attempt(done).await.unwrap(),
        Recorded::Applied
    );
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_give_up_from_a_lost_lease_leaves_the_delivery_to_its_holder() {
    let db = test_db!();
    let (first, second) = (db.store().await, db.store().await);
    with_endpoints(&first, &["a"]).await;
    first.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let mine = first.claim_due(&claim(10, 1_000, now)).await.unwrap();
    assert_eq!(mine.len(), 1);
    // The first worker's lease runs out; the second takes the row and is sending it when
    // the first, reading an endpoint it thinks disabled, gives the delivery up.
    let later = now + 1_001;
    let theirs = second.claim_due(&claim(10, 60_000, later)).await.unwrap();
    assert_eq!(theirs.len(), 1);
    let stale = GiveUp {
        delivery_id: mine[0].delivery_id.clone(),
        reason: "endpoint is disabled".into(),
        at: later + 1,
        due_at: mine[0].due_at,
        lease_until: Some(now + 1_000),
    };
    assert_eq!(
        first.give_up_delivery(stale).await.unwrap(),
        Recorded::Superseded
    );
    let id = mine[0].delivery_id.as_str();
    let (d, _) = first.get_delivery(id, None).await.unwrap().unwrap();
    assert_eq!(
        d.status,
        DeliveryStatus::Pending,
        "the holder's delivery stays pending"
    );
    assert_eq!(d.last_error, None);
    let done = AttemptResult {
        lease_until: Some(later + 60_000),
        ..attempt(&theirs[0], NextStep::Succeeded)
    };
    assert_eq!(
        second.record_attempt(done).await.unwrap(),
        Recorded::Applied,
        "the holder's result still settles it"
    );
    let (d, _) = first.get_delivery(id, None).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Succeeded);

    // The holder itself gives up under its own lease: that applies.
    first.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let held = second.claim_due(&claim(10, 60_000, now)).await.unwrap();
    assert_eq!(held.len(), 1);
    let own = GiveUp {
        delivery_id: held[0].delivery_id.clone(),
        reason: "endpoint was deleted".into(),
        at: now + 1,
        due_at: held[0].due_at,
        lease_until: Some(now + 60_000),
    };
    assert_eq!(
        second.give_up_delivery(own).await.unwrap(),
        Recorded::Applied
    );
    let (d, _) = first
        .get_delivery(held[0].delivery_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.last_error.as_deref(), Some("endpoint was deleted"));
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_claim_takes_no_more_of_one_endpoint_than_the_worker_has_room_for() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["slow"]).await;
    for _ in 0..20 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    // Now only `fast` is subscribed: the last event goes to it alone, due after the 20.
    with_endpoints(&store, &["fast"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let request = ClaimRequest {
        limit: 10,
        lease_ms: 60_000,
        now,
        per_endpoint: 3,
        ..ClaimRequest::default()
    };
    let first = store.claim_due(&request).await.unwrap();
    let mut per_endpoint = std::collections::HashMap::new();
    for job in &first {
        let code = job.endpoint.as_ref().unwrap().code.clone();
        *per_endpoint.entry(code).or_insert(0) += 1;
    }
    assert!(
        per_endpoint.values().all(|n| *n <= 3),
        "at most 3 of one endpoint: {per_endpoint:?}"
    );
    assert!(per_endpoint.contains_key("fast"), "{per_endpoint:?}");

    // An endpoint the worker holds enough of is skipped entirely.
    let slow = first
        .iter()
        .find(|j| j.endpoint.as_ref().unwrap().code == "slow")
        .and_then(|j| j.endpoint.clone())
        .unwrap();
    let full = ClaimRequest {
        room: [(slow.id.clone(), 0)].into_iter().collect(),
        ..request
    };
    let next = store.claim_due(&full).await.unwrap();
    assert!(
        next.iter()
            .all(|j| j.endpoint.as_ref().unwrap().id != slow.id),
        "a full endpoint gets nothing"
    );
    store.close().await;
}

#[tokio::test]
async fn recording_an_attempt_moves_the_delivery_on_and_ends_its_lease() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    for _ in 0..3 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let now = now_ms() + 1;
    let jobs = claim_all(&store, now).await;
    assert_eq!(jobs.len(), 3);
    let ids: Vec<DeliveryId> = jobs.iter().map(|j| j.delivery_id.clone()).collect();
    let leased: Vec<_> = jobs
        .iter()
        .map(|j| (j.clone(), Some(now + 60_000)))
        .collect();
    let retry_at = now + 5_000;
    attempts(&store, &leased, retry_at).await;
    assert_eq!(
        db.ints("SELECT lease_until FROM {s}.deliveries").await,
        [None, None, None]
    );
    // The retry is due at its time, not before.
    assert!(
        store
            .claim_due(&claim(10, 1_000, retry_at - 1))
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.claim_due(&claim(10, 1_000, retry_at)).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].delivery_id, ids[1]);
    assert_eq!(due[0].attempts_made, 1);
    // Two results for one claim at once: one moves the delivery on, the other is kept
    // as history only; each has its own attempt number.
    let held = Some(retry_at + 1_000);
    let result = || AttemptResult {
        lease_until: held,
        ..attempt(&due[0], NextStep::Failed)
    };
    let (x, y) = tokio::join!(
        store.record_attempt(result()),
        store.record_attempt(result())
    );
    let mut outcomes = [x.unwrap(), y.unwrap()];
    outcomes.sort_by_key(|o| *o == Recorded::Superseded);
    assert_eq!(outcomes, [Recorded::Applied, Recorded::Superseded]);
    let (d, attempts) = store
        .get_delivery(ids[1].as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempts, 3);
    assert_eq!(attempts.iter().map(|a| a.n).collect::<Vec<_>>(), [1, 2, 3]);
    store.close().await;
}

#[tokio::test]
async fn a_response_body_with_nul_bytes_is_recorded() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    store
        .publish(event(&["s"], Some("key\0nul")))
        .await
        .unwrap();
    let now = now_ms() + 1;
    let jobs = claim_all(&store, now).await;
    let mut result = attempt(&jobs[0], NextStep::Succeeded);
    result.lease_until = Some(now + 60_000);
    result.attempt.response_body = Some("bin\0ary".to_owned());
    store.record_attempt(result).await.unwrap();
    let (d, attempts) = store
        .get_delivery(jobs[0].delivery_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Succeeded);
    assert_eq!(attempts[0].response_body.as_deref(), Some("bin\u{FFFD}ary"));
    store.close().await;
}

#[tokio::test]
async fn a_manual_retry_and_a_recovery_make_deliveries_claimable() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    let created = now_ms();
    for _ in 0..2 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let now = now_ms() + 1;
    let jobs = claim_all(&store, now).await;
    for j in &jobs {
        let failed = AttemptResult {
            lease_until: Some(now + 60_000),
            ..attempt(j, NextStep::Failed)
        };
        assert_eq!(
            store.record_attempt(failed).await.unwrap(),
            Recorded::Applied
        );
    }
    assert!(claim_all(&store, now + 10).await.is_empty());

    let d = store
        .retry_delivery(&jobs[0].delivery_id, now + 10)
        .await
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    let again = claim_all(&store, now + 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery_id, jobs[0].delivery_id);

    let recovered = store
        .recover_endpoint(&scope("s"), "a", created - 1, now + 20)
        .await
        .unwrap();
    assert_eq!(recovered, [jobs[1].delivery_id.clone()]);
    let back = claim_all(&store, now + 20).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].delivery_id, jobs[1].delivery_id);

    assert!(matches!(
        store.retry_delivery(&DeliveryId::generate(), now).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.recover_endpoint(&scope("s"), "nope", 0, now).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

#[tokio::test]
async fn the_work_signal_fires_when_another_store_commits_new_work() {
    let db = test_db!();
    let worker = db.store().await;
    let api = db.store().await;
    with_endpoints(&api, &["a"]).await;
    let signal = worker.work_signal().expect("a work signal");
    assert!(worker.take_job_feed().is_none());
    // The first raise says "listening" (whatever was missed is in the table); what
    // follows must come from the publish.
    tokio::time::timeout(DEADLINE, signal.notified())
        .await
        .expect("the listener starts");
    let notified = signal.notified();
    api.publish(event(&["s"], None)).await.unwrap();
    tokio::time::timeout(DEADLINE, notified)
        .await
        .expect("a publish by another store wakes this one");
    assert_eq!(
        worker
            .claim_due(&claim(10, 1_000, now_ms() + 1))
            .await
            .unwrap()
            .len(),
        1
    );
    worker.close().await;
    api.close().await;
}

#[tokio::test]
async fn the_work_signal_comes_back_after_the_listening_connection_is_lost() {
    let db = test_db!();
    let worker = db.store().await;
    let api = db.store().await;
    with_endpoints(&api, &["a"]).await;
    let signal = worker.work_signal().expect("a work signal");
    tokio::time::timeout(DEADLINE, signal.notified())
        .await
        .expect("the listener starts");
    let killed = signal.notified();
    let name = format!("hookrelay listen hookrelay_work_{}", db.schema);
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_all(&db.raw)
    .await
    .unwrap();
    assert_eq!(terminated.len(), 2, "both stores listen");
    // Notifications may have been missed: the signal is raised once listening again.
    tokio::time::timeout(DEADLINE, killed)
        .await
        .expect("the signal after reconnecting");
    // Wait until the listener is back on the channel, then check it hears new work.
    let listening = async {
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
            )
            .bind(&name)
            .fetch_one(&db.raw)
            .await
            .unwrap();
            if n == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(DEADLINE, listening)
        .await
        .expect("listening again");
    let notified = signal.notified();
    api.publish(event(&["s"], None)).await.unwrap();
    tokio::time::timeout(DEADLINE, notified)
        .await
        .expect("new work wakes the reconnected listener");
    worker.close().await;
    api.close().await;
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_at_open() {
    let db = test_db!();
    db.store().await.close().await;
    let other = Cipher::new(&MasterKey::generate());
    match PgStore::open(&db.url, other, db.options()).await {
        Err(StoreError::WrongMasterKey(_)) => {}
        Err(e) => panic!("expected WrongMasterKey, got {e:?}"),
        Ok(_) => panic!("a wrong master key was accepted"),
    }
    // The right key still opens it.
    db.store().await.close().await;
}

#[tokio::test]
async fn credentials_are_not_stored_in_plain_text() {
    let db = test_db!();
    let store = db.store().await;
    let s = scope("s");
    store.create_endpoint(&s, endpoint("a")).await.unwrap();
    store
        .rotate_secret(
            &s,
            "a",
            "whsec_bmV3IHNlY3JldCBuZXcgc2VjcmV0",
            Some(now_ms() + 60_000),
        )
        .await
        .unwrap();
    let spec = serde_json::from_value(serde_json::json!({
        "verify": {"type": "github", "secrets": ["gh-s3cret"]}
    }))
    .unwrap();
    store.put_source("gh", spec).await.unwrap();
    let stored = db
        .texts(
            "SELECT secret || ' ' || previous_secret || ' ' || headers || ' ' || auth FROM {s}.endpoints \
             UNION ALL SELECT verify FROM {s}.sources",
        )
        .await;
    for text in &stored {
        assert!(text.starts_with("enc1:"), "{text}");
        for plain in [
            SECRET,
            "bmV3IHNlY3JldCBuZXcgc2VjcmV0",
            "k-123",
            "tok-456",
            "gh-s3cret",
        ] {
            assert!(!text.contains(plain), "{plain} stored in plain text");
        }
    }
    let e = store.get_endpoint(&s, "a").await.unwrap().unwrap();
    assert_eq!(e.previous_secret.map(|p| p.0).as_deref(), Some(SECRET));
    assert_eq!(e.headers["X-Api-Key"], "k-123");
    let source = store.get_source("gh").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&source.spec.verify).unwrap()["secrets"][0],
        "gh-s3cret"
    );
    store.close().await;
}

#[tokio::test]
async fn migrations_apply_once_and_an_unmigrated_schema_is_refused_without_them() {
    let db = test_db!();
    let unmigrated = PgOptions {
        migrate: false,
        ..db.options()
    };
    match PgStore::open(&db.url, Cipher::new(&db.key), unmigrated.clone()).await {
        Err(StoreError::Migrate(e)) => {
            assert!(format!("{e}").contains("hookrelay migrate"), "{e}")
        }
        Err(e) => panic!("expected a migration error, got {e:?}"),
        Ok(_) => panic!("an unmigrated schema was opened"),
    }
    assert!(PgStore::migrate(&db.url, Some(&db.schema)).await.unwrap() >= 1);
    assert_eq!(
        PgStore::migrate(&db.url, Some(&db.schema)).await.unwrap(),
        0
    );
    PgStore::open(&db.url, Cipher::new(&db.key), unmigrated)
        .await
        .expect("a migrated schema opens without migrating")
        .close()
        .await;
}

#[tokio::test]
async fn endpoints_behave_as_every_backend_does() {
    let db = test_db!();
    let store = db.store().await;
    endpoints(&store).await;
    store.close().await;
}

#[tokio::test]
async fn deliveries_page_on_id_cursors_newest_first() {
    let db = test_db!();
    let store = db.store().await;
    paging(&store).await;
    store.close().await;
}

#[tokio::test]
async fn an_inbound_request_is_deduplicated_and_forwarded_with_its_body() {
    let db = test_db!();
    let store = db.store().await;
    let forwards = hookrelay_store::postgres::forward_scope("gh");
    let (request, forward) = inbound(&store, &forwards).await;
    let jobs = claim_all(&store, now_ms() + 1).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].delivery_id, forward);
    let payload = jobs[0]
        .inbound
        .as_ref()
        .expect("a forward carries the request");
    assert_eq!(payload.request_id, request);
    assert_eq!(&payload.body[..], BODY);
    store.close().await;
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_unavailable() {
    if std::env::var("HOOKRELAY_TEST_POSTGRES").as_deref() == Ok("off") {
        println!("skipping: HOOKRELAY_TEST_POSTGRES=off");
        return;
    }
    // Nothing listens on port 1.
    let cipher = Cipher::new(&MasterKey::generate());
    match PgStore::open(
        "postgres://postgres@127.0.0.1:1/test",
        cipher,
        PgOptions::default(),
    )
    .await
    {
        Err(StoreError::Unavailable(_)) => {}
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("opened a database that is not there"),
    }
}

/// Store-side throughput of the hot path (publish → claim → record), without HTTP:
/// `cargo test -p hookrelay-store --release --test postgres -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn hot_path_throughput() {
    let db = test_db!();
    let store = Arc::new(db.store().await);
    with_endpoints(&*store, &["a"]).await;
    let total = 20_000;
    let started = std::time::Instant::now();
    let publisher = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..64 {
                let store = Arc::clone(&store);
                tasks.spawn(async move {
                    for _ in 0..total / 64 {
                        store.publish(event(&["s"], None)).await.unwrap();
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        })
    };
    let expected = (total / 64) * 64;
    let mut done = 0;
    let mut inflight = tokio::task::JoinSet::new();
    while done < expected {
        let now = now_ms();
        let lease = now + 60_000;
        let jobs = store.claim_due(&claim(512, 60_000, now)).await.unwrap();
        if jobs.is_empty() {
            if let Some(signal) = store.work_signal() {
                let _ = tokio::time::timeout(Duration::from_millis(20), signal.notified()).await;
            }
            continue;
        }
        done += jobs.len();
        for job in jobs {
            let store = Arc::clone(&store);
            inflight.spawn(async move {
                store
                    .record_attempt(AttemptResult {
                        lease_until: Some(lease),
                        ..attempt(&job, NextStep::Succeeded)
                    })
                    .await
                    .unwrap();
            });
        }
    }
    while inflight.join_next().await.is_some() {}
    publisher.await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stats = store.write_stats().unwrap();
    println!(
        "{expected} deliveries published, claimed and recorded in {secs:.2}s: {:.0}/s \
         ({} writes in {} transactions)",
        expected as f64 / secs,
        stats.writes,
        stats.transactions
    );
    store.close().await;
}

/// A TCP proxy to the test server that can be cut off (the database "goes away":
/// open connections drop, new ones are refused) and restored.
struct Proxy {
    url: String,
    /// How many times it was cut, and whether it is down.
    state: tokio::sync::watch::Sender<(u64, bool)>,
    /// Connections open through it.
    open: Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    async fn start(db: &TestDb) -> Self {
        use sqlx::ConnectOptions;
        let options: sqlx::postgres::PgConnectOptions = db.url.parse().unwrap();
        let upstream = format!("{}:{}", options.get_host(), options.get_port());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = options
            .host("127.0.0.1")
            .port(port)
            .to_url_lossy()
            .to_string();
        let (state, watch) = tokio::sync::watch::channel((0, false));
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&open);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (cuts, down) = *watch.borrow();
                if down {
                    continue; // dropped: refused
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                let open = Arc::clone(&counter);
                open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        return;
                    };
                    // Until the next cut, however soon the proxy is restored.
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|(n, _)| *n != cuts) => {}
                    }
                    drop((client, server));
                    open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
        });
        Self { url, state, open }
    }

    /// Drops every open connection and refuses new ones, until [`Proxy::restore`].
    async fn cut(&self) {
        self.state.send_modify(|(cuts, down)| {
            *cuts += 1;
            *down = true;
        });
        let closed = async {
            while self.open.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(DEADLINE, closed)
            .await
            .expect("the proxy closes its connections");
    }

    fn restore(&self) {
        self.state.send_modify(|(_, down)| *down = false);
    }
}

#[tokio::test]
async fn a_database_gone_away_answers_unavailable_at_once_and_comes_back() {
    let db = test_db!();
    let proxy = Proxy::start(&db).await;
    let store = PgStore::open(&proxy.url, Cipher::new(&db.key), db.options())
        .await
        .unwrap();
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();

    proxy.cut().await;
    let started = std::time::Instant::now();
    let publishes = (0..50).map(|_| store.publish(event(&["s"], None)));
    for result in join_all(publishes).await {
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.list_endpoints(&scope("s"), page(10)).await,
        Err(StoreError::Unavailable(_))
    ));
    // Each waits at most the pool's acquire timeout, not once per queued publish.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    proxy.restore();
    let back = store.publish(event(&["s"], None)).await.unwrap();
    assert_eq!(back.deliveries, 1);
    assert_eq!(claim_all(&store, now_ms() + 1).await.len(), 2);

    // A restart while nobody uses the store: the pooled connections are dead when the
    // next requests come, and they still succeed.
    store.get_endpoint(&scope("s"), "a").await.unwrap();
    proxy.cut().await;
    proxy.restore();
    store.get_endpoint(&scope("s"), "a").await.unwrap().unwrap();
    store.publish(event(&["s"], None)).await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn the_event_type_registry_behaves_as_every_backend_does() {
    let db = test_db!();
    let store = db.store().await;
    registry(&store).await;
    store.close().await;
}

#[tokio::test]
async fn tokens_sources_subscriptions_and_rotation_behave_as_every_backend_does() {
    let db = test_db!();
    let store = db.store().await;
    configuration(&store).await;
    store.close().await;
}

#[tokio::test]
async fn the_dashboard_reads_count_attempts_per_hour_and_endpoint() {
    let db = test_db!();
    let store = db.store().await;
    dashboard_reads(&store).await;
    store.close().await;
}

#[tokio::test]
async fn a_test_event_goes_only_to_the_endpoint_it_names() {
    let db = test_db!();
    let store = db.store().await;
    test_event(&store).await;
    store.close().await;
}

#[tokio::test]
async fn hourly_counters_older_than_eight_days_are_pruned() {
    let db = test_db!();
    let store = db.store().await;
    old_counters_are_pruned(&store).await;
    store.close().await;
}

/// A schema written before idempotency keys had namespaces: each old key lands in the
/// namespace of a token for exactly its event's scopes, so that tenant's retry still
/// deduplicates and another tenant's same key publishes a new event.
#[tokio::test]
async fn old_idempotency_keys_migrate_into_their_scopes_namespace() {
    use sqlx::migrate::Migrator;
    use sqlx::postgres::PgConnectOptions;
    let db = test_db!();
    sqlx::query(db.sql("CREATE SCHEMA {s}"))
        .execute(&db.raw)
        .await
        .unwrap();
    let options = <PgConnectOptions as std::str::FromStr>::from_str(&db.url)
        .unwrap()
        .options([("search_path", format!("\"{}\"", db.schema))]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let mut old = Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/postgres"
    )))
    .await
    .unwrap();
    old.migrations = old
        .migrations
        .iter()
        .filter(|m| m.version < 3)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    old.run(&pool).await.unwrap();
    for (id, scopes, key) in [
        ("evt_old1", vec!["b", "a"], Some("order-1")),
        ("evt_old2", vec!["c"], None),
    ] {
        sqlx::query(
            "INSERT INTO events (id, type, scopes, data, idempotency_key, created_at) \
             VALUES ($1, 'order.paid', $2, '{}', $3, 1)",
        )
        .bind(id)
        .bind(serde_json::to_string(&scopes).unwrap())
        .bind(key)
        .execute(&pool)
        .await
        .unwrap();
        for s in scopes {
            sqlx::query("INSERT INTO event_scopes (scope, event_id) VALUES ($1, $2)")
                .bind(s)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    pool.close().await;

    let store = db.store().await;
    let keyed = |namespace: &str| NewEvent {
        idempotency_key: Some(IdempotencyKey {
            namespace: namespace.to_owned(),
            key: "order-1".to_owned(),
        }),
        ..event(&["a", "b"], None)
    };
    let again = store.publish(keyed("scopes:a,b")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event_id.as_str(), "evt_old1");
    let other = store.publish(keyed("scopes:a")).await.unwrap();
    assert!(!other.duplicate);
    let admin = store.publish(keyed("admin")).await.unwrap();
    assert!(!admin.duplicate);
    assert_eq!(db.ints("SELECT count(*) FROM {s}.events").await, [Some(4)]);
    store.close().await;
}

#[tokio::test]
async fn retention_removes_finished_history_and_payloads_never_what_is_pending() {
    let db = test_db!();
    let store = db.store().await;
    retention(&store).await;
    store.close().await;
}

#[tokio::test]
async fn a_manual_retry_while_in_flight_is_attempted_again() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let jobs = claim_all(&store, now).await;
    assert_eq!(jobs.len(), 1);
    retry_in_flight(&store, &jobs[0], Some(now + 60_000)).await;
    let again = claim_all(&store, now_ms() + 2).await;
    assert_eq!(again.len(), 1, "the retry is claimable at once");
    assert_eq!(again[0].attempts_made, 1);
    store.close().await;
}

#[tokio::test]
async fn a_give_up_after_a_manual_retry_leaves_the_retry_standing() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let now = now_ms() + 1;
    let jobs = claim_all(&store, now).await;
    assert_eq!(jobs.len(), 1);
    give_up_after_a_retry(&store, &jobs[0], Some(now + 60_000)).await;
    let again = claim_all(&store, now_ms() + 2).await;
    assert_eq!(again.len(), 1, "the retry is claimable at once");
    store.close().await;
}

#[tokio::test]
async fn workers_are_counted_while_they_beat_and_until_they_leave() {
    let db = test_db!();
    let (one, two) = (db.store().await, db.store().await);
    let now = now_ms();
    assert_eq!(one.heartbeat("wrk_a", now, 5_000).await.unwrap(), 1);
    assert_eq!(two.heartbeat("wrk_b", now + 10, 5_000).await.unwrap(), 2);
    assert_eq!(one.heartbeat("wrk_a", now + 1_000, 5_000).await.unwrap(), 2);
    // b stops beating (it died): no longer counted once the window has passed.
    assert_eq!(one.heartbeat("wrk_a", now + 6_000, 5_000).await.unwrap(), 1);
    assert_eq!(two.heartbeat("wrk_b", now + 6_100, 5_000).await.unwrap(), 2);
    // A worker that stops leaves at once.
    two.leave("wrk_b").await.unwrap();
    assert_eq!(one.heartbeat("wrk_a", now + 6_200, 5_000).await.unwrap(), 1);
    one.close().await;
    two.close().await;
}
