//! `POST /in/{source}`: find the source, check the caller's address, read the body within
//! the source's limit, verify, record — the request, its forwards and its event in one
//! durable transaction — and answer. Rejections are recorded too (never forwarded).

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookrelay_core::clock::now_ms;
use hookrelay_core::ids::{EventId, RequestId};
use hookrelay_core::source::{Publish, Verify};
use hookrelay_store::model::{InboundStatus, NewEvent, NewInbound, SourceRecord};
use serde_json::{Value, json};

use super::client::PeerAddr;
use super::{parts, verify};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::metrics::Outcome;
use crate::publishing;

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
        state
            .metrics()
            .inbound(&self.source.name, Outcome::Rejected);
        let entry = self.log(InboundStatus::Rejected, Some(reason), body);
        if let Err(e) = state.store().record_inbound(entry).await {
            tracing::warn!(error = %e, "could not log a rejected inbound request");
        }
        error.into_response()
    }
}

/// The handler.
#[utoipa::path(post, path = "/in/{name}", tag = "inbound",
    summary = "Receive a provider's webhook",
    description = "Verified with the source's scheme, deduplicated, logged, then forwarded byte for byte and/or published. A source may configure a fixed answer instead of 202.",
    params(("name" = String, Path, description = "The source's name")),
    request_body(description = "The provider's request, as sent", content(("application/json"), ("application/x-www-form-urlencoded"), ("application/octet-stream"))),
    responses(
        (status = 200, description = "A duplicate (not forwarded again), or a Slack URL challenge", body = crate::openapi::doc::InboundDuplicate),
        (status = 202, description = "Accepted", body = crate::openapi::doc::InboundAccepted),
        (status = 401, description = "A wrong, missing, stale or replayed signature"),
        (status = 403, description = "The caller is not in the source's allowed_ips"),
        (status = 404, description = "No such source, or it is disabled"),
        (status = 408, description = "The body arrived too slowly"),
        (status = 413, description = "The body is over the source's max_body_bytes"),
        (status = 422, description = "The event it would publish is refused"),
        (status = 507, description = "The database is full: nothing was kept, the sender should retry")))]
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
        state.metrics().inbound(&source.name, Outcome::Accepted);
        return Ok(Json(json!({ "challenge": challenge })).into_response());
    }

    let publish = match &spec.publish {
        None => None,
        Some(p) => match publishable(state, p, &head.headers, json.as_ref(), &body).await {
            Ok(data) => Some(NewEvent {
                id: EventId::generate(),
                event_type: data.event_type,
                scopes: p.scopes.clone(),
                data: data.text,
                idempotency_key: None,
                created_at: received.at,
                only_endpoint: None,
            }),
            // A request whose event would be refused by `POST /api/v1/events` is
            // refused whole: forwarding it alone would hide that its event was lost.
            Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                return Ok(received.reject(state, error, body).await);
            }
            Err(error) => return Err(error),
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
        state.metrics().inbound(&source.name, Outcome::Duplicate);
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
    state.metrics().inbound(&source.name, Outcome::Accepted);
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

/// An inbound request's event, checked like a publish.
struct Publishable {
    event_type: String,
    /// The event's `data` as JSON text.
    text: String,
}

/// The event a `publish` source makes of a request, held to the rules of
/// `POST /api/v1/events` ([`publishing`]). A 422 names what is wrong (it becomes the
/// logged reason); other errors are the store's.
async fn publishable(
    state: &AppState,
    publish: &Publish,
    headers: &HeaderMap,
    json: Option<&Value>,
    body: &[u8],
) -> Result<Publishable, ApiError> {
    let event_type = parts::event_type(publish, headers, json)
        .map_err(|m| ApiError::invalid_field("type", m))?;
    // A body that is not JSON is published as a JSON string.
    let (data, text) = match json {
        Some(value) => (
            Cow::Borrowed(value),
            String::from_utf8_lossy(body).into_owned(),
        ),
        None => {
            let value = Value::String(String::from_utf8_lossy(body).into_owned());
            let text = value.to_string();
            (Cow::Owned(value), text)
        }
    };
    publishing::check(state, &event_type, &data).await?;
    Ok(Publishable { event_type, text })
}

/// Slack's `url_verification` challenge, if this is one.
fn slack_challenge(json: Option<&Value>) -> Option<String> {
    let body = json?;
    (body["type"] == "url_verification")
        .then(|| body["challenge"].as_str().map(str::to_owned))
        .flatten()
}
