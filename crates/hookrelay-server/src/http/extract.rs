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
        let route = Route::of(&req);
        let bytes = read_body(req, state).await?;
        parse_json_for(&route, &bytes).map(ApiJson)
    }
}

/// Where an API request went: its method and its path under `/api/v1` (the API's
/// router is nested there, so its handlers see the rest), which find its body's schema
/// in the OpenAPI document.
pub struct Route {
    method: String,
    path: String,
}

impl Route {
    /// The route of `req`, a request to the API.
    pub fn of(req: &Request) -> Self {
        Self {
            method: req.method().as_str().to_owned(),
            path: format!("/api/v1{}", req.uri().path()),
        }
    }
}

/// Parses a body sent to `route` into `T` as [`parse_json`] does, and first refuses an
/// array wherever the route's documented body allows only an object (at any depth:
/// [`crate::openapi::shapes`]), which serde would otherwise read field by field.
pub fn parse_json_for<T: DeserializeOwned>(route: &Route, bytes: &[u8]) -> Result<T, ApiError> {
    check_top_level::<T>(bytes)?;
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::malformed_json(format!("the request body is not valid JSON: {e}"))
    })?;
    crate::openapi::shapes::check(&route.method, &route.path, &value)?;
    from_value(value)
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
///
/// JSON does not tell `2.0` from `2`, and JSON Schema calls both the integer 2, while
/// serde's integer fields take only the second: whole numbers written with a fraction
/// or an exponent are read as integers first ([`whole_numbers`]), so `"timeout_ms":
/// 5000.0` is 5000. (Free-form values, such as an event type's schema or a filter, keep
/// their meaning: JSON Schema and the filters compare numbers by value.)
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_top_level::<T>(bytes)?;
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::malformed_json(format!("the request body is not valid JSON: {e}"))
    })?;
    from_value(value)
}

/// Reads a parsed body (`ApiJson<Value>`, for a handler that looks at it first) into
/// `T` as [`parse_json`] does: an array where `T` wants an object, and shape errors, are
/// 422 naming the field.
pub fn from_value<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    if value.is_array() && body_shape::expected::<T>() == Shape::Object {
        return Err(ApiError::invalid_field(
            "body",
            "expected a JSON object, found an array",
        ));
    }
    whole_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::invalid_field(field, e.into_inner().to_string())
    })
}

/// Whole numbers up to 2^53 (where a float still spells every integer) written as
/// `2.0` or `2e0` become the integers they are.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                *value = if f >= 0.0 {
                    Value::from(f as u64)
                } else {
                    Value::from(f as i64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// An empty body is 400; an array where `T` wants an object is 422.
fn check_top_level<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), ApiError> {
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
    Ok(())
}

/// Like [`parse_json`], reading the text as it is: for a body whose parts are kept
/// verbatim (`Box<RawValue>`, a published event's `data`), which has no integer fields.
pub fn parse_json_verbatim<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_top_level::<T>(bytes)?;
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

/// Query parameters of type `T`. A parameter given twice (`?limit=5&limit=9`) is a 422
/// naming it: which value was meant is ambiguous, so neither is guessed.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some(name) = repeated_parameter(query) {
            return Err(ApiError::invalid_field(
                name,
                "this query parameter is given more than once; give it once",
            ));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::invalid_field("query", e.body_text()))
    }
}

/// The first query parameter name that occurs more than once.
fn repeated_parameter(query: &str) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, _)| name.into_owned())
        .find(|name| !seen.insert(name.clone()))
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
    /// The page to read. A parameter given empty (`?limit=`) is refused like any other
    /// value that is not what it documents: only an absent one takes the default.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.limit.as_deref() {
            None => 50,
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
            cursor: text_param("cursor", self.cursor.as_deref())?.map(str::to_owned),
        })
    }
}

/// A text query parameter: absent is `None`; given, it must not be empty (422 naming
/// it), so `?type=` never reads as "any type".
pub fn text_param<'a>(name: &str, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    match value {
        Some("") => Err(ApiError::invalid_field(
            name,
            format!("{name} is empty; leave the parameter out instead"),
        )),
        other => Ok(other),
    }
}

/// A boolean query parameter of the API: `true`/`1` or `false`/`0`; absent is false,
/// and anything else (the empty value too) is a 422 naming it.
pub fn bool_param(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None => Ok(false),
        Some(v) if !v.is_empty() => flag(name, Some(v)),
        Some(_) => Err(ApiError::invalid_field(name, "use true or false")),
    }
}

/// Reads a boolean form field of the dashboard, where a blank field means false:
/// `true`/`1` or `false`/`0`.
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
        assert_eq!(
            parse_json::<Sample>(b"[\"a\", 1]").unwrap_err().status(),
            422
        );
        assert_eq!(
            parse_json_verbatim::<Sample>(b"{").unwrap_err().status(),
            400
        );
        assert_eq!(
            parse_json_verbatim::<Sample>(b"{\"name\":\"a\"}")
                .unwrap_err()
                .status(),
            422
        );
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Numbers {
        n: u32,
        i: i64,
        f: f64,
        any: serde_json::Value,
    }

    #[test]
    fn whole_numbers_written_as_floats_are_integers() {
        let parsed: Numbers =
            parse_json(br#"{"n": 2949.0, "i": -3e2, "f": 1.5, "any": [2.0, 2.5]}"#).unwrap();
        assert_eq!(
            parsed,
            Numbers {
                n: 2949,
                i: -300,
                f: 1.5,
                any: serde_json::json!([2, 2.5]),
            }
        );
        let fraction = parse_json::<Numbers>(br#"{"n": 2.5, "i": 0, "f": 0, "any": 0}"#);
        assert_eq!(fraction.unwrap_err().status(), 422);
        let beyond = parse_json::<Numbers>(br#"{"n": 1e300, "i": 0, "f": 0, "any": 0}"#);
        assert_eq!(beyond.unwrap_err().status(), 422);
    }

    #[test]
    fn a_repeated_query_parameter_is_found() {
        assert_eq!(
            repeated_parameter("limit=5&limit=5"),
            Some("limit".to_owned())
        );
        assert_eq!(repeated_parameter("a=1&b=2&a"), Some("a".to_owned()));
        assert_eq!(
            repeated_parameter("%6Cimit=1&limit=2"),
            Some("limit".to_owned())
        );
        assert_eq!(repeated_parameter("a=1&b=2"), None);
        assert_eq!(repeated_parameter(""), None);
    }

    #[test]
    fn empty_parameters_are_refused_not_read_as_absent() {
        let empty_limit = Paging {
            limit: Some(String::new()),
            cursor: None,
        };
        assert_eq!(empty_limit.page().unwrap_err().status(), 422);
        let empty_cursor = Paging {
            limit: None,
            cursor: Some(String::new()),
        };
        assert_eq!(empty_cursor.page().unwrap_err().status(), 422);
        assert_eq!(Paging::default().page().unwrap().limit, 50);
        assert_eq!(text_param("type", Some("")).unwrap_err().status(), 422);
        assert_eq!(text_param("type", None).unwrap(), None);
        assert_eq!(bool_param("dry_run", Some("")).unwrap_err().status(), 422);
        assert!(bool_param("dry_run", Some("true")).unwrap());
        assert!(!bool_param("dry_run", None).unwrap());
        assert!(
            !flag("archived", Some("")).unwrap(),
            "a blank form field is false"
        );
    }
}
