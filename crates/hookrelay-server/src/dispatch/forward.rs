//! Where an inbound request is rebuilt for forwarding: the body byte for byte, the
//! headers as received (the provider's signature included, so the internal service can
//! verify it too) minus hop-by-hop ones (the fixed list and whatever the request's
//! `Connection` header names), the sender's own `x-hookrelay-*` and redacted credentials,
//! plus headers saying the gateway verified it.

use std::collections::BTreeMap;

use hookrelay_core::REDACTED;
use hookrelay_store::model::{EndpointTarget, InboundPayload};

use super::sign::{SignedRequest, auth_header};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and the
/// ones the client recomputes.
const NOT_FORWARDED: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The headers the request's own `Connection` headers name: hop-by-hop for that one
/// connection (RFC 9110 §7.6.1), so a proxy must not pass them on.
fn named_by_connection(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| name == "connection")
        .flat_map(|(_, value)| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

/// Builds the forward of `payload` to `endpoint`.
pub(crate) fn build(payload: &InboundPayload, endpoint: &EndpointTarget) -> SignedRequest {
    let hop_by_hop = named_by_connection(&payload.headers);
    let mut headers: Vec<(String, String)> = payload
        .headers
        .iter()
        .filter(|(name, value)| {
            !NOT_FORWARDED.contains(&name.as_str())
                && !hop_by_hop.contains(name)
                // Credentials the gateway checked (basic auth, API keys) stay here.
                && value != REDACTED
                // Only the gateway speaks as Hookrelay: a sender's own
                // `X-Hookrelay-Verified: github` must not reach the service.
                && !name.starts_with("x-hookrelay-")
        })
        .cloned()
        .collect();
    headers.push(("x-hookrelay-source".to_owned(), payload.source.clone()));
    headers.push((
        "x-hookrelay-request-id".to_owned(),
        payload.request_id.to_string(),
    ));
    headers.push(("x-hookrelay-verified".to_owned(), payload.verified.clone()));
    let mut recorded: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &headers {
        recorded
            .entry(name.clone())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    for (name, value) in &endpoint.headers {
        headers.push((name.to_ascii_lowercase(), value.clone()));
        recorded.insert(name.to_ascii_lowercase(), REDACTED.to_owned());
    }
    if let Some(auth) = &endpoint.auth {
        headers.retain(|(n, _)| n != "authorization");
        headers.push(("authorization".to_owned(), auth_header(auth)));
        recorded.insert("authorization".to_owned(), REDACTED.to_owned());
    }
    SignedRequest {
        body: payload.body.clone(),
        headers,
        recorded,
    }
}
