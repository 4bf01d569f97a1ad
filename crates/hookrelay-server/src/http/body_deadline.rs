//! A deadline for reading a request's body, on every route.
//!
//! hyper's header read timeout ends once the headers are in; a client that then sends
//! a `Content-Length` and never the body would hold its connection (a descriptor and a
//! task) for as long as it likes, and on `POST /ui/login` it needs no token to do so.
//! [`layer`] gives every request body one deadline for the whole body
//! (`HOOKRELAY_BODY_READ_TIMEOUT_MS`): past it the body fails with [`BodyTimeout`],
//! which the extractors' callers answer with 408, and the connection closes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Frame, SizeHint};

/// The body did not arrive before its deadline.
#[derive(Debug)]
pub struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimeout {}

/// Middleware: every request's body must arrive within `timeout`.
pub async fn layer(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = Body::new(Deadline {
        inner: body,
        sleep: Box::pin(tokio::time::sleep(timeout)),
    });
    next.run(Request::from_parts(parts, body)).await
}

/// Whether `error` (or one of its causes) is a [`BodyTimeout`].
pub fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A body that fails with [`BodyTimeout`] once `sleep` ends before it does.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        // Both fields are `Unpin` (the body and the sleep are boxed).
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
