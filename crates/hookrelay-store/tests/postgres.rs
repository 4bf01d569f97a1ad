//! The PostgreSQL store against a real server: `HOOKRELAY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test works in a fresh schema of its
//! own, dropped at the end. A server that does not answer fails the tests, unless
//! `HOOKRELAY_TEST_POSTGRES=off` says to skip them.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use hookrelay_core::clock::now_ms;
use hookrelay_core::endpoint::OutboundAuth;
use hookrelay_core::ids::{DeliveryId, EndpointId, EventId, RequestId};
use hookrelay_core::scope::Scope;
use hookrelay_store::crypto::{Cipher, MasterKey};
use hookrelay_store::model::*;
use hookrelay_store::postgres::{PgOptions, PgStore};
use hookrelay_store::{Store, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
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
    /// `None` (after saying so) when PostgreSQL tests are switched off.
    async fn new() -> Option<Self> {
        if std::env::var("HOOKRELAY_TEST_POSTGRES").as_deref() == Ok("off") {
            println!("skipping: HOOKRELAY_TEST_POSTGRES=off");
            return None;
        }
        let url = url();
        let raw = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {url} does not answer ({e}). Start it, point \
                     HOOKRELAY_TEST_POSTGRES_URL at a server, or set HOOKRELAY_TEST_POSTGRES=off \
                     to skip these tests."
                )
            });
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

fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("scope")
}

fn endpoint(code: &str) -> EndpointInput {
    EndpointInput {
        code: code.to_owned(),
        name: code.to_owned(),
        url: format!("https://example.com/{code}"),
        targets: None,
        enabled: true,
        headers: BTreeMap::from([("X-Api-Key".to_owned(), "k-123".to_owned())]),
        auth: Some(OutboundAuth::Bearer {
            token: "tok-456".to_owned(),
        }),
        timeout_ms: Some(5000),
        rate_limit: None,
        secret: Some(SECRET.to_owned()),
        generated_secret: String::new(),
    }
}

fn subscription(code: &str, events: &[&str]) -> SubscriptionRecord {
    SubscriptionRecord {
        endpoint: code.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        filter: None,
    }
}

fn event(scopes: &[&str], key: Option<&str>) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        event_type: "order.paid".to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        data: r#"{"order":1}"#.to_owned(),
        idempotency_key: key.map(str::to_owned),
        created_at: now_ms(),
    }
}

/// A scope `s` with endpoints `codes`, each subscribed to everything.
async fn with_endpoints(store: &PgStore, codes: &[&str]) {
    for code in codes {
        store
            .create_endpoint(&scope("s"), endpoint(code))
            .await
            .unwrap();
    }
    let subs = codes.iter().map(|c| subscription(c, &["*"])).collect();
    store.apply_subscriptions(&scope("s"), subs).await.unwrap();
}

fn attempt(id: &DeliveryId, endpoint_id: &EndpointId, next: NextStep) -> AttemptResult {
    let ok = next == NextStep::Succeeded;
    AttemptResult {
        delivery_id: id.clone(),
        endpoint_id: endpoint_id.clone(),
        attempt: AttemptRecord {
            n: 0,
            at: now_ms(),
            url: "https://example.com/a".to_owned(),
            status_code: Some(if ok { 200 } else { 500 }),
            duration_ms: 12,
            error: (!ok).then(|| "500 Internal Server Error".to_owned()),
            request_headers: BTreeMap::new(),
            response_headers: BTreeMap::new(),
            response_body: Some("ok".to_owned()),
            failed_over: Vec::new(),
        },
        next,
        disable_endpoint: None,
        health: if ok { Health::Success } else { Health::Failure },
    }
}

fn page(limit: u32) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

/// Claims everything due (a far-future `now`), in batches.
async fn claim_all(store: &PgStore, now: i64) -> Vec<DeliveryJob> {
    let mut all = Vec::new();
    loop {
        let jobs = store.claim_due(100, 60_000, now).await.unwrap();
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
    with_endpoints(&store, &["a"]).await;
    let first = store.publish(event(&["s"], Some("k1"))).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.deliveries, 1);
    assert!(first.jobs.is_empty(), "no job feed on PostgreSQL");
    let again = store.publish(event(&["s"], Some("k1"))).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.deliveries, 1);
    let all = store
        .list_deliveries(DeliveryFilter::default(), page(100))
        .await
        .unwrap();
    assert_eq!(all.data.len(), 1);
    assert_eq!(db.ints("SELECT count(*) FROM {s}.events").await, [Some(1)]);

    // Two publishes with one key in the same moment (likely the same batch): one event.
    let (x, y) = tokio::join!(
        store.publish(event(&["s"], Some("k2"))),
        store.publish(event(&["s"], Some("k2")))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.event_id, y.event_id);
    assert!(x.duplicate != y.duplicate);
    store.close().await;
}

#[tokio::test]
async fn a_publish_creates_one_delivery_per_matching_enabled_endpoint() {
    let db = test_db!();
    let store = db.store().await;
    let s = scope("s");
    for code in ["all", "orders", "other", "off"] {
        store.create_endpoint(&s, endpoint(code)).await.unwrap();
    }
    store
        .apply_subscriptions(
            &s,
            vec![
                subscription("all", &["*"]),
                subscription("orders", &["order.*"]),
                subscription("other", &["user.created"]),
                subscription("off", &["*"]),
            ],
        )
        .await
        .unwrap();
    store
        .update_endpoint(
            &s,
            "off",
            EndpointPatch {
                enabled: Some(false),
                ..EndpointPatch::default()
            },
        )
        .await
        .unwrap();
    let out = store.publish(event(&["s", "nobody"], None)).await.unwrap();
    assert_eq!(out.deliveries, 2);
    let listed = store
        .list_deliveries(
            DeliveryFilter {
                event_id: Some(out.event_id.to_string()),
                ..DeliveryFilter::default()
            },
            page(10),
        )
        .await
        .unwrap();
    let mut codes: Vec<_> = listed.data.iter().map(|d| d.endpoint.clone()).collect();
    codes.sort();
    assert_eq!(codes, ["all", "orders"]);
    assert!(
        listed
            .data
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending)
    );

    let jobs = claim_all(&store, now_ms() + 1).await;
    assert_eq!(jobs.len(), 2);
    let job = &jobs[0];
    assert_eq!(job.event_id, out.event_id);
    assert_eq!(&*job.data, r#"{"order":1}"#);
    let target = job.endpoint.as_ref().expect("endpoint");
    assert_eq!(target.secret, SECRET);
    assert_eq!(target.headers["X-Api-Key"], "k-123");
    assert_eq!(
        store
            .load_job(&job.delivery_id)
            .await
            .unwrap()
            .unwrap()
            .endpoint,
        job.endpoint
    );
    let event = store
        .get_event(out.event_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.scopes, ["s", "nobody"]);
    let scoped = store
        .list_events(
            EventFilter {
                scope: Some("nobody".to_owned()),
                ..EventFilter::default()
            },
            page(10),
        )
        .await
        .unwrap();
    assert_eq!(scoped.data.len(), 1);
    store.close().await;
}

#[tokio::test]
async fn two_stores_claiming_at_once_never_get_the_same_delivery() {
    let db = test_db!();
    let one = Arc::new(db.store().await);
    let two = Arc::new(db.store().await);
    with_endpoints(&one, &["a", "b", "c", "d", "e"]).await;
    let publishes = (0..100).map(|_| one.publish(event(&["s"], None)));
    for out in join_all(publishes).await {
        assert_eq!(out.unwrap().deliveries, 5);
    }
    let now = now_ms() + 1;
    let claimer = |store: Arc<PgStore>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let jobs = store.claim_due(7, 60_000, now).await.unwrap();
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
    let claimed = store.claim_due(10, 1_000, now).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].delivery_id.clone();
    assert!(store.claim_due(10, 1_000, now).await.unwrap().is_empty());
    assert!(
        store
            .claim_due(10, 1_000, now + 999)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_due(10, 1_000, now + 1_001).await.unwrap();
    assert_eq!(again.len(), 1, "an expired lease makes the row claimable");
    assert_eq!(again[0].delivery_id, id);

    assert!(
        store
            .claim_due(10, 1_000, now + 1_002)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .release_claims(std::slice::from_ref(&id))
        .await
        .unwrap();
    let released = store.claim_due(10, 1_000, now + 1_002).await.unwrap();
    assert_eq!(released.len(), 1, "a released row is claimable at once");
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
    let ep = jobs[0].endpoint.as_ref().unwrap().id.clone();
    let retry_at = now + 5_000;
    let steps = [
        NextStep::Succeeded,
        NextStep::RetryAt(retry_at),
        NextStep::Failed,
    ];
    let records = jobs
        .iter()
        .zip(steps)
        .map(|(j, step)| store.record_attempt(attempt(&j.delivery_id, &ep, step)));
    for r in join_all(records).await {
        r.unwrap();
    }
    let expect = [
        (DeliveryStatus::Succeeded, None),
        (DeliveryStatus::Pending, Some(retry_at)),
        (DeliveryStatus::Failed, None),
    ];
    for (job, (status, next)) in jobs.iter().zip(expect) {
        let (d, attempts) = store
            .get_delivery(job.delivery_id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.status, status);
        assert_eq!(d.next_attempt_at, next);
        assert_eq!(d.attempts, 1);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].n, 1);
    }
    assert_eq!(
        db.ints("SELECT lease_until FROM {s}.deliveries").await,
        [None, None, None]
    );
    // The retry is due at its time, not before.
    assert!(
        store
            .claim_due(10, 1_000, retry_at - 1)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.claim_due(10, 1_000, retry_at).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].delivery_id, jobs[1].delivery_id);
    assert_eq!(due[0].attempts_made, 1);

    // A second record of the same attempt (two workers raced) does not fail.
    store
        .record_attempt(attempt(&jobs[1].delivery_id, &ep, NextStep::Failed))
        .await
        .unwrap();
    // A success, then three failures: the streak counts the failures since the success.
    let e = store.get_endpoint(&scope("s"), "a").await.unwrap().unwrap();
    assert_eq!(e.failure_streak, 3);
    assert!(e.failing_since.is_some());
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
    let ep = jobs[0].endpoint.as_ref().unwrap().id.clone();
    for j in &jobs {
        store
            .record_attempt(attempt(&j.delivery_id, &ep, NextStep::Failed))
            .await
            .unwrap();
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
            .claim_due(10, 1_000, now_ms() + 1)
            .await
            .unwrap()
            .len(),
        1
    );
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
async fn endpoints_behave_like_on_sqlite() {
    let db = test_db!();
    let store = db.store().await;
    let s = scope("s");
    store.create_endpoint(&s, endpoint("a")).await.unwrap();
    assert!(matches!(
        store.create_endpoint(&s, endpoint("a")).await,
        Err(StoreError::Conflict(_))
    ));
    // The same code in another scope is another endpoint.
    store
        .create_endpoint(&scope("t"), endpoint("a"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_endpoint(&s, "nope", EndpointPatch::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .apply_subscriptions(&s, vec![subscription("nope", &["*"])])
            .await,
        Err(StoreError::Invalid { .. })
    ));
    let report = store
        .apply_endpoints(&s, vec![endpoint("a"), endpoint("b"), endpoint("c")])
        .await
        .unwrap();
    assert_eq!(report.created, ["b", "c"]);
    assert_eq!(report.unchanged, ["a"]);
    let first = store.list_endpoints(&s, page(2)).await.unwrap();
    assert_eq!(
        first
            .data
            .iter()
            .map(|e| e.code.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let rest = store
        .list_endpoints(
            &s,
            PageRequest {
                limit: 2,
                cursor: first.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.data.len(), 1);
    assert_eq!(rest.next_cursor, None);
    let report = store
        .apply_endpoints(&s, vec![endpoint("c")])
        .await
        .unwrap();
    assert_eq!(report.deleted, ["a", "b"]);
    assert!(store.delete_endpoint(&s, "c").await.unwrap());
    assert!(!store.delete_endpoint(&s, "c").await.unwrap());
    store.close().await;
}

#[tokio::test]
async fn deliveries_page_on_id_cursors_newest_first() {
    let db = test_db!();
    let store = db.store().await;
    with_endpoints(&store, &["a"]).await;
    for _ in 0..5 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let p = store
            .list_deliveries(DeliveryFilter::default(), PageRequest { limit: 2, cursor })
            .await
            .unwrap();
        seen.extend(p.data.into_iter().map(|d| d.id.to_string()));
        cursor = p.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
    store.close().await;
}

#[tokio::test]
async fn an_inbound_request_is_deduplicated_and_forwarded_with_its_body() {
    let db = test_db!();
    let store = db.store().await;
    let spec = serde_json::from_value(serde_json::json!({
        "verify": {"type": "none"}
    }))
    .unwrap();
    store.put_source("gh", spec).await.unwrap();
    let fwd = scope(&hookrelay_store::postgres::forward_scope("gh"));
    store
        .create_endpoint(&fwd, endpoint("forward-1"))
        .await
        .unwrap();
    let request = |key: &str| NewInbound {
        id: RequestId::generate(),
        source: "gh".to_owned(),
        received_at: now_ms(),
        status: InboundStatus::Accepted,
        reason: None,
        client_ip: Some("10.0.0.1".to_owned()),
        dedupe_key: Some(key.to_owned()),
        dedupe_window_ms: 86_400_000,
        headers: vec![("x-github-delivery".to_owned(), key.to_owned())],
        body: bytes::Bytes::from_static(b"{\"raw\": true}"),
        verified: Some("none".to_owned()),
        publish: None,
    };
    let first = store.record_inbound(request("d-1")).await.unwrap();
    assert_eq!(first.status, InboundStatus::Accepted);
    assert_eq!(first.forwards, 1);
    let again = store.record_inbound(request("d-1")).await.unwrap();
    assert_eq!(again.status, InboundStatus::Duplicate);
    assert_eq!(again.duplicate_of, Some(first.id.clone()));
    assert_eq!(again.forwards, 0);
    let jobs = claim_all(&store, now_ms() + 1).await;
    assert_eq!(jobs.len(), 1);
    let payload = jobs[0]
        .inbound
        .as_ref()
        .expect("a forward carries the request");
    assert_eq!(payload.request_id, first.id);
    assert_eq!(&payload.body[..], b"{\"raw\": true}");
    let logged = store.list_inbound("gh", None, page(10)).await.unwrap();
    assert_eq!(logged.data.len(), 2);
    let detail = store
        .get_inbound("gh", first.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.body_size, 13);
    assert_eq!(detail.forwards.len(), 1);
    assert_eq!(detail.body.as_deref(), Some(&b"{\"raw\": true}"[..]));
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
