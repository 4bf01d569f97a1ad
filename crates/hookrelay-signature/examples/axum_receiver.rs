//! A receiver that checks Hookrelay's (Standard Webhooks) signatures before trusting a
//! webhook. Run it with the endpoint's secret and point an endpoint at it:
//!
//! ```sh
//! WEBHOOK_SECRET=whsec_… cargo run -p hookrelay-signature --example axum_receiver
//! ```
//!
//! The same crate checks GitHub, Stripe, Shopify and Slack signatures
//! (`hookrelay_signature::providers`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hookrelay_signature::{Secret, verify};

/// Five minutes either way, as Standard Webhooks recommends.
const TOLERANCE_S: i64 = 300;

async fn receive(
    State(secret): State<Arc<Secret>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(signature)) = (
        header("webhook-id"),
        header("webhook-timestamp").and_then(|t| t.parse::<i64>().ok()),
        header("webhook-signature"),
    ) else {
        return (StatusCode::BAD_REQUEST, "missing webhook-* headers".into());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Verify the raw bytes, before parsing: re-serialized JSON would not match.
    match verify(
        std::slice::from_ref(&secret),
        id,
        ts,
        &body,
        signature,
        now,
        TOLERANCE_S,
    ) {
        Ok(()) => {
            // Deduplicate on `id` here: delivery is at least once.
            println!("{id}: {}", String::from_utf8_lossy(&body));
            (StatusCode::NO_CONTENT, String::new())
        }
        Err(e) => (StatusCode::UNAUTHORIZED, e.to_string()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = Secret::parse(&std::env::var("WEBHOOK_SECRET")?)?;
    let app = Router::new()
        .route("/webhooks", post(receive))
        .with_state(Arc::new(secret));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
    println!("listening on http://127.0.0.1:9000/webhooks");
    axum::serve(listener, app).await?;
    Ok(())
}
