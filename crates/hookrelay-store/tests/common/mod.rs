//! Fixtures and behaviour checks that run against every backend (`tests/sqlite.rs`,
//! `tests/postgres.rs`), so both answer the same way.

#![allow(dead_code)] // Each test file uses its own part.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use hookrelay_core::clock::now_ms;
use hookrelay_core::endpoint::OutboundAuth;
use hookrelay_core::ids::{DeliveryId, EndpointId, EventId, RequestId};
use hookrelay_core::scope::Scope;
use hookrelay_store::model::*;
use hookrelay_store::{Store, StoreError};

/// Awaits all the futures concurrently (polled together, like `futures::join_all`),
/// and returns their outputs in order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (future, slot) in pending.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => all = false,
                }
            }
        }
        if all { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    done.into_iter().flatten().collect()
}

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const BODY: &[u8] = b"{\"raw\": true}";

pub fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("scope")
}

pub fn endpoint(code: &str) -> EndpointInput {
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

pub fn subscription(code: &str, events: &[&str]) -> SubscriptionRecord {
    SubscriptionRecord {
        endpoint: code.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        filter: None,
    }
}

/// An `order.paid` event for `scopes`, with an idempotency key in the namespace `ns:s`.
pub fn event(scopes: &[&str], key: Option<&str>) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        event_type: "order.paid".to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        data: r#"{"order":1}"#.to_owned(),
        idempotency_key: key.map(|key| IdempotencyKey {
            namespace: "ns:s".to_owned(),
            key: key.to_owned(),
        }),
        created_at: now_ms(),
        only_endpoint: None,
    }
}

/// A scope `s` with endpoints `codes`, each subscribed to everything.
pub async fn with_endpoints(store: &dyn Store, codes: &[&str]) {
    for code in codes {
        store
            .create_endpoint(&scope("s"), endpoint(code))
            .await
            .unwrap();
    }
    let subs = codes.iter().map(|c| subscription(c, &["*"])).collect();
    store.apply_subscriptions(&scope("s"), subs).await.unwrap();
}

/// An attempt at `job` as it was taken (unleased, as one process's claims are).
pub fn attempt(job: &DeliveryJob, next: NextStep) -> AttemptResult {
    let endpoint = &job.endpoint.as_ref().expect("the job's endpoint").id;
    result(&job.delivery_id, endpoint, job.due_at, next)
}

/// An attempt at a listed delivery as it stands (pending and unclaimed).
pub fn attempt_at(d: &DeliveryRecord, next: NextStep) -> AttemptResult {
    result(&d.id, &d.endpoint_id, d.next_attempt_at.unwrap_or(0), next)
}

/// An attempt at delivery `id`, taken when it was due at `due_at`.
pub fn result(
    id: &DeliveryId,
    endpoint_id: &EndpointId,
    due_at: i64,
    next: NextStep,
) -> AttemptResult {
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
        due_at,
        lease_until: None,
    }
}

/// A manual retry while the delivery's attempt is in flight (`job`, claimed under
/// `lease`) is not absorbed by that attempt's result: the attempt is kept as history
/// and the delivery stays due at once.
pub async fn retry_in_flight(store: &dyn Store, job: &DeliveryJob, lease: Option<i64>) {
    let now = now_ms();
    store.retry_delivery(&job.delivery_id, now).await.unwrap();
    let done = AttemptResult {
        lease_until: lease,
        ..attempt(job, NextStep::Succeeded)
    };
    assert_eq!(
        store.record_attempt(done).await.unwrap(),
        Recorded::Superseded
    );
    let (d, attempts) = store
        .get_delivery(job.delivery_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending, "the retry stands");
    assert!(d.next_attempt_at.unwrap() <= now + 1, "due at once");
    assert_eq!(attempts.len(), 1, "the attempt in flight is kept");
    assert_eq!(d.attempts, 1);
}

/// A give-up that arrives after the delivery was re-queued by hand (its due time moved)
/// changes nothing: the retry stands and is attempted.
pub async fn give_up_after_a_retry(store: &dyn Store, job: &DeliveryJob, lease: Option<i64>) {
    store
        .retry_delivery(&job.delivery_id, now_ms())
        .await
        .unwrap();
    let stale = GiveUp {
        delivery_id: job.delivery_id.clone(),
        reason: "endpoint is disabled".into(),
        at: now_ms(),
        due_at: job.due_at,
        lease_until: lease,
    };
    assert_eq!(
        store.give_up_delivery(stale).await.unwrap(),
        Recorded::Superseded
    );
    let (d, _) = store
        .get_delivery(job.delivery_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending, "the retry stands");
    assert_eq!(d.last_error, None);
}

pub fn page(limit: u32) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

/// A used idempotency key returns the original event and queues nothing, also when
/// both publishes arrive at once.
pub async fn idempotency(store: &dyn Store) {
    with_endpoints(store, &["a"]).await;
    let first = store.publish(event(&["s"], Some("k1"))).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.deliveries, 1);
    assert!(first.jobs.is_empty(), "jobs go to the feed or the table");
    let again = store.publish(event(&["s"], Some("k1"))).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.deliveries, 1);
    let all = store
        .list_deliveries(DeliveryFilter::default(), page(100))
        .await
        .unwrap();
    assert_eq!(all.data.len(), 1);
    let events = store
        .list_events(EventFilter::default(), page(100))
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
    for (key, expect) in [("k1", 1), ("k0", 0)] {
        let by_key = EventFilter {
            idempotency_key: Some(key.to_owned()),
            ..EventFilter::default()
        };
        let found = store.list_events(by_key, page(100)).await.unwrap();
        assert_eq!(found.data.len(), expect, "{key}");
    }
    assert_eq!(events.data[0].idempotency_key.as_deref(), Some("k1"));

    let (x, y) = tokio::join!(
        store.publish(event(&["s"], Some("k2"))),
        store.publish(event(&["s"], Some("k2")))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.event_id, y.event_id);
    assert!(x.duplicate != y.duplicate);
}

/// The same key in another namespace is another event: published, delivered, and never
/// answered with the first namespace's event. In one batch too.
pub async fn idempotency_namespaces(store: &dyn Store) {
    with_endpoints(store, &["a"]).await;
    let keyed = |namespace: &str| NewEvent {
        idempotency_key: Some(IdempotencyKey {
            namespace: namespace.to_owned(),
            key: "order-1001".to_owned(),
        }),
        ..event(&["s"], None)
    };
    let first = store.publish(keyed("scopes:a")).await.unwrap();
    let other = store.publish(keyed("scopes:b")).await.unwrap();
    assert!(
        !other.duplicate,
        "another namespace's key is not a duplicate"
    );
    assert_ne!(other.event_id, first.event_id);
    assert_eq!(other.deliveries, 1);
    // Both at once (one batch), and a third namespace beside a repeat of the first.
    let (x, y, z) = tokio::join!(
        store.publish(keyed("admin")),
        store.publish(keyed("scopes:a")),
        store.publish(keyed("scopes:c")),
    );
    let (x, y, z) = (x.unwrap(), y.unwrap(), z.unwrap());
    assert!(!x.duplicate && !z.duplicate);
    assert!(y.duplicate);
    assert_eq!(y.event_id, first.event_id);
    let ids = [&first.event_id, &other.event_id, &x.event_id, &z.event_id];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let all = store
        .list_deliveries(DeliveryFilter::default(), page(100))
        .await
        .unwrap();
    assert_eq!(all.data.len(), 4, "one delivery per namespace's event");
    let by_key = EventFilter {
        idempotency_key: Some("order-1001".to_owned()),
        ..EventFilter::default()
    };
    assert_eq!(
        store
            .list_events(by_key, page(100))
            .await
            .unwrap()
            .data
            .len(),
        4
    );
}

/// One delivery per enabled endpoint whose subscription matches; returns the event.
pub async fn fan_out(store: &dyn Store) -> EventId {
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
    let off = EndpointPatch {
        enabled: Some(false),
        ..EndpointPatch::default()
    };
    store.update_endpoint(&s, "off", off).await.unwrap();
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
    for d in &listed.data {
        assert_eq!(d.status, DeliveryStatus::Pending);
        let job = store.load_job(&d.id).await.unwrap().expect("a pending job");
        assert_eq!(job.event_id, out.event_id);
        assert_eq!(&*job.data, r#"{"order":1}"#);
        let target = job.endpoint.as_ref().expect("endpoint");
        assert_eq!(target.secret, SECRET);
        assert_eq!(target.headers["X-Api-Key"], "k-123");
        assert!(job.inbound.is_none());
    }
    let event = store
        .get_event(out.event_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.scopes, ["s", "nobody"]);
    // A scoped reader finds it through any one of its scopes, and never through others.
    let seen_by = |scopes: &[&str]| {
        let allowed: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let id = out.event_id.clone();
        async move { store.get_event(id.as_str(), Some(&allowed)).await.unwrap() }
    };
    assert!(seen_by(&["nobody"]).await.is_some());
    assert!(seen_by(&["other", "s"]).await.is_some());
    assert!(seen_by(&["other"]).await.is_none());
    assert!(seen_by(&[]).await.is_none());
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
    out.event_id
}

/// Records a success, a retry at `retry_at` and a failure for `ids` (in that order),
/// all at once, and checks where each delivery stands.
/// Each job comes with the lease it was claimed under (`None` where claims are not
/// leased).
pub async fn attempts(store: &dyn Store, jobs: &[(DeliveryJob, Option<i64>)], retry_at: i64) {
    let steps = [
        NextStep::Succeeded,
        NextStep::RetryAt(retry_at),
        NextStep::Failed,
    ];
    let records = jobs.iter().zip(steps).map(|((job, lease), step)| {
        store.record_attempt(AttemptResult {
            lease_until: *lease,
            ..attempt(job, step)
        })
    });
    for r in join_all(records).await {
        assert_eq!(r.unwrap(), Recorded::Applied);
    }
    let ids: Vec<DeliveryId> = jobs.iter().map(|(j, _)| j.delivery_id.clone()).collect();
    let expect = [
        (DeliveryStatus::Succeeded, None),
        (DeliveryStatus::Pending, Some(retry_at)),
        (DeliveryStatus::Failed, None),
    ];
    for (id, (status, next)) in ids.iter().zip(expect) {
        let (d, attempts) = store
            .get_delivery(id.as_str(), None)
            .await
            .unwrap()
            .unwrap();
        let own = [d.scope.clone()];
        let other = ["another-tenant".to_owned()];
        assert!(
            store
                .get_delivery(id.as_str(), Some(&own))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .get_delivery(id.as_str(), Some(&other))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(d.status, status);
        assert_eq!(d.next_attempt_at, next);
        assert_eq!(d.attempts, 1);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].n, 1);
        assert_eq!(attempts[0].response_body.as_deref(), Some("ok"));
    }
    assert!(store.load_job(&ids[0]).await.unwrap().is_none());
    assert_eq!(
        store
            .load_job(&ids[1])
            .await
            .unwrap()
            .unwrap()
            .attempts_made,
        1
    );
    let e = store.get_endpoint(&scope("s"), "a").await.unwrap().unwrap();
    assert_eq!(e.failure_streak, 2, "two failures after the success");
    assert!(e.failing_since.is_some());
}

/// Conflicts, missing things, declarative apply and paging of endpoints.
pub async fn endpoints(store: &dyn Store) {
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
    let codes: Vec<_> = first.data.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["a", "b"]);
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
}

/// The delivery log pages newest first on `id` cursors.
pub async fn paging(store: &dyn Store) {
    with_endpoints(store, &["a"]).await;
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

    // A scoped caller sees its scopes only (none at all with an empty list).
    for (allowed, expect) in [
        (vec![], 0),
        (vec!["t".to_owned()], 0),
        (vec!["s".to_owned()], 5),
    ] {
        let deliveries = DeliveryFilter {
            allowed_scopes: Some(allowed.clone()),
            ..DeliveryFilter::default()
        };
        let found = store.list_deliveries(deliveries, page(100)).await.unwrap();
        assert_eq!(found.data.len(), expect, "{allowed:?}");
        let events = EventFilter {
            allowed_scopes: Some(allowed.clone()),
            ..EventFilter::default()
        };
        let found = store.list_events(events, page(100)).await.unwrap();
        assert_eq!(found.data.len(), expect, "{allowed:?}");
    }
}

pub fn inbound_request(key: &str) -> NewInbound {
    NewInbound {
        id: RequestId::generate(),
        source: "gh".to_owned(),
        received_at: now_ms(),
        status: InboundStatus::Accepted,
        reason: None,
        client_ip: Some("10.0.0.1".to_owned()),
        dedupe_key: Some(key.to_owned()),
        dedupe_window_ms: 86_400_000,
        headers: vec![("x-github-delivery".to_owned(), key.to_owned())],
        body: Bytes::from_static(BODY),
        verified: Some("none".to_owned()),
        publish: None,
    }
}

/// A request is recorded with one forward per forward endpoint, a second one with the
/// same key is a duplicate without forwards; returns the first request's forward.
pub async fn inbound(store: &dyn Store, forward_scope: &str) -> (RequestId, DeliveryId) {
    let spec = serde_json::from_value(serde_json::json!({"verify": {"type": "none"}})).unwrap();
    store.put_source("gh", spec).await.unwrap();
    store
        .create_endpoint(&scope(forward_scope), endpoint("forward-1"))
        .await
        .unwrap();
    let first = store.record_inbound(inbound_request("d-1")).await.unwrap();
    assert_eq!(first.status, InboundStatus::Accepted);
    assert_eq!(first.forwards, 1);
    let again = store.record_inbound(inbound_request("d-1")).await.unwrap();
    assert_eq!(again.status, InboundStatus::Duplicate);
    assert_eq!(again.duplicate_of, Some(first.id.clone()));
    assert_eq!(again.forwards, 0);
    let logged = store.list_inbound("gh", None, page(10)).await.unwrap();
    assert_eq!(logged.data.len(), 2);
    let detail = store
        .get_inbound("gh", first.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.body_size, BODY.len());
    assert_eq!(detail.body.as_deref(), Some(BODY));
    assert_eq!(detail.forwards.len(), 1);
    let forward = detail.forwards[0].delivery_id.clone();
    let job = store
        .load_job(&forward)
        .await
        .unwrap()
        .expect("a forward job");
    let payload = job.inbound.as_ref().expect("a forward carries the request");
    assert_eq!(payload.request_id, first.id);
    assert_eq!(&payload.body[..], BODY);
    (first.id, forward)
}

fn type_def(code: &str, name: &str) -> hookrelay_core::event_type::EventTypeDef {
    hookrelay_core::event_type::EventTypeDef {
        code: code.to_owned(),
        name: name.to_owned(),
        description: None,
        schema: Some(serde_json::json!({"type": "object"})),
    }
}

/// The event type registry: put, archive, declarative sync (dry run too).
pub async fn registry(store: &dyn Store) {
    let (rec, created) = store.put_event_type(type_def("b.one", "B")).await.unwrap();
    assert!(created);
    assert_eq!(rec.schema, Some(serde_json::json!({"type": "object"})));
    let (_, created) = store.put_event_type(type_def("b.one", "B2")).await.unwrap();
    assert!(!created);
    store.put_event_type(type_def("a.two", "A")).await.unwrap();
    assert!(store.archive_event_type("a.two").await.unwrap());
    assert!(!store.archive_event_type("nope").await.unwrap());
    let live = store.list_event_types(false, page(10)).await.unwrap();
    assert_eq!(live.data.len(), 1);
    let all = store.list_event_types(true, page(1)).await.unwrap();
    assert_eq!(all.data[0].code, "a.two", "ordered by code");
    assert!(all.data[0].archived);
    assert_eq!(all.next_cursor.as_deref(), Some("a.two"));

    let defs = vec![type_def("c.three", "C"), type_def("a.two", "A")];
    let dry = store.sync_event_types(defs.clone(), true).await.unwrap();
    assert_eq!(dry.created, ["c.three"]);
    assert_eq!(dry.updated, ["a.two"]);
    assert_eq!(dry.archived, ["b.one"]);
    assert!(store.get_event_type("c.three").await.unwrap().is_none());
    let done = store.sync_event_types(defs.clone(), false).await.unwrap();
    assert_eq!(done, dry);
    let again = store.sync_event_types(defs, false).await.unwrap();
    assert_eq!(again.unchanged, ["c.three", "a.two"]);
    assert!(
        store
            .get_event_type("b.one")
            .await
            .unwrap()
            .unwrap()
            .archived
    );
}

/// Tokens, sources, subscriptions and secret rotation.
pub async fn configuration(store: &dyn Store) {
    assert!(!store.has_admin_token().await.unwrap());
    let admin = store.create_token("admin", "h1", None).await.unwrap();
    let scoped = store
        .create_token("ci", "h2", Some(vec!["s".to_owned()]))
        .await
        .unwrap();
    assert!(store.has_admin_token().await.unwrap());
    assert_eq!(store.find_token("h2").await.unwrap(), Some(scoped.clone()));
    assert_eq!(store.list_tokens().await.unwrap(), [admin.clone(), scoped]);
    assert!(store.revoke_token(admin.id.as_str()).await.unwrap());
    assert!(!store.revoke_token(admin.id.as_str()).await.unwrap());
    assert!(store.find_token("h1").await.unwrap().is_none());
    assert!(!store.has_admin_token().await.unwrap());

    let spec: hookrelay_core::source::SourceSpec =
        serde_json::from_value(serde_json::json!({"verify": {"type": "none"}})).unwrap();
    let (_, created) = store.put_source("b", spec.clone()).await.unwrap();
    assert!(created);
    let (_, created) = store.put_source("b", spec.clone()).await.unwrap();
    assert!(!created);
    store.put_source("a", spec).await.unwrap();
    let sources = store.list_sources(page(10)).await.unwrap();
    let names: Vec<_> = sources.data.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(store.delete_source("a").await.unwrap());
    assert!(store.get_source("a").await.unwrap().is_none());

    let s = scope("s");
    with_endpoints(store, &["a", "b"]).await;
    let filtered = SubscriptionRecord {
        endpoint: "b".to_owned(),
        events: vec!["order.*".to_owned()],
        filter: Some(serde_json::json!({"data.order": 1})),
    };
    let report = store
        .apply_subscriptions(&s, vec![subscription("a", &["*"]), filtered.clone()])
        .await
        .unwrap();
    assert_eq!(report.unchanged, ["a"]);
    assert_eq!(report.updated, ["b"]);
    assert_eq!(
        store.list_subscriptions(&s).await.unwrap(),
        [subscription("a", &["*"]), filtered]
    );
    let report = store.apply_subscriptions(&s, vec![]).await.unwrap();
    assert_eq!(report.deleted, ["a", "b"]);

    let rotated = store
        .rotate_secret(&s, "a", "whsec_bmV3IHNlY3JldCBuZXcgc2VjcmV0", None)
        .await
        .unwrap();
    assert_eq!(rotated.secret, "whsec_bmV3IHNlY3JldCBuZXcgc2VjcmV0");
    assert_eq!(rotated.previous_secret, None);
    let until = now_ms() + 60_000;
    let rotated = store
        .rotate_secret(&s, "a", SECRET, Some(until))
        .await
        .unwrap();
    assert_eq!(
        rotated.previous_secret,
        Some(("whsec_bmV3IHNlY3JldCBuZXcgc2VjcmV0".to_owned(), until))
    );
}

/// `pending_stats` counts pending deliveries and dates the oldest; a settled delivery
/// drops out of both, and an empty queue has no oldest.
pub async fn pending_stats(store: &dyn Store) {
    assert_eq!(
        store.pending_stats().await.unwrap(),
        PendingStats::default()
    );
    with_endpoints(store, &["a"]).await;
    for _ in 0..3 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let mut listed = store
        .list_deliveries(DeliveryFilter::default(), page(10))
        .await
        .unwrap()
        .data;
    listed.reverse(); // oldest first
    let stats = store.pending_stats().await.unwrap();
    assert_eq!(stats.count, 3);
    assert_eq!(stats.oldest_created_at, Some(listed[0].created_at));

    store
        .record_attempt(attempt_at(&listed[0], NextStep::Succeeded))
        .await
        .unwrap();
    let stats = store.pending_stats().await.unwrap();
    assert_eq!(stats.count, 2);
    assert_eq!(stats.oldest_created_at, Some(listed[1].created_at));

    for d in &listed[1..] {
        store
            .record_attempt(attempt_at(d, NextStep::Failed))
            .await
            .unwrap();
    }
    assert_eq!(
        store.pending_stats().await.unwrap(),
        PendingStats::default()
    );
}

/// The dashboard's reads: hourly counters, per-endpoint stats, failing endpoints, the
/// oldest pending delivery, scopes, and the delivery log's type and time filters.
pub async fn dashboard_reads(store: &dyn Store) {
    let day_ago = now_ms() - 24 * 3_600_000;
    let everything = OverviewRequest {
        since: day_ago,
        allowed_scopes: None,
        inbound: false,
    };
    assert_eq!(
        store.overview(&everything).await.unwrap(),
        Overview::default()
    );

    with_endpoints(store, &["a", "b"]).await;
    store
        .create_endpoint(&scope("t"), endpoint("c"))
        .await
        .unwrap();
    store
        .apply_subscriptions(&scope("t"), vec![subscription("c", &["*"])])
        .await
        .unwrap();
    for _ in 0..3 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    store.publish(event(&["t"], None)).await.unwrap();
    let mut all = store
        .list_deliveries(DeliveryFilter::default(), page(100))
        .await
        .unwrap()
        .data;
    all.reverse(); // oldest first
    assert_eq!(all.len(), 7);
    let of = |code: &str| -> Vec<DeliveryRecord> {
        all.iter().filter(|d| d.endpoint == code).cloned().collect()
    };
    let (a, b, c) = (of("a"), of("b"), of("c"));
    // One at a time, so the order (and so the latest outcome) is known.
    for (d, step) in [
        (&a[0], NextStep::Succeeded),
        (&a[1], NextStep::Succeeded),
        (&a[2], NextStep::RetryAt(now_ms() + 60_000)),
        (&b[0], NextStep::Failed),
        (&b[1], NextStep::Failed),
        (&c[0], NextStep::Succeeded),
    ] {
        store.record_attempt(attempt_at(d, step)).await.unwrap();
    }

    let seen = store.overview(&everything).await.unwrap();
    let sum = |o: &Overview| {
        o.hours
            .iter()
            .fold((0, 0), |(s, f), h| (s + h.succeeded, f + h.failed))
    };
    assert_eq!(sum(&seen), (3, 3), "{:?}", seen.hours);
    assert!(seen.hours.iter().all(|h| h.hour_start % 3_600_000 == 0));
    let failing: Vec<(&str, u32)> = seen
        .failing
        .iter()
        .map(|f| (f.code.as_str(), f.failure_streak))
        .collect();
    assert_eq!(failing.len(), 2);
    assert!(
        failing.contains(&("a", 1)) && failing.contains(&("b", 2)),
        "{failing:?}"
    );
    let pending: Vec<&DeliveryRecord> = all
        .iter()
        .filter(|d| ![&a[0].id, &a[1].id, &b[0].id, &b[1].id, &c[0].id].contains(&&d.id))
        .collect();
    let oldest = seen.oldest_pending.expect("a pending delivery");
    assert_eq!(oldest.id, pending[0].id);
    assert_eq!(oldest.created_at, pending[0].created_at);

    let only_t = store
        .overview(&OverviewRequest {
            allowed_scopes: Some(vec!["t".to_owned()]),
            ..everything.clone()
        })
        .await
        .unwrap();
    assert_eq!(sum(&only_t), (1, 0));
    assert!(only_t.failing.is_empty());
    assert!(
        only_t.oldest_pending.is_none(),
        "t's one delivery succeeded"
    );

    let ids: Vec<String> = [&a[0], &b[0], &c[0]]
        .iter()
        .map(|d| d.endpoint_id.to_string())
        .collect();
    let stats = store.endpoint_stats(&ids, day_ago, now_ms()).await.unwrap();
    let of = |id: &str| stats.iter().find(|s| s.endpoint_id == id).unwrap().clone();
    let sa = of(&ids[0]);
    assert_eq!((sa.succeeded, sa.failed, sa.last_ok), (2, 1, Some(false)));
    let sb = of(&ids[1]);
    assert_eq!((sb.succeeded, sb.failed, sb.last_ok), (0, 2, Some(false)));
    let sc = of(&ids[2]);
    assert_eq!((sc.succeeded, sc.failed, sc.last_ok), (1, 0, Some(true)));
    assert!(sc.last_attempt_at.is_some());
    let none = store
        .endpoint_stats(&[EndpointId::generate().to_string()], day_ago, now_ms())
        .await
        .unwrap();
    assert!(none.is_empty());
    // From the future, nothing has been counted yet.
    let later = store
        .endpoint_stats(&ids, now_ms() + 2 * 3_600_000, now_ms())
        .await
        .unwrap();
    assert!(later.iter().all(|s| s.succeeded + s.failed == 0));

    assert_eq!(store.list_scopes(None).await.unwrap(), ["s", "t"]);
    let allowed = ["t".to_owned(), "x".to_owned()];
    assert_eq!(store.list_scopes(Some(&allowed)).await.unwrap(), ["t"]);

    let count = |filter: DeliveryFilter| async move {
        store
            .list_deliveries(filter, page(100))
            .await
            .unwrap()
            .data
            .len()
    };
    let hour = 3_600_000;
    assert_eq!(
        count(DeliveryFilter {
            since: Some(now_ms() + hour),
            ..DeliveryFilter::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(DeliveryFilter {
            since: Some(day_ago),
            until: Some(now_ms() + hour),
            ..DeliveryFilter::default()
        })
        .await,
        7
    );
    assert_eq!(
        count(DeliveryFilter {
            until: Some(day_ago),
            ..DeliveryFilter::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(DeliveryFilter {
            event_type: Some("order.paid".to_owned()),
            ..DeliveryFilter::default()
        })
        .await,
        7
    );
    assert_eq!(
        count(DeliveryFilter {
            event_type: Some("order.refunded".to_owned()),
            ..DeliveryFilter::default()
        })
        .await,
        0
    );
}

/// A test event names one endpoint: only it gets a delivery, whatever the
/// subscriptions of the scope say.
pub async fn test_event(store: &dyn Store) {
    with_endpoints(store, &["a", "b"]).await;
    store
        .apply_subscriptions(
            &scope("s"),
            vec![subscription("a", &["*"]), subscription("b", &["user.*"])],
        )
        .await
        .unwrap();
    let out = store
        .publish(NewEvent {
            only_endpoint: Some("b".to_owned()),
            ..event(&["s"], None)
        })
        .await
        .unwrap();
    assert_eq!(out.deliveries, 1);
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
    let codes: Vec<&str> = listed.data.iter().map(|d| d.endpoint.as_str()).collect();
    assert_eq!(
        codes,
        ["b"],
        "b gets it although it subscribes to user.* only"
    );
}

/// Hourly counters older than eight days are deleted by the first batch of a new hour.
pub async fn old_counters_are_pruned(store: &dyn Store) {
    with_endpoints(store, &["a"]).await;
    for _ in 0..2 {
        store.publish(event(&["s"], None)).await.unwrap();
    }
    let listed = store
        .list_deliveries(DeliveryFilter::default(), page(10))
        .await
        .unwrap()
        .data;
    let day = 24 * 3_600_000;
    let counted = || async {
        let o = store
            .overview(&OverviewRequest {
                since: now_ms() - 11 * day,
                allowed_scopes: None,
                inbound: false,
            })
            .await
            .unwrap();
        o.hours
            .iter()
            .fold((0, 0), |(s, f), h| (s + h.succeeded, f + h.failed))
    };
    // An attempt ten days old (say, recorded just before a long outage) is counted…
    let mut old = attempt_at(&listed[0], NextStep::Succeeded);
    old.attempt.at -= 10 * day;
    store.record_attempt(old).await.unwrap();
    assert_eq!(counted().await, (1, 0));
    // …until a batch of a later hour prunes it.
    store
        .record_attempt(attempt_at(&listed[1], NextStep::Failed))
        .await
        .unwrap();
    assert_eq!(counted().await, (0, 1), "the ten-day-old row is gone");
}

/// Retention removes finished history older than the limit (events, deliveries,
/// attempts, inbound requests), never a pending delivery or what it needs; payload
/// pruning drops bodies and keeps the rows.
pub async fn retention(store: &dyn Store) {
    const HOUR: i64 = 3_600_000;
    with_endpoints(store, &["a"]).await;
    let now = now_ms();
    let at = |created_at: i64| NewEvent {
        created_at,
        ..event(&["s"], None)
    };
    let old_done = store.publish(at(now - 3 * HOUR)).await.unwrap();
    let old_pending = store.publish(at(now - 3 * HOUR)).await.unwrap();
    let recent = store.publish(at(now)).await.unwrap();
    let delivery_of = |id: &EventId| {
        let id = id.clone();
        async move {
            let filter = DeliveryFilter {
                event_id: Some(id.to_string()),
                ..DeliveryFilter::default()
            };
            store.list_deliveries(filter, page(10)).await.unwrap().data[0].clone()
        }
    };
    for out in [&old_done, &recent] {
        let d = delivery_of(&out.event_id).await;
        store
            .record_attempt(attempt_at(&d, NextStep::Succeeded))
            .await
            .unwrap();
    }
    // An inbound request from long ago, its forward done (no forward endpoint: none).
    let spec = serde_json::from_value(serde_json::json!({"verify": {"type": "none"}})).unwrap();
    store.put_source("gh", spec).await.unwrap();
    let old_request = store
        .record_inbound(NewInbound {
            received_at: now - 3 * HOUR,
            ..inbound_request("old")
        })
        .await
        .unwrap();
    let new_request = store.record_inbound(inbound_request("new")).await.unwrap();

    // Payloads first: the rows stay, the bodies go, except what a pending delivery sends.
    let payloads = PruneRequest {
        history_before: 0,
        payload_before: Some(now - HOUR),
        payload_after: 0,
        batch: 100,
    };
    let report = store.prune(&payloads).await.unwrap();
    assert_eq!(report.events, 0);
    assert_eq!(
        report.payloads, 2,
        "the finished old event and the old request"
    );
    assert_eq!(report.payload_watermark, now - HOUR);
    let done = store
        .get_event(old_done.event_id.as_str(), None)
        .await
        .unwrap()
        .expect("the row stays");
    assert_eq!(done.data, "null");
    let (_, attempts) = store
        .get_delivery(delivery_of(&old_done.event_id).await.id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempts.len(), 1, "the attempt's row stays");
    assert_eq!(attempts[0].response_body, None);
    let pending = store
        .get_event(old_pending.event_id.as_str(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        pending.data, r#"{"order":1}"#,
        "a pending delivery keeps its payload"
    );
    let request = store
        .get_inbound("gh", old_request.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(
        request.body.is_none_or(|b| b.is_empty()),
        "the body is dropped"
    );

    // History: the finished old event and request go, with their rows; the rest stays.
    let history = PruneRequest {
        history_before: now - HOUR,
        payload_before: None,
        payload_after: 0,
        batch: 100,
    };
    let report = store.prune(&history).await.unwrap();
    assert_eq!(
        (
            report.events,
            report.deliveries,
            report.attempts,
            report.inbound
        ),
        (1, 1, 1, 1),
        "{report:?}"
    );
    assert!(!report.more(100));
    assert!(
        store
            .get_event(old_done.event_id.as_str(), None)
            .await
            .unwrap()
            .is_none()
    );
    for kept in [&old_pending, &recent] {
        assert!(
            store
                .get_event(kept.event_id.as_str(), None)
                .await
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(
        delivery_of(&old_pending.event_id).await.status,
        DeliveryStatus::Pending
    );
    assert!(
        store
            .get_inbound("gh", old_request.id.as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_inbound("gh", new_request.id.as_str())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.prune(&history).await.unwrap(), PruneReport::default());
}
