//! `hookrelay listen`: a receiver for local development. Prints each webhook (time, type,
//! id, signature check, pretty JSON), optionally forwards it to the application being
//! developed, and answers with a fixed status (or the application's).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

use crate::cli::ListenArgs;
use crate::verify::StandardKeys;

struct Listener {
    /// What `--secret` named: HMAC secrets and ed25519 public keys (`v1a`).
    keys: Option<StandardKeys>,
    /// `--status`, when given.
    status: Option<StatusCode>,
    forward_to: Option<url::Url>,
    http: reqwest::Client,
}

/// The status answered when neither `--status` nor a forward decides.
const DEFAULT_STATUS: StatusCode = StatusCode::NO_CONTENT;

/// Headers that describe one connection, not the webhook, so they are not forwarded.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
];

/// Serves until Ctrl-C.
pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let keys = args
        .secret
        .as_ref()
        .map(|s| StandardKeys::parse(std::slice::from_ref(s)))
        .transpose()?;
    let status = args
        .status
        .map(StatusCode::from_u16)
        .transpose()
        .context("--status")?;
    let forward_to = args
        .forward_to
        .as_deref()
        .map(url::Url::parse)
        .transpose()
        .context("--forward-to")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        // The application's answer is reported as it is; a redirect is its answer.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot build the HTTP client")?;
    let state = Arc::new(Listener {
        keys,
        status,
        forward_to,
        http,
    });
    let app = Router::new().fallback(receive).with_state(state.clone());
    let addr = format!("127.0.0.1:{}", args.port);
    let socket = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    match &state.forward_to {
        Some(to) => eprintln!(
            "listening for webhooks on http://{addr}/, forwarding to {to} (Ctrl-C to stop)"
        ),
        None => eprintln!("listening for webhooks on http://{addr}/ (Ctrl-C to stop)"),
    }
    axum::serve(socket, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn signature_check(state: &Listener, headers: &HeaderMap, body: &[u8]) -> String {
    let Some(keys) = &state.keys else {
        return "not checked (no --secret)".to_owned();
    };
    let now = hookrelay_core::clock::now_ms() / 1000;
    match keys.check(
        header(headers, "webhook-id"),
        header(headers, "webhook-timestamp"),
        header(headers, "webhook-signature"),
        body,
        now,
        300,
    ) {
        Ok(()) => "valid".to_owned(),
        Err(failure) => format!("FAILED: {}", failure.detail),
    }
}

/// Sends the webhook on to `--forward-to` (the same method, headers and body; the URL
/// is used as given) and says how it went.
async fn forward(
    state: &Listener,
    to: &url::Url,
    method: Method,
    headers: &HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut req = state.http.request(method, to.clone()).body(body);
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            req = req.header(name, value);
        }
    }
    let started = Instant::now();
    match req.send().await {
        Ok(answer) => {
            let status = answer.status();
            let ms = started.elapsed().as_millis();
            (status, format!("forwarded to {to}: {status} ({ms} ms)"))
        }
        Err(e) => {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            (
                StatusCode::BAD_GATEWAY,
                format!("forward to {to} FAILED: {e}{cause}"),
            )
        }
    }
}

async fn receive(
    State(state): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let id = header(&headers, "webhook-id").unwrap_or("-");
    let check = signature_check(&state, &headers, &body);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let event_type = parsed
        .as_ref()
        .and_then(|v| v["type"].as_str())
        .unwrap_or("?");
    let pretty = parsed
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    println!(
        "{} {event_type} {id} signature: {check}\n{method} {uri}\n{pretty}",
        hookrelay_core::clock::to_rfc3339(hookrelay_core::clock::now_ms())
    );
    let answer = match &state.forward_to {
        Some(to) => {
            let (status, line) = forward(&state, to, method, &headers, body).await;
            println!("{line}");
            // The application's answer goes back to Hookrelay, so its retries behave as
            // they would in production, unless --status says otherwise.
            state.status.unwrap_or(status)
        }
        None => state.status.unwrap_or(DEFAULT_STATUS),
    };
    println!();
    answer
}
