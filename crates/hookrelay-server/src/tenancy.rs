//! Which tenant's rows a caller reaches, decided in one place for the API and the
//! dashboard alike.
//!
//! - Routes under `/scopes/{scope}/…` take [`ScopePath`] (API) or call [`scope`]
//!   (dashboard forms): the scope is parsed and checked against the caller's token
//!   before the handler runs, so a handler holds only scopes its caller may act on.
//! - Resources addressed by id (an event, a delivery with its attempts) are read
//!   through [`event`] and [`delivery`], which pass the caller's scopes to the store's
//!   query: another tenant's row is never loaded, and is answered 404 exactly like an id
//!   that does not exist.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use hookrelay_core::scope::Scope;
use hookrelay_store::model::{AttemptRecord, DeliveryRecord, EndpointRecord, EventRecord};

use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::ApiError;

/// The `{scope}` of a route, parsed (422 when malformed) and allowed to the caller (403
/// otherwise), with the caller.
pub struct ScopePath {
    /// The scope, checked.
    pub scope: Scope,
    /// Who asked.
    pub caller: Caller,
}

impl FromRequestParts<AppState> for ScopePath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let raw = params
            .iter()
            .find_map(|(name, value)| (name == "scope").then_some(value))
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("ScopePath on a route without {{scope}}"))
            })?;
        Ok(Self {
            scope: scope(&caller, raw)?,
            caller,
        })
    }
}

/// Parses `raw` and checks that `caller` may act on it.
pub fn scope(caller: &Caller, raw: &str) -> Result<Scope, ApiError> {
    let scope = Scope::parse(raw)?;
    caller.check_scope(&scope)?;
    Ok(scope)
}

/// The 404 of an endpoint code that the scope does not have.
pub fn endpoint_not_found(scope: &Scope, code: &str) -> ApiError {
    ApiError::not_found(format!("endpoint {code:?} not found in scope {scope}"))
}

/// The endpoint `code` of a checked scope, or 404.
pub async fn endpoint(
    state: &AppState,
    scope: &Scope,
    code: &str,
) -> Result<EndpointRecord, ApiError> {
    state
        .store()
        .get_endpoint(scope, code)
        .await?
        .ok_or_else(|| endpoint_not_found(scope, code))
}

/// The event `id` if it targets one of the caller's scopes; 404 otherwise.
pub async fn event(state: &AppState, caller: &Caller, id: &str) -> Result<EventRecord, ApiError> {
    state
        .store()
        .get_event(id, caller.scopes.as_deref())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("event {id:?} not found")))
}

/// The delivery `id` with its attempts if its scope is one of the caller's; 404
/// otherwise.
pub async fn delivery(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(DeliveryRecord, Vec<AttemptRecord>), ApiError> {
    state
        .store()
        .get_delivery(id, caller.scopes.as_deref())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("delivery {id:?} not found")))
}
