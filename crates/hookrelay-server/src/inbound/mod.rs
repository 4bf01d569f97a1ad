//! The inbound gateway: `POST /in/{source}`.
//!
//! # Layout
//! - [`gateway`]: the handler: find the source, check the caller's address, read the
//!   body within the limit, verify, record (one durable transaction with the forwards and
//!   the published event), answer.
//! - [`verify`]: each `verify` scheme over the raw body and headers.
//! - [`client`]: the caller's address (socket, or `X-Forwarded-For` from trusted proxies).
//! - [`parts`]: what is read off a request: the deduplication key, the event type,
//!   the headers to log (credentials redacted).
//!
//! Forwarding is the delivery engine's job: a forward is a delivery to an endpoint of
//! the scope `inbound:{source}`, built by `dispatch/forward.rs` from the stored request.

pub mod client;
pub mod gateway;
pub mod parts;
pub mod verify;
