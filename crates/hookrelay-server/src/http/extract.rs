//! Extractors that put request policy in one place: JSON bodies answered with 400 (not
//! JSON), 413 (too large) or 422 (wrong shape, with the field), and list paging.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use hookrelay_store::model::PageRequest;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::body_shape::{self, Shape};
use super::error::ApiError;
use crate::app::AppState;

/// A JSON body of type `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads the whole body, answering 413 past the configured limit and 408 past the body
/// deadline ([`super::body_deadline`]).
pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.config().max_payload_bytes)
        } else if super::body_deadline::is_timeout(&rejection) {
            ApiError::timeout(format!(
                "the request body did not arrive within {} ms",
                state.config().body_read_timeout_ms
            ))
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

/// Parses JSON into `T`: syntax errors are 400, shape errors are 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json(
            "the request body is empty; JSON was expected",
        ));
    }
    let top = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if top == Some(&b'[') && body_shape::expected::<T>() == Shape::Object {
        return Err(ApiError::invalid_field(
            "body",
            "expected a JSON object, found an array",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::invalid_field(field, inner.to_string())
            }
            _ => ApiError::malformed_json(format!("the request body is not valid JSON: {inner}")),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::malformed_json(format!("the request body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

/// Query parameters of type `T`; a bad one is a 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// `?limit=&cursor=`. Values stay text until [`Paging::page`], because query structs
/// that embed this one with `#[serde(flatten)]` only see strings.
#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// 1 to 1000; 50 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl Paging {
    /// The page to read.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.limit.as_deref() {
            None | Some("") => 50,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=1000).contains(l))
                .ok_or_else(|| {
                    ApiError::invalid_field("limit", "limit must be a number between 1 and 1000")
                })?,
        };
        Ok(PageRequest {
            limit,
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
        })
    }
}

/// Reads a boolean query flag: `true`/`1` or `false`/`0`.
pub fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::invalid_field(name, "use true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only the parse result is checked")]
    struct Sample {
        name: String,
        n: u32,
    }

    #[test]
    fn statuses_follow_the_kind_of_error() {
        assert_eq!(parse_json::<Sample>(b"{").unwrap_err().status(), 400);
        assert_eq!(parse_json::<Sample>(b"").unwrap_err().status(), 400);
        assert_eq!(
            parse_json::<Sample>(b"{\"name\":\"a\",\"n\":1} x")
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            parse_json::<Sample>(b"{\"name\":\"a\",\"n\":\"x\"}")
                .unwrap_err()
                .status(),
            422
        );
        assert_eq!(
            parse_json::<Sample>(b"{\"name\":\"a\"}")
                .unwrap_err()
                .status(),
            422
        );
        assert!(parse_json::<Sample>(b"{\"name\":\"a\",\"n\":1}").is_ok());
    }
}
