//! `POST /in/{source}`: find the source, check the caller's address, read the body within
//! the source's limit, verify, record — the request, its forwards and its event in one
//! durable transaction — and answer. Rejections are recorded too (never forwarded).

use std::net::IpAddr;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::{EventId, RequestId};
use hookrelay_core::source::Verify;
use hookrelay_store::model::{InboundStatus, NewEvent, NewInbound, SourceRecord};
use serde_json::{Value, json};

use super::client::PeerAddr;
use super::{parts, verify};
use crate::api::error::ApiError;
use crate::app::AppState;

/// Everything known about a request before it is recorded.
struct Received<'a> {
    source: &'a SourceRecord,
    id: RequestId,
    at: i64,
    client: IpAddr,
    headers: &'a HeaderMap,
}

impl Received<'_> {
    fn log(&self, status: InboundStatus, reason: Option<String>, body: Bytes) -> NewInbound {
        NewInbound {
            id: self.id.clone(),
            source: self.source.name.clone(),
            received_at: self.at,
            status,
            reason,
            client_ip: Some(self.client.to_string()),
            dedupe_key: None,
            dedupe_window_ms: 0,
            headers: parts::captured_headers(&self.source.spec.verify, self.headers),
            body,
            verified: None,
            publish: None,
        }
    }

    /// Records a rejection, then answers with `error`.
    async fn reject(&self, state: &AppState, error: ApiError, body: Bytes) -> Response {
        let reason = error.message().to_owned();
        tracing::info!(source = %self.source.name, client = %self.client, reason, "inbound request rejected");
        let entry = self.log(InboundStatus::Rejected, Some(reason), body);
        if let Err(e) = state.store().record_inbound(entry).await {
            tracing::warn!(error = %e, "could not log a rejected inbound request");
        }
        error.into_response()
    }
}

/// The handler.
pub async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    match handle(&state, &name, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, name: &str, request: Request) -> Result<Response, ApiError> {
    let source = match state.store().get_source(name).await? {
        Some(s) if s.spec.enabled => s,
        _ => return Err(ApiError::not_found(format!("no source named {name:?}"))),
    };
    let (head, body) = request.into_parts();
    let peer = head
        .extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    let received = Received {
        source: &source,
        id: RequestId::generate(),
        at: now_ms(),
        client: state.trusted_proxies().client(peer, &head.headers),
        headers: &head.headers,
    };
    let spec = &source.spec;

    if !spec.allows(received.client) {
        let error = ApiError::forbidden(format!(
            "{} is not in the source's allowed_ips",
            received.client
        ));
        return Ok(received.reject(state, error, Bytes::new()).await);
    }
    let read_timeout = Duration::from_millis(state.config().inbound_read_timeout_ms.max(1));
    let body = match tokio::time::timeout(
        read_timeout,
        axum::body::to_bytes(body, spec.max_body_bytes),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            let error = ApiError::too_large(spec.max_body_bytes);
            return Ok(received.reject(state, error, Bytes::new()).await);
        }
        Err(_) => {
            let error = ApiError::timeout(format!(
                "the request body did not arrive within {} ms",
                read_timeout.as_millis()
            ));
            return Ok(received.reject(state, error, Bytes::new()).await);
        }
    };
    if let Err(reason) = verify::check(&spec.verify, &head.headers, &body, received.at / 1000) {
        return Ok(received
            .reject(state, ApiError::unauthorized(reason), body)
            .await);
    }
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if let (Verify::Slack { .. }, Some(challenge)) = (&spec.verify, slack_challenge(json.as_ref()))
    {
        // Slack checks a new URL with this; it is answered, not forwarded.
        return Ok(Json(json!({ "challenge": challenge })).into_response());
    }

    let publish = match &spec.publish {
        None => None,
        Some(p) => match parts::event_type(p, &head.headers, json.as_ref()) {
            Ok(event_type) => Some(NewEvent {
                id: EventId::generate(),
                event_type,
                scopes: p.scopes.clone(),
                // A body that is not JSON is published as a JSON string.
                data: match &json {
                    Some(_) => String::from_utf8_lossy(&body).into_owned(),
                    None => Value::String(String::from_utf8_lossy(&body).into_owned()).to_string(),
                },
                idempotency_key: None,
                created_at: received.at,
            }),
            Err(reason) => {
                return Ok(received
                    .reject(state, ApiError::bad_request(reason), body)
                    .await);
            }
        },
    };
    let dedupe = spec.effective_dedupe();
    let mut entry = received.log(InboundStatus::Accepted, None, body);
    entry.dedupe_key = dedupe
        .as_ref()
        .and_then(|d| parts::dedupe_key(d, &head.headers, json.as_ref()));
    entry.dedupe_window_ms = dedupe.map_or(0, |d| d.window_s.saturating_mul(1000));
    entry.verified = Some(spec.verify.name().to_owned());
    entry.publish = publish;
    let outcome = state.store().record_inbound(entry).await?;

    if outcome.status == InboundStatus::Duplicate {
        return Ok((
            StatusCode::OK,
            Json(json!({
                "duplicate": true,
                "id": outcome.id.as_str(),
                "duplicate_of": outcome.duplicate_of.as_ref().map(|d| d.as_str()),
            })),
        )
            .into_response());
    }
    tracing::debug!(source = %source.name, request = %outcome.id, forwards = outcome.forwards, "inbound request accepted");
    Ok(match &spec.response {
        Some(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
            let content_type = HeaderValue::from_str(&r.content_type)
                .unwrap_or(HeaderValue::from_static("text/plain"));
            (
                status,
                [(header::CONTENT_TYPE, content_type)],
                r.body.clone(),
            )
                .into_response()
        }
        None => (
            StatusCode::ACCEPTED,
            Json(json!({
                "id": outcome.id.as_str(),
                "event_id": outcome.published.as_ref().map(|p| p.event_id.as_str()),
            })),
        )
            .into_response(),
    })
}

/// Slack's `url_verification` challenge, if this is one.
fn slack_challenge(json: Option<&Value>) -> Option<String> {
    let body = json?;
    (body["type"] == "url_verification")
        .then(|| body["challenge"].as_str().map(str::to_owned))
        .flatten()
}
