//! `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (a page that renders it).
//!
//! # Layout
//! [`spec`] is the static part, derived from the handlers' `#[utoipa::path]` attributes;
//! [`webhooks`] adds the registry-driven `webhooks` section at request time; [`doc`]
//! holds the schemas of what the handlers build with `json!` or take from other crates,
//! and the named string forms they accept (`text`); `rules` adds the rules that span
//! fields; [`shapes`] holds request bodies to the document's objects; [`page`] serves
//! the offline HTML page.

mod answers;
mod models;
pub mod page;
mod rules;
pub mod shapes;
mod source_models;
pub mod spec;
mod text;
pub mod webhooks;

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa::OpenApi;

use crate::app::AppState;
use crate::http::error::ApiError;

/// The schemas the handlers' attributes name, under one path.
pub mod doc {
    pub use super::answers::*;
    pub use super::models::*;
    pub use super::source_models::*;
    pub use super::text::*;
}

/// The static part is the same for the life of the process: built once.
static STATIC_DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(spec::ApiDoc::openapi);

/// The whole document, with `webhooks` from the registry as it is now.
pub async fn build(state: &AppState) -> Result<Value, ApiError> {
    let types = webhooks::live_types(state).await?;
    let mut doc = STATIC_DOC.clone();
    doc.webhooks = Some(webhooks::paths(&types));
    let mut value = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    rules::apply(&mut value);
    webhooks::embed_schemas(&mut value, &types);
    Ok(value)
}

/// `GET /openapi.json`: no token needed, like `/health`.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    summary = "This document",
    description = "`webhooks` lists every registered event type, keyed by its code, as it is delivered.",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = Object),
        (status = 503, description = "The database does not answer")))]
pub async fn document(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    build(&state).await.map(Json)
}
