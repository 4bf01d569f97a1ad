//! The command-line client against a real `hookrelay serve` and real receivers: every
//! command as a user (or a script) runs it, exit codes included.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hookrelay_signature::{Secret, sign};
use serde_json::Value;

mod common;
use common::{Proc, spawn};

const TOKEN: &str = "cli-test-admin";

/// A server on a fresh SQLite database that may deliver to loopback and retries once,
/// quickly.
fn server(dir: &Path) -> Proc {
    spawn(
        dir,
        &[
            ("HOOKRELAY_ADMIN_TOKEN", TOKEN),
            ("HOOKRELAY_ALLOW_NETWORKS", "127.0.0.0/8"),
            ("HOOKRELAY_RETRY_SCHEDULE", "100ms"),
        ],
    )
}

/// The binary with a clean environment: no config of the user running the tests, the
/// given config folder, and the server and token of `server` when given.
fn hookrelay(config_home: &Path, server: Option<&Proc>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    cmd.env_clear()
        .env("XDG_CONFIG_HOME", config_home)
        .timeout(Duration::from_secs(60));
    if let Some(p) = server {
        cmd.env("HOOKRELAY_URL", &p.base)
            .env("HOOKRELAY_TOKEN", TOKEN);
    }
    cmd
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().clone();
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and returns (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Polls `check` until it gives a value, failing the test at the deadline.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// What a test receiver got.
type Hits = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// An HTTP receiver answering `status` to everything, on its own thread.
fn receiver(status: u16) -> (String, Hits) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let hits: Hits = Arc::default();
    let sink = hits.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push((headers, body));
                    StatusCode::from_u16(status).unwrap()
                }
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    (url, hits)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn event_types_sync_reports_created_updated_archived_and_a_dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let first = write(
        dir.path(),
        "v1.yaml",
        "version: 1\nevents:\n  - code: order.paid\n    name: Order paid\n  - code: order.refunded\n    name: Order refunded\n",
    );
    let out = stdout(hookrelay(dir.path(), Some(&p)).args(["event-types", "sync", &first]));
    assert!(out.contains("created   order.paid"), "{out}");
    assert!(out.contains("created   order.refunded"), "{out}");

    let second = write(
        dir.path(),
        "v2.yaml",
        "version: 1\nevents:\n  - code: order.paid\n    name: Order paid (renamed)\n    schema:\n      type: object\n  - code: order.shipped\n    name: Order shipped\n",
    );
    let out =
        stdout(hookrelay(dir.path(), Some(&p)).args(["event-types", "sync", &second, "--dry-run"]));
    for line in [
        "created   order.shipped",
        "updated   order.paid",
        "archived  order.refunded",
        "dry run: nothing was changed",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let list = |archived: bool| {
        let mut cmd = hookrelay(dir.path(), Some(&p));
        cmd.args(["event-types", "list", "--json"]);
        if archived {
            cmd.arg("--archived");
        }
        json(&stdout(&mut cmd))
    };
    let codes = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["archived"] == false)
            .map(|t| t["code"].as_str().unwrap().to_owned())
            .filter(|c| !c.starts_with("endpoint.") && !c.starts_with("delivery."))
            .collect();
        c.sort();
        c
    };
    assert_eq!(
        codes(&list(false)),
        ["order.paid", "order.refunded"],
        "the dry run changed nothing"
    );

    let out = stdout(hookrelay(dir.path(), Some(&p)).args(["event-types", "sync", &second]));
    assert!(out.contains("archived  order.refunded"), "{out}");
    assert!(!out.contains("dry run"), "{out}");
    assert_eq!(codes(&list(false)), ["order.paid", "order.shipped"]);

    // The same file again changes nothing; a broken file is a usage error naming the file.
    let out = stdout(hookrelay(dir.path(), Some(&p)).args(["event-types", "sync", &second]));
    assert!(out.contains("no changes"), "{out}");
    let broken = write(
        dir.path(),
        "broken.yaml",
        "version: 1\nevents:\n  - nmae: x\n",
    );
    let (code, _, err) =
        run(hookrelay(dir.path(), Some(&p)).args(["event-types", "sync", &broken]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.yaml"), "{err}");
}

/// The registry, two endpoints (one healthy, one answering 500) and their subscriptions.
fn set_up_shop(dir: &Path, p: &Proc, good: &str, bad: &str, secret: &Secret) {
    let registry = write(
        dir,
        "events.yaml",
        "version: 1\nevents:\n  - code: order.paid\n    name: Order paid\n  - code: alert.raised\n    name: Alert raised\n",
    );
    stdout(hookrelay(dir, Some(p)).args(["event-types", "sync", &registry]));
    let endpoints = write(
        dir,
        "endpoints.yaml",
        &format!(
            "- code: shop\n  url: {good}\n  secret: {}\n- code: broken\n  url: {bad}\n",
            secret.to_text()
        ),
    );
    let out = stdout(hookrelay(dir, Some(p)).args(["endpoints", "apply", "biz:biz1", &endpoints]));
    assert!(out.contains("created   shop"), "{out}");
    assert!(out.contains("created   broken"), "{out}");
    let subscriptions = write(
        dir,
        "subscriptions.yaml",
        "shop: [\"order.*\"]\nbroken:\n  events: [alert.raised]\n",
    );
    let out = stdout(hookrelay(dir, Some(p)).args([
        "subscriptions",
        "apply",
        "biz:biz1",
        &subscriptions,
    ]));
    assert!(out.contains("created   shop"), "{out}");
    assert!(out.contains("created   broken"), "{out}");
}

#[test]
fn endpoints_subscriptions_send_wait_deliveries_retry_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let (good, hits) = receiver(200);
    let (bad, _) = receiver(500);
    let secret = Secret::generate();
    set_up_shop(dir.path(), &p, &good, &bad, &secret);

    let table = stdout(hookrelay(dir.path(), Some(&p)).args(["endpoints", "list", "biz:biz1"]));
    assert!(table.starts_with("CODE"), "{table}");
    assert!(table.contains("shop") && table.contains(&good), "{table}");
    assert!(
        table.contains("broken") && table.contains("alert.raised"),
        "{table}"
    );
    let shown =
        stdout(hookrelay(dir.path(), Some(&p)).args(["endpoints", "secret", "biz:biz1", "shop"]));
    assert_eq!(shown.trim(), secret.to_text());

    // A delivery that succeeds: exit 0, the outcome printed, the receiver has it, signed.
    let out = stdout(hookrelay(dir.path(), Some(&p)).args([
        "send",
        "order.paid",
        "--scope",
        "biz:biz1",
        "--data",
        r#"{"amount":42}"#,
        "--wait",
        "--timeout",
        "20s",
    ]));
    let event_id = out.lines().next().unwrap().to_owned();
    assert!(event_id.starts_with("evt_"), "{out}");
    assert!(out.contains("biz:biz1/shop  succeeded"), "{out}");
    assert!(out.contains("HTTP 200"), "{out}");
    {
        let hits = hits.lock().unwrap();
        assert_eq!(hits.len(), 1);
        let (headers, body) = &hits[0];
        let h = |n: &str| headers[n].to_str().unwrap().to_owned();
        assert_eq!(h("webhook-id"), event_id);
        let delivered = json(std::str::from_utf8(body).unwrap());
        assert_eq!(delivered["data"]["amount"], 42);
        let ts: i64 = h("webhook-timestamp").parse().unwrap();
        assert_eq!(h("webhook-signature"), sign(&secret, &event_id, ts, body));
    }

    // A delivery to an endpoint answering 500: retried once (100ms), then failed; exit 1.
    let (code, out, err) = run(hookrelay(dir.path(), Some(&p)).args([
        "send",
        "alert.raised",
        "--scope",
        "biz:biz1",
        "--data",
        "{}",
        "--wait",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("biz:biz1/broken  failed  2 attempts, last: HTTP 500"),
        "{out}"
    );

    let failed = json(&stdout(hookrelay(dir.path(), Some(&p)).args([
        "deliveries",
        "--status",
        "failed",
        "--json",
    ])));
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["endpoint"], "broken");
    let delivery = failed[0]["id"].as_str().unwrap().to_owned();
    let attempts_of = |id: &str| {
        let list = json(&stdout(hookrelay(dir.path(), Some(&p)).args([
            "deliveries",
            "--endpoint",
            "broken",
            "--json",
        ])));
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .map(|d| {
                (
                    d["status"].as_str().unwrap().to_owned(),
                    d["attempt_count"].as_u64().unwrap(),
                )
            })
            .unwrap()
    };

    // recover re-queues it; --wait follows it until it fails again (exit 1).
    let (code, out, err) = run(hookrelay(dir.path(), Some(&p)).args([
        "recover",
        "biz:biz1",
        "broken",
        "--since",
        "1h",
        "--wait",
        "--timeout",
        "20s",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("1 failed delivery of biz:biz1/broken re-queued"),
        "{out}"
    );
    assert!(out.contains("0 succeeded, 1 failed again"), "{out}");
    let (_, before) = attempts_of(&delivery);
    assert!(before >= 3, "{before}");

    // retry sends it once more, now.
    let out = stdout(hookrelay(dir.path(), Some(&p)).args(["retry", &delivery]));
    assert!(out.contains(&delivery) && out.contains("queued"), "{out}");
    eventually("the retried attempt", || {
        let (status, n) = attempts_of(&delivery);
        (status == "failed" && n > before).then_some(())
    });

    // The logs as tables and as JSON.
    let events = json(&stdout(hookrelay(dir.path(), Some(&p)).args([
        "events",
        "--scope",
        "biz:biz1",
        "--type",
        "order.paid",
        "--json",
    ])));
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["id"], event_id.as_str());
    let table = stdout(hookrelay(dir.path(), Some(&p)).args(["deliveries", "--scope", "biz:biz1"]));
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("succeeded") && table.contains("failed"),
        "{table}"
    );
    assert!(!table.contains('\x1b'), "no colour off a terminal: {table}");
}

#[test]
fn send_reads_data_from_a_file_and_an_idempotency_key_publishes_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let (good, hits) = receiver(204);
    let (bad, _) = receiver(500);
    set_up_shop(dir.path(), &p, &good, &bad, &Secret::generate());
    let data = write(
        dir.path(),
        "data.json",
        r#"{"amount": 7, "currency": "EUR"}"#,
    );
    let send = || {
        run(hookrelay(dir.path(), Some(&p)).args([
            "send",
            "order.paid",
            "--scope",
            "biz:biz1",
            "--data",
            &format!("@{data}"),
            "--idempotency-key",
            "order-7",
            "--wait",
        ]))
    };
    let (code, first, err) = send();
    assert_eq!(code, 0, "{first}{err}");
    assert!(err.contains("1 delivery queued"), "{err}");
    let (code, again, err) = send();
    assert_eq!(code, 0, "{again}{err}");
    assert!(err.contains("duplicate"), "{err}");
    assert_eq!(first.lines().next(), again.lines().next(), "the same event");
    assert_eq!(hits.lock().unwrap().len(), 1, "delivered once");
    let body = json(std::str::from_utf8(&hits.lock().unwrap()[0].1).unwrap());
    assert_eq!(body["data"]["currency"], "EUR");

    // --since takes a duration as well as a time.
    let recent = json(&stdout(
        hookrelay(dir.path(), Some(&p)).args(["events", "--since", "1h", "--json"]),
    ));
    assert_eq!(recent.as_array().unwrap().len(), 1);

    // Data that is not JSON is refused before anything is sent.
    let (code, _, err) = run(hookrelay(dir.path(), Some(&p)).args([
        "send",
        "order.paid",
        "--scope",
        "biz:biz1",
        "--data",
        "{amount",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--data is not valid JSON"), "{err}");
}

#[test]
fn tokens_create_mints_a_token_limited_to_its_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let token = stdout(hookrelay(dir.path(), Some(&p)).args([
        "tokens",
        "create",
        "--scope",
        "tenant-42",
        "--name",
        "ci",
    ]));
    let token = token.trim();
    assert!(token.starts_with("hr_"), "{token}");
    let mine = |scope: &str| {
        run(hookrelay(dir.path(), Some(&p)).args(["events", "--scope", scope, "--token", token]))
    };
    assert_eq!(mine("tenant-42").0, 0);
    let (code, _, err) = mine("tenant-43");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("403"), "{err}");
}

/// A long-running `hookrelay` process (`listen`, `tail`) and its stdout lines.
struct Running {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str], envs: &[(&str, &str)]) -> Running {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    cmd.env_clear()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Running { child, lines }
}

fn listen(args: &[&str]) -> (Running, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut all = vec!["listen", "--port", &port];
    all.extend_from_slice(args);
    let running = start(&all, &[]);
    let addr = format!("127.0.0.1:{port}");
    eventually("listen to accept connections", || {
        std::net::TcpStream::connect(&addr).ok()
    });
    (running, format!("http://{addr}/hooks"))
}

impl Running {
    /// Lines until one contains `needle` (all of them, that one included).
    fn until(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no line with {needle:?} in {seen:#?}"));
            let done = line.contains(needle);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

#[test]
fn listen_verifies_a_real_delivery_and_forwards_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let (app, hits) = receiver(200);
    let (bad, _) = receiver(500);
    let secret = Secret::generate();
    let (listener, url) = listen(&["--secret", &secret.to_text(), "--forward-to", &app]);
    set_up_shop(dir.path(), &p, &url, &bad, &secret);

    let out = stdout(hookrelay(dir.path(), Some(&p)).args([
        "send",
        "order.paid",
        "--scope",
        "biz:biz1",
        "--data",
        r#"{"order":7}"#,
        "--wait",
    ]));
    let event_id = out.lines().next().unwrap().to_owned();
    let lines = listener.until("signature:");
    let head = lines.last().unwrap();
    assert!(
        head.contains(&format!("order.paid {event_id} signature: valid")),
        "{head}"
    );
    // Time first (RFC 3339), then the pretty JSON body, then the forward's answer.
    assert!(head.starts_with("20") && head.contains('T'), "{head}");
    let rest = listener.until("forwarded to");
    assert!(rest.iter().any(|l| l.contains("\"order\": 7")), "{rest:#?}");
    assert!(rest.last().unwrap().contains("200 OK"), "{rest:#?}");
    let forwarded = hits.lock().unwrap();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].0["webhook-id"], event_id.as_str());
    assert!(out.contains("succeeded"), "{out}");
}

#[test]
fn tail_prints_new_deliveries_and_their_changes_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    let (good, _) = receiver(200);
    let (bad, _) = receiver(500);
    set_up_shop(dir.path(), &p, &good, &bad, &Secret::generate());
    let config = dir.path().display().to_string();
    let mut tail = start(
        &[
            "tail",
            "--scope",
            "biz:biz1",
            "--interval",
            "100ms",
            "--json",
        ],
        &[
            ("HOOKRELAY_URL", &p.base),
            ("HOOKRELAY_TOKEN", TOKEN),
            ("XDG_CONFIG_HOME", &config),
        ],
    );
    let out = stdout(hookrelay(dir.path(), Some(&p)).args([
        "send",
        "alert.raised",
        "--scope",
        "biz:biz1",
    ]));
    let event_id = out.trim().to_owned();
    // The delivery is seen pending or failed first; it ends failed after its retry.
    let lines = tail.until("\"status\":\"failed\"");
    let last = json(lines.last().unwrap());
    assert_eq!(last["event_id"], event_id.as_str());
    assert_eq!(last["endpoint"], "broken");

    let status = std::process::Command::new("kill")
        .args(["-INT", &tail.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = eventually("tail to stop on SIGINT", || tail.child.try_wait().unwrap());
    assert_eq!(code.code(), Some(0));
}

#[test]
fn verify_accepts_a_good_webhook_and_explains_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let secret = Secret::generate();
    let body = r#"{"id":"evt_1","type":"order.paid","data":{}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let check = |ts: i64, sent: &str, headers: &[&str]| {
        let sig = sign(&secret, "evt_1", ts, body.as_bytes());
        let mut cmd = hookrelay(dir.path(), None);
        cmd.args(["verify", "--secret", &secret.to_text()]);
        let all = [
            "webhook-id: evt_1".to_owned(),
            format!("webhook-timestamp: {ts}"),
            format!("webhook-signature: {sig}"),
        ];
        for h in all
            .iter()
            .filter(|h| headers.iter().any(|n| h.starts_with(n)))
        {
            cmd.args(["-H", h]);
        }
        run(cmd.write_stdin(sent.to_owned()))
    };
    let every = ["webhook-id", "webhook-timestamp", "webhook-signature"];

    let (code, out, _) = check(now, body, &every);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("valid"), "{out}");

    let (code, out, _) = check(now, &body.replace("order.paid", "order.free"), &every);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: no signature matched"), "{out}");

    let (code, out, _) = check(now - 3600, body, &every);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: stale timestamp"), "{out}");
    assert!(out.contains("1h") && out.contains("in the past"), "{out}");

    let (code, out, _) = check(now, body, &["webhook-id", "webhook-timestamp"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("missing header: the webhook-signature header is missing"),
        "{out}"
    );

    // The usual mistake, a newline added by echo, is named.
    let (code, out, _) = check(now, &format!("{body}\n"), &every);
    assert_eq!(code, 1);
    assert!(out.contains("final newline"), "{out}");

    // A provider scheme.
    let github = hookrelay_signature::providers::github::sign(b"gh-secret", body.as_bytes());
    let (code, out, _) = run(hookrelay(dir.path(), None)
        .args([
            "verify",
            "--scheme",
            "github",
            "--secret",
            "gh-secret",
            "-H",
        ])
        .arg(format!("X-Hub-Signature-256: {github}"))
        .write_stdin(body));
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(hookrelay(dir.path(), None)
        .args(["verify", "--scheme", "github", "--secret", "gh-secret"])
        .args(["-H", "X-Hub-Signature-256: sha256=nothex"])
        .write_stdin(body));
    assert_eq!(code, 1);
    assert!(out.contains("malformed signature"), "{out}");
}

#[test]
fn a_missing_token_is_exit_2_with_the_way_to_set_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(hookrelay(dir.path(), None).args(["deliveries"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("no API token: pass --token, set HOOKRELAY_TOKEN, or run hookrelay login"),
        "{err}"
    );
    // A bad flag value is refused before anything is sent, with the same code.
    let (code, _, err) = run(hookrelay(dir.path(), None).args(["deliveries", "--status", "lost"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pending"), "{err}");
}

#[test]
fn login_saves_a_0600_config_that_flags_and_environment_override() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let config_home = dir.path().join("xdg");
    let p = server(dir.path());
    let out = stdout(
        hookrelay(&config_home, None).args(["login", "--server", &p.base, "--token", TOKEN]),
    );
    assert!(out.contains("logged in"), "{out}");
    let file = config_home.join("hookrelay").join("config.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(TOKEN) && text.contains(&p.base), "{text}");

    // The file alone is enough.
    stdout(hookrelay(&config_home, None).args(["events"]));
    // The environment beats the file, and a flag beats the environment.
    let (code, _, err) = run(hookrelay(&config_home, None)
        .env("HOOKRELAY_TOKEN", "hr_wrong")
        .args(["events"]));
    assert_eq!(code, 2, "a refused token is a configuration error: {err}");
    assert!(err.contains("401"), "{err}");
    stdout(
        hookrelay(&config_home, None)
            .env("HOOKRELAY_TOKEN", "hr_wrong")
            .args(["events", "--token", TOKEN]),
    );

    // A wrong token is refused at login, and nothing is saved over the good one.
    let (code, _, _) = run(hookrelay(&config_home, None).args(["login", "--token", "hr_wrong"]));
    assert_eq!(code, 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn completions_print_a_script() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(hookrelay(dir.path(), None).args(["completions", "bash"]));
    assert!(
        out.contains("_hookrelay") && out.contains("complete"),
        "{out}"
    );
    assert!(out.contains("event-types"), "{out}");
}

#[test]
fn openapi_prints_the_servers_document() {
    let dir = tempfile::tempdir().unwrap();
    let p = server(dir.path());
    // No token needed.
    let (code, out, err) = run(hookrelay(dir.path(), None).args(["openapi", "--server", &p.base]));
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{out}"
    );
    assert!(doc["paths"]["/api/v1/events"].is_object(), "{out}");
}

#[test]
fn an_unreachable_server_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = run(hookrelay(dir.path(), None).args([
        "events",
        "--server",
        &format!("http://127.0.0.1:{port}"),
        "--token",
        TOKEN,
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot reach the server at http://127.0.0.1:"),
        "{err}"
    );
}
