//! What the process tests share: the real binary started as a user starts it.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod cluster;
pub mod receiver;
pub mod small_disk;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `hookrelay serve`.
pub struct Proc {
    pub child: Child,
    pub base: String,
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// Every log line so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A test that failed half-way must not leave a server running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[expect(
    clippy::zombie_processes,
    reason = "Proc's Drop kills and waits for the child"
)]
pub fn spawn(dir: &Path, envs: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    cmd.arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("HOOKRELAY_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let stdout_lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = stdout_lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    let stderr_lines = Arc::new(Mutex::new(Vec::new()));
    let log = stderr_lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
            let logged = stderr_lines.lock().unwrap().join("\n");
            panic!("the server did not log its address; it logged:\n{logged}");
        };
        if let Some(at) = line.find("listening on http://") {
            let addr: String = line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            // Keep draining stderr so the child never blocks on a full pipe.
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return Proc {
                child,
                base: addr,
                stdout: stdout_lines,
                stderr: stderr_lines,
            };
        }
    }
}

/// Sends `signal` (`-TERM`, `-INT`) and expects a clean exit.
pub fn stop(p: &mut Proc, signal: &str) {
    let status = Command::new("kill")
        .arg(signal)
        .arg(p.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
            return;
        }
        assert!(Instant::now() < deadline, "did not stop on {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The PostgreSQL URL, or `None` (after saying why) when there is none outside CI.
pub async fn postgres_url() -> Option<String> {
    let url = std::env::var("HOOKRELAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let parsed = url::Url::parse(&url).expect("HOOKRELAY_TEST_POSTGRES_URL is a URL");
    let addr = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    );
    let answered = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    .is_ok_and(|c| c.is_ok());
    if answered {
        return Some(url);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "PostgreSQL does not answer at {addr}: CI must start it (see .ci/run)"
    );
    eprintln!("SKIPPED: PostgreSQL does not answer at {addr}; start it to run this test");
    None
}

/// Waits until `check` holds, or fails with `what` after `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
