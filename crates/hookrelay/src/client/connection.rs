//! Which server and token a command uses, and the HTTP client that calls the API.
//!
//! Each setting comes from the flag, else the environment (`HOOKRELAY_URL`,
//! `HOOKRELAY_TOKEN`), else the config file `hookrelay login` wrote; the server defaults
//! to `http://127.0.0.1:8080`, the address `hookrelay serve` listens on by default.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::config;
use super::exit::usage;

/// Where `hookrelay serve` listens unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// What to say when no token is found anywhere.
pub const NO_TOKEN: &str =
    "no API token: pass --token, set HOOKRELAY_TOKEN, or run hookrelay login";

/// `--server` and `--token`, accepted before or after the subcommand. No `Debug`: it
/// holds the token.
#[derive(Args, Clone, Default)]
pub struct ConnectionArgs {
    /// The server's base URL [default: HOOKRELAY_URL, else the login config, else
    /// http://127.0.0.1:8080].
    #[arg(long, global = true, value_name = "URL", env = "HOOKRELAY_URL")]
    pub server: Option<String>,
    /// The API token [default: HOOKRELAY_TOKEN, else the login config].
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "HOOKRELAY_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// An error answer of the API, as one line (`PUT /api/v1/…: 422 …: message`).
#[derive(Debug, thiserror::Error)]
#[error("{line}")]
pub struct ApiFailure {
    /// The answer's status.
    pub status: StatusCode,
    /// The whole line.
    pub line: String,
}

/// A client of one server's API.
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

/// Parses a server URL; `host:port` alone is taken as `http://host:port`.
pub fn parse_server(text: &str) -> anyhow::Result<Url> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url =
        Url::parse(&with_scheme).map_err(|e| usage(format!("invalid server URL {text:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(usage(format!(
            "invalid server URL {text:?}: use http://host:port or https://host"
        )));
    }
    Ok(url)
}

impl Api {
    /// Resolves the server and token; a missing token is a usage error (exit 2) when
    /// `needs_token`.
    pub fn connect(args: &ConnectionArgs, needs_token: bool) -> anyhow::Result<Self> {
        let file = match config::path() {
            Some(path) => config::load(&path).map_err(|e| usage(format!("{e:#}")))?,
            None => config::UserConfig::default(),
        };
        let server = args
            .server
            .clone()
            .filter(|s| !s.is_empty())
            .or(file.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        let token = args.token.clone().filter(|t| !t.is_empty()).or(file.token);
        if needs_token && token.is_none() {
            return Err(usage(NO_TOKEN));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("hookrelay-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            base: parse_server(&server)?,
            token,
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The URL of `path` segments under the server's root, each segment percent-encoded
    /// (scopes hold `:`; codes may hold anything the server accepts).
    pub fn url(&self, segments: &[&str]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("the server URL {} cannot hold a path", self.base))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Calls `/api/v1/{segments}` and returns the JSON answer (`null` for an empty one).
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        let url = self.url(&all)?;
        self.request(method, url, query, body, &[]).await
    }

    /// Like [`Api::call`], with extra request headers.
    pub async fn request(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), url.clone());
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let answer = req.send().await.map_err(|e| unreachable(&self.base, &e))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .with_context(|| format!("reading the answer of {method} {}", url.path()))?;
        if !status.is_success() {
            return Err(api_error(status, &method, url.path(), &text));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{method} {} answered {status} with a body that is not JSON",
                url.path()
            )
        })
    }

    /// `GET /api/v1/{segments}`.
    pub async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.call(Method::GET, segments, query, None).await
    }

    /// Every item of a list (`{"data":[…],"next_cursor":…}`), following the cursors.
    pub async fn list_all(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut query = query.to_vec();
        query.push(("limit", "1000".to_owned()));
        loop {
            let mut page = self.get(segments, &query).await?;
            if let Value::Array(data) = page["data"].take() {
                items.extend(data);
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    query.retain(|(name, _)| *name != "cursor");
                    query.push(("cursor", cursor.to_owned()));
                }
                None => return Ok(items),
            }
        }
    }
}

/// A connection that failed before any answer: say which server, and the likely cause.
fn unreachable(base: &Url, e: &reqwest::Error) -> anyhow::Error {
    // The innermost cause says what happened ("Connection refused"); the outer layers
    // only say which library noticed.
    let mut source = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(s) = source {
        innermost = Some(s);
        source = s.source();
    }
    let cause = innermost.map(|s| format!(": {s}")).unwrap_or_default();
    if e.is_timeout() {
        anyhow::anyhow!("the server at {base} did not answer in time{cause}")
    } else {
        anyhow::anyhow!(
            "cannot reach the server at {base}{cause} (is `hookrelay serve` running there? set --server or HOOKRELAY_URL)"
        )
    }
}

/// Turns an error answer (`{"error":{"code","message","details"}}`) into one line; a bad
/// token is a configuration error (exit 2).
fn api_error(status: StatusCode, method: &Method, path: &str, body: &str) -> anyhow::Error {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.trim().chars().take(300).collect());
    let line = format!("{method} {path}: {status}: {message}");
    if status == StatusCode::UNAUTHORIZED {
        usage(format!(
            "{line} (check --token, HOOKRELAY_TOKEN or the token saved by hookrelay login)"
        ))
    } else {
        ApiFailure { status, line }.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(
            parse_server("127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(parse_server("ftp://x").is_err());
        assert!(parse_server("http://").is_err());
    }

    #[test]
    fn segments_are_encoded() {
        let api = Api {
            http: reqwest::Client::new(),
            base: parse_server("http://h:1/prefix/").unwrap(),
            token: None,
        };
        let url = api
            .url(&["api", "v1", "scopes", "biz:1", "endpoints", "a/b"])
            .unwrap();
        assert_eq!(url.path(), "/prefix/api/v1/scopes/biz:1/endpoints/a%2Fb");
    }

    #[test]
    fn error_answers_read_as_one_line() {
        let e = api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &Method::POST,
            "/api/v1/events",
            r#"{"error":{"code":"invalid","message":"type: unknown event type \"x\""}}"#,
        );
        assert_eq!(
            e.to_string(),
            "POST /api/v1/events: 422 Unprocessable Entity: type: unknown event type \"x\""
        );
        let e = api_error(
            StatusCode::UNAUTHORIZED,
            &Method::GET,
            "/api/v1/events",
            "{}",
        );
        assert!(e.downcast_ref::<super::super::exit::UsageError>().is_some());
    }
}
