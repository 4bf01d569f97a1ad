//! One HTTP attempt: send, read at most 64 KiB of the answer, time it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use hookrelay_store::model::AttemptRecord;

use super::classify::{Ending, parse_retry_after};
use super::sign::SignedRequest;
use crate::ssrf::Guard;

/// How much of a response body an attempt keeps.
pub(crate) const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// What came back.
pub(crate) struct Sent {
    pub record: AttemptRecord,
    pub ending: Ending,
    pub retry_after: Option<Duration>,
}

/// Sends one attempt. An IP-literal URL into a refused network, or an `http://` URL when
/// only `https://` is allowed, is not requested at all (host names are filtered by the
/// client's resolver).
pub(crate) async fn send(
    client: &reqwest::Client,
    guard: &Guard,
    url: &str,
    req: SignedRequest,
    timeout: Duration,
    at_ms: i64,
) -> Sent {
    let started = Instant::now();
    let mut record = AttemptRecord {
        n: 0,
        at: at_ms,
        url: url.to_owned(),
        status_code: None,
        duration_ms: 0,
        error: None,
        request_headers: req.recorded,
        response_headers: BTreeMap::new(),
        response_body: None,
        failed_over: Vec::new(),
    };
    // Parsed once: the guard looks at it, and the client sends to it.
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => return refused(record, format!("the endpoint URL is invalid: {e}")),
    };
    if let Err(not_https) = guard.check_scheme(&parsed) {
        return refused(record, format!("refused: {not_https}"));
    }
    if let Err(blocked) = guard.check_literal(&parsed) {
        return refused(
            record,
            format!("refused by the SSRF guard: {blocked} (see HOOKRELAY_ALLOW_NETWORKS)"),
        );
    }
    let mut builder = client.post(parsed).timeout(timeout).body(req.body);
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let (ending, retry_after) = match builder.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            record.status_code = Some(status);
            for (name, value) in response.headers() {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                record
                    .response_headers
                    .entry(name.as_str().to_owned())
                    .and_modify(|v| {
                        v.push_str(", ");
                        v.push_str(&value);
                    })
                    .or_insert(value);
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_RESPONSE_BODY - body.len();
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if body.len() >= MAX_RESPONSE_BODY {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        record.error = Some(format!(
                            "reading the response body failed: {}",
                            describe(&e)
                        ));
                        break;
                    }
                }
            }
            record.response_body = Some(String::from_utf8_lossy(&body).into_owned());
            if !(200..300).contains(&status) && record.error.is_none() {
                record.error = Some(match status {
                    300..=399 => format!("receiver answered {status} (redirects are not followed)"),
                    _ => format!("receiver answered {status}"),
                });
            }
            (Ending::Status(status), retry_after)
        }
        Err(e) => {
            record.error = Some(if e.is_timeout() {
                format!("timed out after {} ms", timeout.as_millis())
            } else {
                describe(&e)
            });
            (Ending::NoAnswer, None)
        }
    };
    record.duration_ms = started.elapsed().as_millis() as u64;
    Sent {
        record,
        ending,
        retry_after,
    }
}

/// An attempt that was not sent.
fn refused(mut record: AttemptRecord, error: String) -> Sent {
    record.error = Some(error);
    Sent {
        record,
        ending: Ending::NoAnswer,
        retry_after: None,
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
