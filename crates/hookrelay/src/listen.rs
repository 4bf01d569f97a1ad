//! `hookrelay listen`: a receiver for local development. Prints each webhook (time, id,
//! type, signature check, pretty JSON) and answers with a fixed status.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hookrelay_signature::{Keys, PublicKey, Secret, verify_with};

use crate::cli::ListenArgs;

struct Listener {
    /// What `--secret` named: an HMAC secret or an ed25519 public key (`v1a`).
    secret: Option<(Vec<Secret>, Vec<PublicKey>)>,
    status: StatusCode,
}

/// Serves until Ctrl-C.
pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let secret = match args.secret.as_deref() {
        None => None,
        Some(key) if key.starts_with(hookrelay_signature::asymmetric::PUBLIC_PREFIX) => {
            Some((Vec::new(), vec![PublicKey::parse(key).context("--secret")?]))
        }
        Some(secret) => Some((vec![Secret::parse(secret).context("--secret")?], Vec::new())),
    };
    let status = StatusCode::from_u16(args.status).context("--status")?;
    let state = Arc::new(Listener { secret, status });
    let app = Router::new().fallback(receive).with_state(state);
    let addr = format!("127.0.0.1:{}", args.port);
    let socket = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("listening for webhooks on http://{addr}/ (Ctrl-C to stop)");
    axum::serve(socket, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn receive(
    State(state): State<Arc<Listener>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let id = header(&headers, "webhook-id");
    let ts = header(&headers, "webhook-timestamp");
    let check = match &state.secret {
        None => "not checked (no --secret)".to_owned(),
        Some((secrets, public_keys)) => match ts.parse::<i64>() {
            Err(_) => "FAILED: webhook-timestamp is missing or not a number".to_owned(),
            Ok(t) => {
                let now = hookrelay_core::clock::now_ms() / 1000;
                let keys = Keys {
                    secrets,
                    public_keys,
                };
                match verify_with(
                    keys,
                    id,
                    t,
                    &body,
                    header(&headers, "webhook-signature"),
                    now,
                    300,
                ) {
                    Ok(()) => "valid".to_owned(),
                    Err(e) => format!("FAILED: {e}"),
                }
            }
        },
    };
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
        "{} {event_type} {id} signature: {check}\n{pretty}\n",
        hookrelay_core::clock::to_rfc3339(hookrelay_core::clock::now_ms())
    );
    state.status
}
