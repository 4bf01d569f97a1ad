//! The HTTP/1.1 serving loop for the API and the inbound gateway, plain or TLS.
//!
//! `axum::serve` gives hyper no timer, so hyper cannot time anything out: a client that
//! opens a connection and never finishes its request headers holds it (a file
//! descriptor and a task) for ever, and enough of them exhaust the server. This loop
//! builds each connection with hyper's HTTP/1.1 builder, a tokio timer and
//! `header_read_timeout`: headers that do not arrive in time close the connection (the
//! same timer also closes keep-alive connections that stay idle that long), and it
//! serves at most `max_connections` at once: past that it stops accepting, so further
//! clients wait in the kernel's listen queue instead of taking the process's last file
//! descriptors (which `/health` and the database need too). It otherwise
//! does what `axum::serve` did: the caller's address as [`ConnectInfo<PeerAddr>`] in every
//! request, and a graceful shutdown that stops accepting and lets requests in progress
//! finish.
//!
//! hyper-util's `auto::Builder` would add HTTP/2 detection, which needs the `h2` crate
//! (and its graceful-shutdown support exists only with HTTP/2 compiled in); the API
//! speaks HTTP/1.1 only (TLS offers only `http/1.1` by ALPN), and `auto::Builder::http1()`
//! is this same builder.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower_service::Service;

use crate::inbound::client::PeerAddr;

/// What the serving loop allows each client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client that has not sent a request's full headers within this is disconnected.
    pub header_read_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// waits for the open connections to finish their requests (idle ones close at once).
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) where
    L: Listener<Addr = SocketAddr>,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: at the limit nothing more is accepted until one closes.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        // `accept` logs and backs off on errors such as EMFILE, and never fails.
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            // What `into_make_service_with_connect_info` did: the inbound gateway checks
            // this address against `allowed_ips`.
            request.extensions_mut().insert(ConnectInfo(PeerAddr(peer)));
            // A router is always ready, so `call` needs no `poll_ready` first.
            router.clone().call(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = connection.await {
                // Timeouts and clients that hang up land here; nothing to answer.
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    // Stop accepting before waiting, so new clients are refused instead of queued.
    drop(listener);
    graceful.shutdown().await;
}
