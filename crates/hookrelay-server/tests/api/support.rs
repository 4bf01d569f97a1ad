//! A real server on port 0 with a fresh database, and a real receiver.
//!
//! The database is a temporary SQLite file, or — with `HOOKRELAY_TEST_BACKEND=postgres` —
//! a fresh schema in the PostgreSQL database at `HOOKRELAY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), so the same suite runs on both backends.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hookrelay_server::tls::TlsListener;
use hookrelay_server::{Config, Server};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const ADMIN: &str = "test-admin-token";

/// The master key of the PostgreSQL test schemas (SQLite tests use their key file).
const PG_TEST_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Whether this run tests the PostgreSQL backend.
pub fn on_postgres() -> bool {
    std::env::var("HOOKRELAY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL database the tests use.
pub fn postgres_url() -> String {
    std::env::var("HOOKRELAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Points `config` at a fresh database: a file in `dir`, or a new PostgreSQL schema.
fn fresh_database(config: &mut Config, dir: &std::path::Path) {
    if on_postgres() {
        config.database_url = postgres_url();
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        config.database_schema = Some(format!("t{started}_{}_{n}", std::process::id()));
        config.master_key = Some(PG_TEST_MASTER_KEY.to_owned());
        // Claims are polled as a fallback; short, so retries of 100 ms stay short.
        config.poll_interval_ms = 50;
    } else {
        config.database_url = format!("sqlite://{}", dir.join("test.db").display());
    }
}

/// A stopped server's settings and files.
pub struct Stopped {
    pub config: Config,
    pub dir: tempfile::TempDir,
}

impl Stopped {
    /// Starts a server on the same files.
    pub async fn start(mut self) -> TestApp {
        self.config.listen = "127.0.0.1:0".to_owned();
        TestApp::start(self.config, self.dir).await
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    config: Config,
    dir: tempfile::TempDir,
}

impl TestApp {
    /// A server with a short retry schedule (`100ms,100ms`: three attempts at most).
    pub async fn spawn() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".to_owned(),
            admin_token: Some(ADMIN.to_owned()),
            retry_schedule: Some("100ms,100ms".to_owned()),
            // The receivers of these tests listen on 127.0.0.1.
            allow_networks: Some("127.0.0.0/8".to_owned()),
            attempt_timeout_ms: 2_000,
            ..Config::default()
        };
        fresh_database(&mut config, dir.path());
        tweak(&mut config);
        Self::start(config, dir).await
    }

    async fn start(config: Config, dir: tempfile::TempDir) -> Self {
        let server = Server::build(config.clone()).await.expect("server builds");
        let base = format!(
            "{}://{}",
            server.scheme(),
            server.local_addr().expect("bound")
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            config,
            dir,
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        self.restart_with(|_| {}).await
    }

    /// Stops the server gracefully, keeping its files for [`Stopped::start`].
    pub async fn stop_keeping_files(mut self) -> Stopped {
        self.shut_down().await;
        Stopped {
            config: self.config.clone(),
            dir: self.dir,
        }
    }

    /// Like [`TestApp::restart`], with changed settings.
    pub async fn restart_with(mut self, tweak: impl FnOnce(&mut Config)) -> Self {
        self.shut_down().await;
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".to_owned();
        tweak(&mut config);
        Self::start(config, self.dir).await
    }

    /// The folder holding the database (and its key file).
    /// Integers from a query on this server's PostgreSQL schema (`{s}` stands for it).
    pub async fn pg_ints(&self, sql: &str) -> Vec<Option<i64>> {
        let schema = self
            .config
            .database_schema
            .as_deref()
            .expect("on PostgreSQL");
        let sql = sql.replace("{s}", &format!("\"{schema}\""));
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url())
            .await
            .expect("connect to PostgreSQL");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .expect("query")
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts a server on this app's database with changed settings, without stopping
    /// this one first; returns the build error (the server is expected not to start).
    pub async fn build_error_with(&self, tweak: impl FnOnce(&mut Config)) -> String {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".to_owned();
        tweak(&mut config);
        match Server::build(config).await {
            Ok(_) => panic!("the server started"),
            Err(e) => format!("{e:#}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_as(ADMIN, method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// Registers event types by code.
    pub async fn event_types(&self, codes: &[&str]) {
        for code in codes {
            let (s, body) = self
                .put(&format!("/event-types/{code}"), json!({ "name": code }))
                .await;
            assert!(s == 201 || s == 200, "{s} {body}");
        }
    }

    /// Creates an endpoint and subscribes it to `events`.
    pub async fn endpoint(&self, scope: &str, code: &str, url: &str, events: &[&str]) -> Value {
        let (s, endpoint) = self
            .post(
                &format!("/scopes/{scope}/endpoints"),
                json!({ "code": code, "url": url }),
            )
            .await;
        assert_eq!(s, 201, "{endpoint}");
        let (_, mut subs) = self.get(&format!("/scopes/{scope}/subscriptions")).await;
        subs[code] = json!(events);
        let (s, body) = self
            .put(&format!("/scopes/{scope}/subscriptions"), subs)
            .await;
        assert_eq!(s, 200, "{body}");
        endpoint
    }

    pub async fn publish(&self, event_type: &str, scopes: &[&str], data: Value) -> Value {
        let (s, body) = self
            .post(
                "/events",
                json!({ "type": event_type, "scopes": scopes, "data": data }),
            )
            .await;
        assert_eq!(s, 202, "{body}");
        body
    }

    /// The deliveries of an event.
    pub async fn deliveries_of(&self, event_id: &str) -> Vec<Value> {
        let (s, body) = self.get(&format!("/deliveries?event={event_id}")).await;
        assert_eq!(s, 200, "{body}");
        body["data"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until a delivery has the given status; returns it with its attempts.
    pub async fn wait_for_status(&self, delivery_id: &str, status: &str) -> Value {
        let path = format!("/deliveries/{delivery_id}");
        wait_until(Duration::from_secs(15), || async {
            let (_, d) = self.get(&path).await;
            (d["status"] == status).then_some(d)
        })
        .await
        .unwrap_or_else(|| panic!("delivery {delivery_id} never became {status}"))
    }
}

/// Polls `check` until it yields a value or `limit` passes.
pub async fn wait_until<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// The last value of each header.
    pub headers: BTreeMap<String, String>,
    /// Every header line in order, repeated names included.
    pub header_lines: Vec<(String, String)>,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// How the receiver answers: a queue of scripted answers, then `fallback`.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

struct ReceiverState {
    got: Mutex<Vec<Received>>,
    script: Mutex<std::collections::VecDeque<Answer>>,
    fallback: Mutex<Answer>,
    arrived: Notify,
    /// While true, requests are recorded but not answered.
    held: tokio::sync::watch::Sender<bool>,
}

/// A real HTTP receiver that records every request.
#[derive(Clone)]
pub struct TestReceiver {
    pub addr: std::net::SocketAddr,
    scheme: &'static str,
    state: Arc<ReceiverState>,
}

impl TestReceiver {
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    /// A receiver serving HTTPS with the PEM certificate chain and key in these files.
    pub async fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Self {
        let tls = hookrelay_server::tls::server_config(cert, key).expect("receiver TLS config");
        Self::serve(Some(tls)).await
    }

    async fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let state = Arc::new(ReceiverState {
            got: Mutex::new(Vec::new()),
            script: Mutex::new(Default::default()),
            fallback: Mutex::new(Answer::status(200)),
            arrived: Notify::new(),
            held: tokio::sync::watch::Sender::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().fallback(receive).with_state(state.clone());
        let scheme = match tls {
            Some(tls) => {
                let listener = TlsListener::new(listener, tls).expect("TLS listener");
                tokio::spawn(async move { axum::serve(listener, app).await });
                "https"
            }
            None => {
                tokio::spawn(async move { axum::serve(listener, app).await });
                "http"
            }
        };
        Self {
            addr,
            scheme,
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Answers the next requests with `answers`, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Answers every later request (after the script) with `answer`.
    pub fn always(&self, answer: Answer) {
        *self.state.fallback.lock().unwrap() = answer;
    }

    /// Holds every answer (the requests are still recorded) until [`Self::release`].
    pub fn hold(&self) {
        self.state.held.send_replace(true);
    }

    /// Answers the held requests, and every later one at once.
    pub fn release(&self) {
        self.state.held.send_replace(false);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let notified = self.state.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "expected {n} requests, the receiver got {}",
                    self.received().len()
                );
            }
        }
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header_lines: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    state.got.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers: header_lines.iter().cloned().collect(),
        header_lines,
        body,
        at: Instant::now(),
    });
    state.arrived.notify_waiters();
    let _ = state.held.subscribe().wait_for(|held| !held).await;
    let answer = {
        let next = state.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| state.fallback.lock().unwrap().clone())
    };
    let body = answer.body.unwrap_or_else(|| "receiver says hi".to_owned());
    let mut response = (StatusCode::from_u16(answer.status).unwrap(), body).into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
