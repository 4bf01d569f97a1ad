//! The behaviour checks every backend passes (`tests/common`), on SQLite.

mod common;

use common::*;
use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::DeliveryId;
use hookrelay_store::Store;
use hookrelay_store::crypto::{Cipher, MasterKey};
use hookrelay_store::model::{ClaimRequest, DeliveryFilter, NextStep};
use hookrelay_store::sqlite::{SqliteStore, forward_scope};

/// A store on a fresh file (removed with the directory).
async fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let store = SqliteStore::open(&url, Cipher::new(&MasterKey::generate()))
        .await
        .unwrap();
    (store, dir)
}

#[tokio::test]
async fn an_idempotency_key_used_again_returns_the_original_and_queues_nothing() {
    let (store, _dir) = store().await;
    idempotency(&store).await;
    store.close().await;
}

#[tokio::test]
async fn an_idempotency_key_is_unique_only_in_its_namespace() {
    let (store, _dir) = store().await;
    idempotency_namespaces(&store).await;
    store.close().await;
}

/// A claim for `limit` rows, any endpoint allowed `per_endpoint`.
fn claim(limit: usize, per_endpoint: usize) -> ClaimRequest {
    ClaimRequest {
        limit,
        lease_ms: 60_000,
        now: now_ms(),
        per_endpoint,
        room: Default::default(),
    }
}

#[tokio::test]
async fn a_publish_creates_one_delivery_per_matching_enabled_endpoint() {
    let (store, _dir) = store().await;
    assert!(
        store.work_signal().is_some(),
        "dispatchers claim from the table"
    );
    let mut feed = store
        .take_job_feed()
        .expect("new deliveries are handed over");
    let event_id = fan_out(&store).await;
    // Handed over already claimed, so no claim takes them a second time.
    let jobs = vec![feed.recv().await.unwrap(), feed.recv().await.unwrap()];
    assert!(jobs.iter().all(|j| j.event_id == event_id));
    assert_eq!(store.claimed(), 2);
    assert!(
        store.claim_due(&claim(10, 10)).await.unwrap().is_empty(),
        "claimed rows are not claimed twice"
    );
    // Given back, a row is claimable again; recorded, it is settled.
    let lease = now_ms() + 60_000;
    store
        .release_claims(&[(jobs[0].delivery_id.clone(), lease)])
        .await
        .unwrap();
    let again = store.claim_due(&claim(10, 10)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery_id, jobs[0].delivery_id);
    for job in &jobs {
        store
            .record_attempt(attempt(job, NextStep::Succeeded))
            .await
            .unwrap();
    }
    assert_eq!(store.claimed(), 0);
    assert!(store.claim_due(&claim(10, 10)).await.unwrap().is_empty());
    store.close().await;
}

/// A backlog far larger than the claim window is delivered completely, each delivery
/// once: the first ones handed over at commit (never more than the feed's bound per
/// endpoint, so an endpoint that is down cannot take the feed's room), the
/// rest claimed from the table in due order, no more than the window at a time; one
/// endpoint gets at most its room per claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_the_window_is_claimed_in_due_order_within_the_window() {
    use std::collections::HashSet;
    use std::sync::Arc;
    const BACKLOG: usize = 20_000;
    const WINDOW: usize = 256;
    // The feed holds at most 4,096 new deliveries, and of each endpoint an equal share
    // among the endpoints holding claims and one more: 2 endpoints here, 4,096 / 3 each.
    const FEED_PER_ENDPOINT: usize = 4096 / 3;
    const FEED_BOUND: usize = 2 * FEED_PER_ENDPOINT;
    let (store, _dir) = store().await;
    let store = Arc::new(store);
    let mut feed = store.take_job_feed().unwrap();
    with_endpoints(&*store, &["a", "b"]).await;
    let mut publishers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        publishers.spawn(async move {
            for _ in 0..BACKLOG / 2 / 64 {
                store.publish(event(&["s"], None)).await.unwrap();
            }
        });
    }
    while let Some(done) = publishers.join_next().await {
        done.unwrap();
    }
    let pending = store.pending_stats().await.unwrap().count as usize;
    assert_eq!(pending, (BACKLOG / 2 / 64) * 64 * 2);

    let mut seen: HashSet<DeliveryId> = HashSet::new();
    assert!(
        store.claimed() <= FEED_BOUND,
        "{} handed over",
        store.claimed()
    );
    let mut fed = 0;
    let mut fed_per_endpoint = std::collections::HashMap::new();
    while let Ok(job) = feed.try_recv() {
        fed += 1;
        assert!(seen.insert(job.delivery_id.clone()));
        *fed_per_endpoint
            .entry(job.endpoint.as_ref().unwrap().id.clone())
            .or_insert(0) += 1;
        store
            .record_attempt(attempt(&job, NextStep::Succeeded))
            .await
            .unwrap();
    }
    assert_eq!(fed, FEED_BOUND, "the feed stops at its bound");
    assert!(
        fed_per_endpoint.values().all(|n| *n == FEED_PER_ENDPOINT),
        "each endpoint fills its share of the feed and no more: {fed_per_endpoint:?}"
    );
    let mut last_due = i64::MIN;
    loop {
        let jobs = store.claim_due(&claim(WINDOW, WINDOW / 2)).await.unwrap();
        if jobs.is_empty() {
            break;
        }
        assert!(store.claimed() <= WINDOW, "{} held", store.claimed());
        let mut per_endpoint = std::collections::HashMap::new();
        for job in &jobs {
            assert!(job.due_at >= last_due, "due order");
            last_due = job.due_at;
            assert!(seen.insert(job.delivery_id.clone()), "claimed twice");
            *per_endpoint
                .entry(job.endpoint.as_ref().unwrap().id.clone())
                .or_insert(0) += 1;
            store
                .record_attempt(attempt(job, NextStep::Succeeded))
                .await
                .unwrap();
        }
        assert!(per_endpoint.values().all(|n| *n <= WINDOW / 2));
    }
    assert_eq!(seen.len(), pending, "every delivery, once");
    assert_eq!(store.pending_stats().await.unwrap().count, 0);
    assert_eq!(store.claimed(), 0);
}

#[tokio::test]
async fn recording_attempts_moves_deliveries_on() {
    let (store, _dir) = store().await;
    let mut feed = store.take_job_feed().unwrap();
    with_endpoints(&store, &["a"]).await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        store.publish(event(&["s"], None)).await.unwrap();
        jobs.push((feed.recv().await.unwrap(), None));
    }
    attempts(&store, &jobs, now_ms() + 5_000).await;
    store.close().await;
}

#[tokio::test]
async fn pending_stats_count_the_queue_and_date_its_oldest() {
    let (store, _dir) = store().await;
    pending_stats(&store).await;
    store.close().await;
}

#[tokio::test]
async fn endpoints_behave_as_every_backend_does() {
    let (store, _dir) = store().await;
    endpoints(&store).await;
    store.close().await;
}

#[tokio::test]
async fn deliveries_page_on_id_cursors_newest_first() {
    let (store, _dir) = store().await;
    paging(&store).await;
    store.close().await;
}

#[tokio::test]
async fn an_inbound_request_is_deduplicated_and_forwarded_with_its_body() {
    let (store, _dir) = store().await;
    inbound(&store, &forward_scope("gh")).await;
    store.close().await;
}

#[tokio::test]
async fn the_event_type_registry_behaves_as_every_backend_does() {
    let (store, _dir) = store().await;
    registry(&store).await;
    store.close().await;
}

#[tokio::test]
async fn tokens_sources_subscriptions_and_rotation_behave_as_every_backend_does() {
    let (store, _dir) = store().await;
    configuration(&store).await;
    store.close().await;
}

/// Store-side throughput of the hot path (publish → feed or claim → record), without HTTP:
/// `cargo test -p hookrelay-store --test sqlite -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn hot_path_throughput() {
    use std::sync::Arc;
    let (store, _dir) = store().await;
    let store = Arc::new(store);
    with_endpoints(&*store, &["a"]).await;
    let mut feed = store.take_job_feed().unwrap();
    let total = (20_000 / 64) * 64;
    let started = std::time::Instant::now();
    let mut publishers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        publishers.spawn(async move {
            for _ in 0..total / 64 {
                store.publish(event(&["s"], None)).await.unwrap();
            }
        });
    }
    let mut records = tokio::task::JoinSet::new();
    let mut claimed = 0;
    while claimed < total {
        let mut jobs = store.claim_due(&claim(256, 256)).await.unwrap();
        while let Ok(job) = feed.try_recv() {
            jobs.push(job);
        }
        if jobs.is_empty() {
            tokio::task::yield_now().await;
        }
        claimed += jobs.len();
        for job in jobs {
            let store = Arc::clone(&store);
            records.spawn(async move {
                store
                    .record_attempt(attempt(&job, NextStep::Succeeded))
                    .await
                    .unwrap();
            });
        }
    }
    while records.join_next().await.is_some() {}
    while publishers.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{total} deliveries published and recorded in {secs:.2}s: {:.0}/s",
        total as f64 / secs
    );
    store.close().await;
}

#[tokio::test]
async fn the_dashboard_reads_count_attempts_per_hour_and_endpoint() {
    let (store, _dir) = store().await;
    dashboard_reads(&store).await;
    store.close().await;
}

#[tokio::test]
async fn a_test_event_goes_only_to_the_endpoint_it_names() {
    let (store, _dir) = store().await;
    test_event(&store).await;
    store.close().await;
}

#[tokio::test]
async fn hourly_counters_older_than_eight_days_are_pruned() {
    let (store, _dir) = store().await;
    old_counters_are_pruned(&store).await;
    store.close().await;
}

/// A database written before idempotency keys had namespaces: each old key lands in the
/// namespace of a token for exactly its event's scopes, so that tenant's retry still
/// deduplicates and another tenant's same key publishes a new event.
#[tokio::test]
async fn old_idempotency_keys_migrate_into_their_scopes_namespace() {
    use sqlx::migrate::Migrator;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    {
        let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut old = Migrator::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite"
        )))
        .await
        .unwrap();
        old.migrations = old
            .migrations
            .iter()
            .filter(|m| m.version < 8)
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
                 VALUES (?, 'order.paid', ?, '{}', ?, 1)",
            )
            .bind(id)
            .bind(serde_json::to_string(&scopes).unwrap())
            .bind(key)
            .execute(&pool)
            .await
            .unwrap();
            for s in scopes {
                sqlx::query("INSERT INTO event_scopes (scope, event_id) VALUES (?, ?)")
                    .bind(s)
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
        pool.close().await;
    }
    let store = SqliteStore::open(&url, Cipher::new(&MasterKey::generate()))
        .await
        .unwrap();
    let keyed = |namespace: &str| hookrelay_store::model::NewEvent {
        idempotency_key: Some(hookrelay_store::model::IdempotencyKey {
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
    let events = store
        .list_events(Default::default(), page(10))
        .await
        .unwrap();
    assert_eq!(events.data.len(), 4, "both old events survive the rebuild");
    store.close().await;
}

#[tokio::test]
async fn retention_removes_finished_history_and_payloads_never_what_is_pending() {
    let (store, _dir) = store().await;
    retention(&store).await;
    store.close().await;
}

/// An `order.paid` event for scope `s` carrying about `bytes` of data.
fn large_event(bytes: usize) -> hookrelay_store::model::NewEvent {
    hookrelay_store::model::NewEvent {
        data: serde_json::json!({ "blob": "x".repeat(bytes) }).to_string(),
        ..event(&["s"], None)
    }
}

#[tokio::test]
async fn at_its_size_limit_publishes_fail_as_full_attempts_are_still_recorded_and_freed_space_is_reused()
 {
    let (store, _dir) = store().await;
    with_endpoints(&store, &["a"]).await;
    let mut feed = store.take_job_feed().unwrap();
    store.limit_size(2 * 1024 * 1024).await.unwrap();
    assert_eq!(store.full_since(), None);

    // Publish 20 KB events until the database refuses one.
    let mut accepted = Vec::new();
    let refused = loop {
        match store.publish(large_event(20_000)).await {
            Ok(out) => accepted.push(out.event_id),
            Err(e) => break e,
        }
        assert!(accepted.len() < 500, "a 2 MiB database never filled");
    };
    assert!(
        matches!(refused, hookrelay_store::StoreError::Full(_)),
        "{refused:?}"
    );
    assert!(accepted.len() > 10, "only {} fit", accepted.len());
    assert!(store.full_since().is_some(), "the store says it is full");
    let all = DeliveryFilter::default();
    let listed = store.list_deliveries(all.clone(), page(500)).await.unwrap();
    assert_eq!(
        listed.data.len(),
        accepted.len(),
        "the refused publish left no delivery behind"
    );

    // Every accepted delivery is still recorded as delivered, in the reserve.
    let mut jobs = Vec::new();
    while let Ok(job) = feed.try_recv() {
        jobs.push(job);
    }
    // What the feed did not take waits in the table.
    jobs.extend(store.claim_due(&claim(1000, 1000)).await.unwrap());
    assert_eq!(jobs.len(), accepted.len());
    for job in jobs {
        store
            .record_attempt(attempt(&job, NextStep::Succeeded))
            .await
            .unwrap();
    }
    let delivered = store.list_deliveries(all, page(500)).await.unwrap();
    assert!(
        delivered
            .data
            .iter()
            .all(|d| d.status == hookrelay_store::model::DeliveryStatus::Succeeded)
    );
    assert!(
        store.publish(large_event(20_000)).await.is_err(),
        "still full: nothing was freed"
    );

    // Retention frees the finished history; its pages take new publishes.
    let prune = hookrelay_store::model::PruneRequest {
        history_before: now_ms() + 1,
        payload_before: None,
        payload_after: 0,
        batch: 1000,
    };
    let report = store.prune(&prune).await.unwrap();
    assert_eq!(report.events as usize, accepted.len());
    store.publish(large_event(20_000)).await.unwrap();
    assert_eq!(store.full_since(), None, "a publish committed again");
    store.close().await;
}

#[tokio::test]
async fn the_wal_shrinks_back_after_a_burst() {
    use sqlx::Connection;
    let (store, dir) = store().await;
    with_endpoints(&store, &["a"]).await;
    let db = dir.path().join("h.db");
    let wal = dir.path().join("h.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // A reader that keeps its snapshot through the burst holds the WAL: nothing of
    // the burst can be checkpointed past it, as on a busy server.
    let mut reader = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut reader).await.unwrap();
    sqlx::query("SELECT count(*) FROM events")
        .execute(&mut reader)
        .await
        .unwrap();
    let publishes = (0..800).map(|_| store.publish(large_event(60_000)));
    for out in join_all(publishes).await {
        out.unwrap();
    }
    let grown = wal_size();
    assert!(
        grown > 40 * 1024 * 1024,
        "the burst grew the WAL to {grown} bytes"
    );
    sqlx::query("COMMIT").execute(&mut reader).await.unwrap();
    reader.close().await.unwrap();

    // No write follows the burst: the checkpointer alone brings the WAL back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while wal_size() > 32 * 1024 * 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL stayed at {} bytes after the burst (it was {grown})",
            wal_size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.close().await;
}

/// An endpoint without room (its claims wait at its gate: it is down or hangs) does not
/// hide the others' deliveries behind its backlog, however much earlier that is due.
#[tokio::test]
async fn an_endpoint_without_room_does_not_hold_up_the_others_behind_its_backlog() {
    let (store, _dir) = store().await;
    let mut feed = store.take_job_feed().unwrap();
    with_endpoints(&store, &["dead"]).await;
    for _ in 0..1200 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let dead = store
        .get_endpoint(&scope("s"), "dead")
        .await
        .unwrap()
        .unwrap()
        .id;
    // A second scope whose endpoint is healthy, published after the backlog.
    store
        .create_endpoint(&scope("t"), endpoint("ok"))
        .await
        .unwrap();
    store
        .apply_subscriptions(&scope("t"), vec![subscription("ok", &["*"])])
        .await
        .unwrap();
    for _ in 0..5 {
        store.publish(event(&["t"], None)).await.unwrap();
    }
    // The feed handed over the dead endpoint's first deliveries (they wait at its gate)
    // and the healthy ones; those failed once and are due again now, in the table,
    // behind the dead endpoint's backlog.
    let mut retried = 0;
    while let Ok(job) = feed.try_recv() {
        if job.scope == "t" {
            let failed = attempt(&job, NextStep::RetryAt(now_ms()));
            store.record_attempt(failed).await.unwrap();
            retried += 1;
        }
    }
    assert_eq!(retried, 5);
    let mut request = claim(10, 10);
    request.room.insert(dead, 0);
    let jobs = store.claim_due(&request).await.unwrap();
    let scopes: Vec<&str> = jobs.iter().map(|j| j.scope.as_str()).collect();
    assert_eq!(
        scopes, ["t"; 5],
        "the endpoint with room gets its due deliveries, not the dead one"
    );
    store.close().await;
}

#[tokio::test]
async fn a_give_up_after_a_manual_retry_leaves_the_retry_standing() {
    let (store, _dir) = store().await;
    let mut feed = store.take_job_feed().unwrap();
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let job = feed.recv().await.unwrap();
    give_up_after_a_retry(&store, &job, None).await;
    let again = store.claim_due(&claim(10, 10)).await.unwrap();
    assert_eq!(again.len(), 1, "the retry is claimable");
    assert_eq!(again[0].delivery_id, job.delivery_id);
    store.close().await;
}

#[tokio::test]
async fn a_manual_retry_while_in_flight_is_attempted_again() {
    let (store, _dir) = store().await;
    let mut feed = store.take_job_feed().unwrap();
    with_endpoints(&store, &["a"]).await;
    store.publish(event(&["s"], None)).await.unwrap();
    let job = feed.recv().await.unwrap();
    retry_in_flight(&store, &job, None).await;
    let again = store.claim_due(&claim(10, 10)).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "claimable again once the attempt is recorded"
    );
    assert_eq!(again[0].delivery_id, job.delivery_id);
    assert_eq!(again[0].attempts_made, 1);
    store.close().await;
}
