//! The disk under the database fills up while Hookrelay runs, on a real filesystem of a
//! fixed size (a tmpfs): publishes get 507 `storage_full` and nothing of them is kept,
//! `/health` says so, accepted deliveries are not lost, and once space is freed the same
//! process accepts again without a restart.
//!
//! Mounting needs root: without it the tests say so and pass, except under CI (`CI`
//! set), where they fail. The PostgreSQL one also needs `initdb` (see `pg_faults.rs`).

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

mod common;
use common::cluster::Cluster;
use common::receiver::{Receiver, TOKEN, serve_on};
use common::small_disk::SmallDisk;
use common::{Proc, wait_for};

/// Text that does not compress (PostgreSQL compresses large values), from a xorshift.
fn incompressible(len: usize, seed: &mut u64) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        out.push_str(&format!("{:016x}", *seed));
    }
    out.truncate(len);
    out
}

/// One publish of 16 KiB of data: its status and body.
async fn publish_large(
    client: &reqwest::Client,
    base: &str,
    seed: &mut u64,
) -> (u16, serde_json::Value) {
    let r = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "type": "order.paid",
            "scopes": ["shop"],
            "data": {"blob": incompressible(16 * 1024, seed)}
        }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn health(client: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let r = client.get(format!("{base}/health")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// What one fill-and-free run saw.
struct Run {
    /// Accepted before the first 507.
    full_at: usize,
    /// Every accepted event's id.
    accepted: Vec<String>,
}

/// Publishes 16 KiB events until one is refused with 507 `storage_full` and checks what
/// `/health` says; then grows `disk` to 256 MiB and publishes until accepted again, and
/// waits until every accepted event is delivered.
async fn fill_then_free(server: &Proc, receiver: &Receiver, disk: &SmallDisk) -> Run {
    let client = reqwest::Client::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut accepted = Vec::new();

    // Fill it, until publishes are refused five times in a row (near the limit a smaller
    // transaction, or one after a checkpoint freed WAL space, may still fit).
    let mut full_at = None;
    let mut refused_in_a_row = 0;
    while refused_in_a_row < 5 {
        let (status, body) = publish_large(&client, &server.base, &mut seed).await;
        match status {
            202 => {
                accepted.push(body["id"].as_str().unwrap().to_owned());
                refused_in_a_row = 0;
            }
            507 => {
                assert_eq!(body["error"]["code"], "storage_full", "{body}");
                full_at.get_or_insert(accepted.len());
                refused_in_a_row += 1;
            }
            other => panic!("publish answered {other}: {body}"),
        }
        assert!(
            accepted.len() < 2_000,
            "16 MiB cannot hold 2,000 events of 16 KiB: publishes answered 202 are not stored"
        );
    }
    let full_at = full_at.expect("refused");
    let (status, body) = health(&client, &server.base).await;
    assert_eq!(status, 200, "reads and deliveries go on: {body}");
    assert_eq!(body["status"], "storage_full", "{body}");
    assert!(body["storage"]["since"].is_string(), "{body}");

    // Space is freed: the same process accepts again and /health clears.
    disk.grow(256);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = publish_large(&client, &server.base, &mut seed).await;
        match status {
            202 => {
                accepted.push(body["id"].as_str().unwrap().to_owned());
                break;
            }
            507 => assert!(
                Instant::now() < deadline,
                "no recovery after space was freed"
            ),
            other => panic!("publish answered {other}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..20 {
        let (status, body) = publish_large(&client, &server.base, &mut seed).await;
        assert_eq!(status, 202, "{body}");
        accepted.push(body["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = health(&client, &server.base).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");

    // Every accepted event arrives.
    wait_for(
        "every accepted event is delivered",
        Duration::from_secs(120),
        || receiver.count(&accepted) == accepted.len(),
    )
    .await;
    Run { full_at, accepted }
}

/// Prints the run's counts and checks that exactly the accepted events were stored.
fn report(backend: &str, run: &Run, receiver: &Receiver, stored: i64) {
    eprintln!(
        "{backend} disk full: {} accepted before the first 507, {} accepted in all, {} \
         delivered, {} duplicates, {} lost, {stored} events stored",
        run.full_at,
        run.accepted.len(),
        receiver.count(&run.accepted),
        receiver.duplicates(),
        run.accepted.len() - receiver.count(&run.accepted)
    );
    assert_eq!(
        stored,
        run.accepted.len() as i64,
        "a refused publish leaves nothing behind"
    );
}

/// PostgreSQL: the tables live in a tablespace on a 16 MiB tmpfs; the WAL stays on the
/// data folder's disk, so the server itself keeps running and answers `53100 disk_full`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_disk_answers_507_loses_nothing_and_recovers_when_space_is_freed() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let Some(disk) = SmallDisk::mount(16) else {
        return;
    };
    cluster.tablespace_on(&disk);
    let dir = tempfile::tempdir().unwrap();
    let (server, receiver) = serve_on(&cluster.url(), dir.path()).await;
    let run = fill_then_free(&server, &receiver, &disk).await;
    let db = sqlx::PgPool::connect(&cluster.url()).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&db)
        .await
        .unwrap();
    report("postgres", &run, &receiver, stored);
}

/// SQLite: the database file and its WAL on a 16 MiB tmpfs (`SQLITE_FULL`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_out_of_disk_answers_507_loses_nothing_and_recovers_when_space_is_freed() {
    let Some(disk) = SmallDisk::mount(16) else {
        return;
    };
    let file = disk.path().join("hookrelay.db");
    let url = format!("sqlite://{}", file.display());
    let dir = tempfile::tempdir().unwrap();
    let (server, receiver) = serve_on(&url, dir.path()).await;
    let run = fill_then_free(&server, &receiver, &disk).await;
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut db)
        .await
        .unwrap();
    report("sqlite", &run, &receiver, stored);
}
