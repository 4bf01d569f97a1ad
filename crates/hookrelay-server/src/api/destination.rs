//! Where an endpoint sends: one `url`, or `targets` with a `strategy` — validated
//! together, because exactly one of the two must be given.

use hookrelay_core::balance::{Target, Targets};
use hookrelay_core::endpoint::parse_url;

use crate::http::error::Detail;

/// A validated destination: the URL shown as the endpoint's `url` (the first target's
/// with targets) and the targets.
pub struct Destination {
    pub url: String,
    pub targets: Option<Targets>,
}

/// Every URL a destination sends to, with the request field it came from (for the
/// SSRF guard's answers).
pub fn urls<'a>(url: &'a str, targets: Option<&'a Targets>, at: &str) -> Vec<(String, &'a str)> {
    match targets {
        None => vec![(format!("{at}url"), url)],
        Some(t) => t
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{at}targets[{i}].url"), t.url.as_str()))
            .collect(),
    }
}

/// Validates `url` / `targets` / `strategy` as a client wrote them; errors go to
/// `details` with fields prefixed by `at`. `Ok(None)`: none of them was given (fine
/// for a PATCH; `required` makes it an error).
pub fn parse(
    url: Option<&str>,
    targets: Option<Vec<Target>>,
    strategy: Option<&str>,
    required: bool,
    at: &str,
    details: &mut Vec<Detail>,
) -> Option<Destination> {
    let mut fail = |field: &str, message: String| {
        details.push(Detail {
            field: format!("{at}{field}"),
            message,
        });
        None
    };
    match (url, targets) {
        (Some(_), Some(_)) => fail("targets", "give either url or targets, not both".to_owned()),
        (None, None) if strategy.is_some() => fail(
            "strategy",
            "a strategy applies to targets; give targets too".to_owned(),
        ),
        (None, None) if required => fail("url", "url (or targets) is required".to_owned()),
        (None, None) => None,
        (Some(_), None) if strategy.is_some() => fail(
            "strategy",
            "a strategy applies to targets, not to a single url".to_owned(),
        ),
        (Some(raw), None) => match parse_url(raw) {
            Ok(u) => Some(Destination {
                url: u.to_string(),
                targets: None,
            }),
            Err(e) => fail(&e.field, e.message),
        },
        (None, Some(list)) => match Targets::parse(list, strategy) {
            Ok(t) => Some(Destination {
                url: t.primary_url().to_owned(),
                targets: Some(t),
            }),
            Err(errors) => {
                for e in errors {
                    details.push(Detail {
                        field: format!("{at}{}", e.field),
                        message: e.message,
                    });
                }
                None
            }
        },
    }
}
