//! Scale-out on PostgreSQL, with the real binary: one API process and two worker
//! processes share one database; one worker is killed with SIGKILL in the middle of the
//! run; every delivery still arrives, and the duplicates are counted.
//!
//! Needs PostgreSQL at `HOOKRELAY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Without one the test says so and passes,
//! except under CI (`CI` set), where it fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

mod common;
use common::{postgres_url, spawn, stop};

const TOKEN: &str = "scale-out-admin";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const EVENTS: usize = 10_000;
const ENDPOINTS: usize = 3;
/// The most deliveries one worker holds at once: the bound on what its death can
/// make another worker send again.
const WORKER_IN_FLIGHT: usize = 128;

/// Counts every delivery by endpoint path and webhook id.
#[derive(Clone, Default)]
struct Counter {
    seen: Arc<Mutex<HashMap<(String, String), usize>>>,
    answered: Arc<AtomicUsize>,
}

impl Counter {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
                let me = me.clone();
                async move {
                    // Slow enough that deliveries are in flight when the worker dies.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    *me.seen
                        .lock()
                        .unwrap()
                        .entry((uri.path().to_owned(), id))
                        .or_default() += 1;
                    me.answered.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_api_and_two_workers_deliver_everything_when_a_worker_is_killed() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("scale_{}_{started}", std::process::id());
    let in_flight = WORKER_IN_FLIGHT.to_string();
    let common_env = |role: &'static str| {
        vec![
            ("HOOKRELAY_ROLE", role.to_owned()),
            ("HOOKRELAY_DATABASE_URL", url.clone()),
            ("HOOKRELAY_DATABASE_SCHEMA", schema.clone()),
            ("HOOKRELAY_MASTER_KEY", KEY.to_owned()),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN.to_owned()),
            ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8".to_owned()),
            ("HOOKRELAY_RETRY_SCHEDULE", "200ms,500ms,1s".to_owned()),
            // The lease is the attempt timeout + 30 s: a dead worker's rows come back then.
            ("HOOKRELAY_ATTEMPT_TIMEOUT_MS", "2000".to_owned()),
            ("HOOKRELAY_POLL_INTERVAL_MS", "200".to_owned()),
            ("HOOKRELAY_MAX_IN_FLIGHT", in_flight.clone()),
            ("RUST_LOG", "warn,hookrelay=info".to_owned()),
        ]
    };
    let start = |role: &'static str| {
        let envs = common_env(role);
        let pairs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spawn(dir.path(), &pairs)
    };
    // The API process first: it applies the migrations the workers find.
    let mut api_proc = start("api");
    let mut survivor = start("worker");
    let mut victim = start("worker");

    let counter = Counter::default();
    let receiver = counter.start().await;
    let client = reqwest::Client::new();
    let api = |p: &str| format!("{}/api/v1{p}", api_proc.base);
    let r = client
        .put(api("/event-types/order.paid"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "Order paid"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let endpoints: Vec<_> = (0..ENDPOINTS)
        .map(|i| json!({"code": format!("e{i}"), "url": format!("{receiver}/e{i}")}))
        .collect();
    let r = client
        .put(api("/scopes/shop/endpoints"))
        .bearer_auth(TOKEN)
        .json(&endpoints)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let subs: serde_json::Map<_, _> = (0..ENDPOINTS)
        .map(|i| (format!("e{i}"), json!(["*"])))
        .collect();
    let r = client
        .put(api("/scopes/shop/subscriptions"))
        .bearer_auth(TOKEN)
        .json(&subs)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // Publish from 32 concurrent clients; kill one worker once a sixth has arrived.
    let began = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(Vec::with_capacity(EVENTS)));
    let mut publishers = Vec::new();
    for _ in 0..32 {
        let (client, url, next, ids) = (client.clone(), api("/events"), next.clone(), ids.clone());
        publishers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < EVENTS {
                let r = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .json(&json!({"type": "order.paid", "scopes": ["shop"], "data": {"n": 1}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                let body: serde_json::Value = r.json().await.unwrap();
                assert_eq!(body["deliveries"], ENDPOINTS);
                ids.lock()
                    .unwrap()
                    .push(body["id"].as_str().unwrap().to_owned());
            }
        }));
    }
    let total = EVENTS * ENDPOINTS;
    let deadline = Instant::now() + Duration::from_secs(120);
    while counter.answered.load(Ordering::SeqCst) < total / 6 {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    victim.child.kill().unwrap(); // SIGKILL
    victim.child.wait().unwrap();
    let at_kill = counter.answered.load(Ordering::SeqCst);
    for p in publishers {
        p.await.unwrap();
    }
    let published = began.elapsed();

    let ids = ids.lock().unwrap().clone();
    assert_eq!(ids.len(), EVENTS);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let seen = counter.seen.lock().unwrap().clone();
        let delivered = ids
            .iter()
            .flat_map(|id| (0..ENDPOINTS).map(move |i| (format!("/e{i}"), id.clone())))
            .filter(|k| seen.contains_key(k))
            .count();
        if delivered == total {
            let duplicates: usize = seen.values().map(|n| n - 1).sum();
            eprintln!(
                "scale-out: {EVENTS} events x {ENDPOINTS} endpoints = {total} deliveries; published in {:.1} s; \
                 worker killed after {at_kill} deliveries; all delivered in {:.1} s; {duplicates} duplicate deliveries",
                published.as_secs_f64(),
                began.elapsed().as_secs_f64()
            );
            assert!(
                duplicates <= WORKER_IN_FLIGHT,
                "only what the killed worker held may arrive twice: {duplicates} duplicates"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} of {total} deliveries arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(&mut survivor, "-TERM");
    stop(&mut api_proc, "-TERM");
}

/// Ten rounds: under a steady publish load, one process of `1 api + 2 workers`, picked
/// at random (the seed is printed), is killed with SIGKILL and started again. Then
/// everything drains: every accepted event reaches every endpoint, and the duplicates
/// stay within what the killed workers could hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_random_kills_among_one_api_and_two_workers_lose_nothing() {
    const ROUNDS: usize = 10;
    let Some(url) = postgres_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("killloop_{}_{started}", std::process::id());
    let in_flight = WORKER_IN_FLIGHT.to_string();
    let envs = |role: &'static str| {
        vec![
            ("HOOKRELAY_ROLE", role.to_owned()),
            ("HOOKRELAY_DATABASE_URL", url.clone()),
            ("HOOKRELAY_DATABASE_SCHEMA", schema.clone()),
            ("HOOKRELAY_MASTER_KEY", KEY.to_owned()),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN.to_owned()),
            ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8".to_owned()),
            ("HOOKRELAY_RETRY_SCHEDULE", "200ms,500ms,1s".to_owned()),
            // A killed worker's rows come back when their lease (timeout + 30 s) ends.
            ("HOOKRELAY_ATTEMPT_TIMEOUT_MS", "2000".to_owned()),
            ("HOOKRELAY_POLL_INTERVAL_MS", "200".to_owned()),
            ("HOOKRELAY_MAX_IN_FLIGHT", in_flight.clone()),
            ("RUST_LOG", "warn,hookrelay=info".to_owned()),
        ]
    };
    let start = |role: &'static str| {
        let envs = envs(role);
        let pairs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spawn(dir.path(), &pairs)
    };
    // The API first: it applies the migrations the workers find.
    let mut procs = vec![start("api"), start("worker"), start("worker")];
    let roles = ["api", "worker", "worker"];
    // A restarted API listens on a new port: publishers read the current one.
    let base = Arc::new(Mutex::new(procs[0].base.clone()));

    let counter = Counter::default();
    let receiver = counter.start().await;
    let client = reqwest::Client::new();
    let api = |p: &str| format!("{}/api/v1{p}", base.lock().unwrap());
    let endpoints: Vec<_> = (0..ENDPOINTS)
        .map(|i| json!({"code": format!("e{i}"), "url": format!("{receiver}/e{i}")}))
        .collect();
    let subs: serde_json::Map<_, _> = (0..ENDPOINTS)
        .map(|i| (format!("e{i}"), json!(["*"])))
        .collect();
    for (path, body) in [
        ("/event-types/order.paid", json!({"name": "Order paid"})),
        ("/scopes/shop/endpoints", json!(endpoints)),
        ("/scopes/shop/subscriptions", json!(subs)),
    ] {
        let r = client
            .put(api(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }

    // Publishers: a connection refused while the API is down is not an acceptance.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ids = Arc::new(Mutex::new(Vec::new()));
    let mut publishers = Vec::new();
    for _ in 0..8 {
        let (client, base, done, ids) = (client.clone(), base.clone(), done.clone(), ids.clone());
        publishers.push(tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                let url = format!("{}/api/v1/events", base.lock().unwrap());
                let sent = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .json(&json!({"type": "order.paid", "scopes": ["shop"], "data": {"n": 1}}))
                    .send()
                    .await;
                let Ok(r) = sent else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                if r.status() == 202 {
                    let body: serde_json::Value = r.json().await.unwrap();
                    ids.lock()
                        .unwrap()
                        .push(body["id"].as_str().unwrap().to_owned());
                }
            }
        }));
    }

    let seed = started as u64;
    let mut rng = seed;
    let delivered_of = |ids: &[String]| {
        let seen = counter.seen.lock().unwrap();
        ids.iter()
            .flat_map(|id| (0..ENDPOINTS).map(move |i| (format!("/e{i}"), id.clone())))
            .filter(|k| seen.contains_key(k))
            .count()
    };
    let mut workers_killed = 0;
    eprintln!("kill loop: seed {seed}");
    for round in 1..=ROUNDS {
        let before = ids.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(60);
        while ids.lock().unwrap().len() < before + 500 {
            assert!(
                Instant::now() < deadline,
                "round {round}: publishes stalled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // xorshift: reproducible from the printed seed.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let victim = (rng % 3) as usize;
        procs[victim].child.kill().unwrap(); // SIGKILL
        procs[victim].child.wait().unwrap();
        procs[victim] = start(roles[victim]);
        if victim == 0 {
            *base.lock().unwrap() = procs[0].base.clone();
        } else {
            workers_killed += 1;
        }
        let accepted = ids.lock().unwrap().clone();
        let seen = counter.seen.lock().unwrap().clone();
        let duplicates: usize = seen.values().map(|n| n - 1).sum();
        eprintln!(
            "kill loop round {round}: killed the {} ({victim}); {} accepted, {} of {} deliveries arrived, {duplicates} duplicates so far",
            roles[victim],
            accepted.len(),
            delivered_of(&accepted),
            accepted.len() * ENDPOINTS,
        );
    }
    done.store(true, Ordering::SeqCst);
    for p in publishers {
        p.await.unwrap();
    }
    let accepted = ids.lock().unwrap().clone();
    let total = accepted.len() * ENDPOINTS;
    let deadline = Instant::now() + Duration::from_secs(180);
    while delivered_of(&accepted) < total {
        assert!(
            Instant::now() < deadline,
            "only {} of {total} deliveries arrived",
            delivered_of(&accepted)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = counter.seen.lock().unwrap().clone();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "kill loop: {} events accepted, {total} deliveries expected, {} delivered, {duplicates} duplicates, 0 lost; {workers_killed} worker kills",
        accepted.len(),
        delivered_of(&accepted)
    );
    assert!(
        duplicates <= workers_killed * WORKER_IN_FLIGHT,
        "only what the killed workers held may arrive twice: {duplicates} duplicates after {workers_killed} worker kills"
    );
    for mut p in procs {
        stop(&mut p, "-TERM");
    }
}

/// Records arrival times per path and the most requests in flight at once per path.
#[derive(Clone, Default)]
struct Meter {
    arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

impl Meter {
    /// Answers `/slow` after 200 ms, anything else at once.
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let me = me.clone();
            async move {
                let path = uri.path().to_owned();
                me.arrivals
                    .lock()
                    .unwrap()
                    .entry(path.clone())
                    .or_default()
                    .push(Instant::now());
                {
                    let mut flight = me.in_flight.lock().unwrap();
                    let (now, max) = flight.entry(path.clone()).or_default();
                    *now += 1;
                    *max = (*max).max(*now);
                }
                if path == "/slow" {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                me.in_flight.lock().unwrap().get_mut(&path).unwrap().0 -= 1;
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

/// `rate_limit` and `HOOKRELAY_MAX_IN_FLIGHT_PER_ENDPOINT` hold for the cluster, not per
/// process: three workers send a backlog of 600 to an endpoint limited to 20/s at 20/s
/// (±10 %), and never more than the cap at once to a slow endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_keep_an_endpoints_rate_and_concurrency_limits_together() {
    const BACKLOG: usize = 600;
    const RATE: f64 = 20.0;
    const CAP: usize = 4;
    let Some(url) = postgres_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("limits_{}_{started}", std::process::id());
    let cap = CAP.to_string();
    let envs = |role: &'static str| {
        vec![
            ("HOOKRELAY_ROLE", role.to_owned()),
            ("HOOKRELAY_DATABASE_URL", url.clone()),
            ("HOOKRELAY_DATABASE_SCHEMA", schema.clone()),
            ("HOOKRELAY_MASTER_KEY", KEY.to_owned()),
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN.to_owned()),
            ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8".to_owned()),
            ("HOOKRELAY_MAX_IN_FLIGHT_PER_ENDPOINT", cap.clone()),
            ("HOOKRELAY_POLL_INTERVAL_MS", "200".to_owned()),
            ("RUST_LOG", "warn,hookrelay=info".to_owned()),
        ]
    };
    let start = |role: &'static str| {
        let envs = envs(role);
        let pairs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spawn(dir.path(), &pairs)
    };
    let api_proc = start("api");
    let meter = Meter::default();
    let receiver = meter.start().await;
    let client = reqwest::Client::new();
    let api = |p: &str| format!("{}/api/v1{p}", api_proc.base);
    for (path, body) in [
        ("/event-types/paced", json!({"name": "Paced"})),
        ("/event-types/slow", json!({"name": "Slow"})),
        (
            "/scopes/shop/endpoints",
            json!([
                {"code": "paced", "url": format!("{receiver}/paced"), "rate_limit": RATE as u32},
                {"code": "slow", "url": format!("{receiver}/slow")},
            ]),
        ),
        (
            "/scopes/shop/subscriptions",
            json!({"paced": ["paced"], "slow": ["slow"]}),
        ),
    ] {
        let r = client
            .put(api(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }
    // The backlog is in the table before any worker runs.
    let (paced, slow) = (BACKLOG, 100);
    for i in 0..paced + slow {
        let kind = if i % 7 == 0 && i / 7 < slow {
            "slow"
        } else {
            "paced"
        };
        let r = client
            .post(api("/events"))
            .bearer_auth(TOKEN)
            .json(&json!({"type": kind, "scopes": ["shop"], "data": {"i": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let workers: Vec<_> = (0..3).map(|_| start("worker")).collect();
    let count = |path: &str| meter.arrivals.lock().unwrap().get(path).map_or(0, Vec::len);
    let deadline = Instant::now() + Duration::from_secs(120);
    while count("/paced") < paced || count("/slow") < slow {
        assert!(
            Instant::now() < deadline,
            "only {} paced and {} slow deliveries arrived",
            count("/paced"),
            count("/slow")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrivals = meter.arrivals.lock().unwrap().clone();
    let times = &arrivals["/paced"];
    let span = times.last().unwrap().duration_since(times[0]).as_secs_f64();
    let rate = (times.len() - 1) as f64 / span;
    let max_slow = meter.in_flight.lock().unwrap()["/slow"].1;
    eprintln!(
        "cluster limits: 3 workers sent {} deliveries to an endpoint limited to {RATE}/s at {rate:.2}/s over {span:.1} s; \
         at most {max_slow} at once to a slow endpoint capped at {CAP} ({slow} deliveries)",
        times.len()
    );
    assert!(
        (rate - RATE).abs() <= RATE * 0.1,
        "the rate limit of {RATE}/s held for the cluster: {rate:.2}/s"
    );
    assert!(
        max_slow <= CAP,
        "{max_slow} in flight at once, the cap is {CAP}"
    );
    assert_eq!(count("/paced"), paced, "no duplicates");
    drop(workers);
}
