//! Schemas of the answers the handlers build with `json!` (and of the error body), so
//! the document names every field without the handlers changing shape.

use utoipa::ToSchema;

use crate::http::error::Detail;

/// Every error answer: `{"error":{"code","message","details"?}}`.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
}

/// The inside of `ErrorBody`.
#[derive(ToSchema)]
pub struct ErrorInfo {
    /// A stable code: `bad_request`, `malformed_json`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `payload_too_large`, `validation_failed`,
    /// `request_timeout`, `unavailable`, `internal`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// With `validation_failed`: the fields at fault.
    #[schema(required = false)]
    pub details: Vec<Detail>,
}

/// `GET /health`.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`, or `storage_full` while the database cannot grow (publishes get 507).
    pub status: String,
    /// The server's version.
    pub version: String,
    /// How far back history goes: finished history is kept this long (`null`: for
    /// ever), payloads `payload` long (`null`: as long as the history).
    pub retention: HealthRetention,
    /// Whether the database can grow.
    pub storage: HealthStorage,
}

/// The database's room, as `GET /health` reports it.
#[derive(ToSchema)]
pub struct HealthStorage {
    /// `true` while writes fail because the disk (or `HOOKRELAY_MAX_DATABASE_SIZE`) is
    /// full; it turns `false` when a publish commits again.
    pub full: bool,
    /// Since when, while `full`.
    #[schema(required = false)]
    pub since: String,
    /// What it means, while `full`.
    #[schema(required = false)]
    pub detail: String,
    /// The configured `HOOKRELAY_MAX_DATABASE_SIZE`, or `null`.
    pub max_size: Option<String>,
}

/// The retention settings `GET /health` reports.
#[derive(ToSchema)]
pub struct HealthRetention {
    /// e.g. `30d`; `null` when history is kept for ever.
    pub history: Option<String>,
    /// e.g. `7d`; `null` when payloads are kept as long as their history.
    pub payload: Option<String>,
}

/// An endpoint's signing secret.
#[derive(ToSchema)]
pub struct Secret {
    /// `whsec_…` (HMAC, `v1` signatures) or `whsk_…` (ed25519 signing key, `v1a`).
    pub secret: String,
    /// With an ed25519 key: the `whpk_…` public key receivers verify with.
    #[schema(required = false)]
    pub public_key: String,
}

/// The answer of a rotation: the new secret, and until when the old one also signs.
#[derive(ToSchema)]
pub struct RotatedSecret {
    /// The new `whsec_…` or `whsk_…` secret.
    pub secret: String,
    /// With an ed25519 key: the `whpk_…` public key.
    #[schema(required = false)]
    pub public_key: String,
    /// When the previous secret stops signing; `null` with no grace period.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// A token as listed: never its value.
#[derive(ToSchema)]
pub struct TokenView {
    /// Its id (for `DELETE /tokens/{id}`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it is the admin token (all scopes).
    pub admin: bool,
    /// The scopes it may act on; `null` for the admin token.
    pub scopes: Option<Vec<String>>,
    /// When it was minted.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A minted token: its value is shown this once.
#[derive(ToSchema)]
pub struct TokenCreated {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The scopes it may act on.
    pub scopes: Vec<String>,
    /// The bearer token.
    pub token: String,
    /// When it was minted.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The answer of `POST /events`.
#[derive(ToSchema)]
pub struct Published {
    /// The event id (`evt_…`), also each delivery's `webhook-id`.
    pub id: String,
    /// How many deliveries the event has (for a repeated idempotency key, the original
    /// event's: nothing new is queued).
    pub deliveries: u64,
    /// Present and `true` when the idempotency key was used before.
    #[schema(required = false)]
    pub duplicate: bool,
}

/// The answer of `…/recover`.
#[derive(ToSchema)]
pub struct Recovered {
    /// How many failed deliveries were re-queued.
    pub requeued: u64,
    /// Their ids.
    pub delivery_ids: Vec<String>,
}

/// An accepted inbound request (without a fixed `response` configured).
#[derive(ToSchema)]
pub struct InboundAccepted {
    /// The logged request's id.
    pub id: String,
    /// The published event's id, when the source publishes.
    pub event_id: Option<String>,
}

/// A repeated inbound request: acknowledged, not forwarded again.
#[derive(ToSchema)]
pub struct InboundDuplicate {
    /// `true`.
    pub duplicate: bool,
    /// This request's id.
    pub id: String,
    /// The first request with the same deduplication key.
    pub duplicate_of: Option<String>,
}
