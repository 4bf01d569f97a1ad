//! What every HTTP surface shares: the API (`/api/v1`), the dashboard (`/ui`) and the
//! inbound gateway (`/in`) are siblings that never import each other; they all use this.
//!
//! # Layout
//! - [`body_deadline`]: one deadline for every request body (408), so a client that
//!   never sends the body it announced cannot hold a connection.
//! - [`body_shape`]: whether a body type wants a JSON object, so an array sent instead
//!   is refused rather than read field by field.
//! - [`error`]: the one error type, [`error::ApiError`] (`{"error":{code,message}}` for
//!   JSON callers; the dashboard renders it as a page).
//! - [`extract`]: request policy in extractors: JSON bodies (400/413/422), query strings,
//!   paging, flags and times.
//! - [`router`]: assembles every surface into one router (and the worker's small one).

pub mod body_deadline;
pub mod body_shape;
pub mod error;
pub mod extract;
pub mod router;
