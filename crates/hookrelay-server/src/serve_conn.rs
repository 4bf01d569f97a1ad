//! The HTTP/1.1 serving loop for the API and the inbound gateway, plain or TLS.
//!
//! `axum::serve` gives hyper no timer, so hyper cannot time anything out: a client that
//! opens a connection and never finishes its request headers holds it (a file
//! descriptor and a task) for ever, and enough of them exhaust the server. This loop
//! builds each connection with hyper's HTTP/1.1 builder, a tokio timer and
//! `header_read_timeout`: headers that do not arrive in time close the connection (the
//! same timer also closes keep-alive connections that stay idle that long). It otherwise
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
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower_service::Service;

use crate::inbound::client::PeerAddr;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// waits for the open connections to finish their requests (idle ones close at once).
/// A client that has not sent a request's full headers within `header_read_timeout`
/// is disconnected.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) where
    L: Listener<Addr = SocketAddr>,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
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
