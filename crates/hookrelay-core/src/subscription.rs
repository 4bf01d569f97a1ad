//! Subscriptions: which event types an endpoint receives.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::event_type::validate_code;
use crate::filter::Filter;

/// One entry of a subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `*`: every event type.
    All,
    /// `order.*`: every type whose code starts with `order.` (the stored text keeps the dot).
    Prefix(String),
    /// One exact event type code.
    Exact(String),
}

impl Pattern {
    /// Parses `*`, `prefix.*` or an exact code.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if s == "*" {
            return Ok(Self::All);
        }
        if let Some(prefix) = s.strip_suffix('*') {
            if !prefix.ends_with('.') || prefix.len() < 2 {
                return Err(FieldError::new(
                    "events",
                    format!(
                        "invalid pattern {s:?}: a wildcard must follow a dot, as in \"order.*\""
                    ),
                ));
            }
            validate_code(prefix.trim_end_matches('.'))
                .map_err(|e| FieldError::new("events", e.message))?;
            return Ok(Self::Prefix(prefix.to_owned()));
        }
        validate_code(s).map_err(|e| FieldError::new("events", e.message))?;
        Ok(Self::Exact(s.to_owned()))
    }

    /// Whether an event of type `code` matches.
    pub fn matches(&self, code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(p) => code.starts_with(p.as_str()),
            Self::Exact(c) => c == code,
        }
    }

    /// The text form, as the user wrote it.
    pub fn as_text(&self) -> String {
        match self {
            Self::All => "*".to_owned(),
            Self::Prefix(p) => format!("{p}*"),
            Self::Exact(c) => c.clone(),
        }
    }
}

/// The event types one endpoint is subscribed to, and an optional payload filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subscription {
    /// Patterns; the endpoint receives an event when any matches.
    pub patterns: Vec<Pattern>,
    /// When set, the event's `data` must match it too.
    pub filter: Option<Filter>,
}

impl Subscription {
    /// Parses a list of patterns.
    pub fn parse(events: &[String]) -> Result<Self, FieldError> {
        let patterns = events
            .iter()
            .map(|e| Pattern::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            patterns,
            filter: None,
        })
    }

    /// Adds a payload filter.
    pub fn with_filter(mut self, filter: Option<&serde_json::Value>) -> Result<Self, FieldError> {
        self.filter = filter.map(Filter::parse).transpose()?;
        Ok(self)
    }

    /// Whether an event of type `code` whose data is `data` is delivered; `data` is
    /// only asked for when a filter needs it.
    pub fn accepts<'a>(
        &self,
        code: &str,
        data: impl FnOnce() -> Option<&'a serde_json::Value>,
    ) -> bool {
        self.matches(code)
            && match &self.filter {
                None => true,
                Some(f) => data().is_some_and(|d| f.matches(d)),
            }
    }

    /// Whether an event of type `code` is delivered to the endpoint.
    pub fn matches(&self, code: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(code))
    }

    /// The patterns as text.
    pub fn to_texts(&self) -> Vec<String> {
        self.patterns.iter().map(Pattern::as_text).collect()
    }
}

/// A subscription as written in `PUT /scopes/{s}/subscriptions`: a list of patterns,
/// or an object with `events` (and, later, a payload `filter`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubscriptionSpec {
    /// `["*"]`.
    List(Vec<String>),
    /// `{"events": […], "filter": {…}}`.
    Detailed {
        /// Patterns.
        events: Vec<String>,
        /// A filter on the payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<serde_json::Value>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(p: &[&str]) -> Subscription {
        Subscription::parse(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn exact_star_and_prefix() {
        assert!(sub(&["template_update"]).matches("template_update"));
        assert!(!sub(&["template_update"]).matches("template_updated"));
        assert!(sub(&["*"]).matches("anything.at.all"));
        let orders = sub(&["order.*"]);
        assert!(orders.matches("order.paid"));
        assert!(orders.matches("order.refund.created"));
        assert!(!orders.matches("order"));
        assert!(!orders.matches("orders.paid"));
    }

    #[test]
    fn bad_patterns() {
        assert!(Pattern::parse("order*").is_err());
        assert!(Pattern::parse("*.paid").is_err());
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse(".*").is_err());
    }

    #[test]
    fn text_round_trip() {
        assert_eq!(
            sub(&["*", "order.*", "a"]).to_texts(),
            vec!["*", "order.*", "a"]
        );
    }
}
