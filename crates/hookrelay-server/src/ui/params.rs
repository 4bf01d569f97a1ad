//! Reading the dashboard's query strings and form fields: empty fields mean "any", and
//! times come from `<input type="datetime-local">` (UTC) or as RFC 3339.

use hookrelay_core::clock::{parse_rfc3339, to_rfc3339};

use crate::http::error::ApiError;

/// The trimmed value, or `None` when the field is absent or blank.
pub fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A time field as unix ms: `2026-12-01T10:30` (what a `datetime-local` input sends,
/// read as UTC), the same with seconds, or a full RFC 3339 time. A blank field is `None`;
/// anything else is a 422 naming the field.
pub fn time(field: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(text) = non_empty(value) else {
        return Ok(None);
    };
    let parsed = parse_rfc3339(&text)
        .or_else(|| parse_rfc3339(&format!("{text}Z")))
        .or_else(|| parse_rfc3339(&format!("{text}:00Z")));
    parsed.map(Some).ok_or_else(|| {
        ApiError::invalid_field(field, "use a time like 2026-12-01T10:30 (UTC) or RFC 3339")
    })
}

/// A time as a `datetime-local` input shows it (UTC, to the minute).
pub fn time_input(ms: i64) -> String {
    to_rfc3339(ms).chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_from_inputs_and_rfc_3339() {
        let at = time("since", &Some("2026-12-01T10:30".into()))
            .unwrap()
            .unwrap();
        assert_eq!(to_rfc3339(at), "2026-12-01T10:30:00Z");
        assert_eq!(time_input(at), "2026-12-01T10:30");
        assert_eq!(
            time("since", &Some("2026-12-01T10:30:15Z".into())).unwrap(),
            Some(at + 15_000)
        );
        assert_eq!(time("since", &Some("  ".into())).unwrap(), None);
        assert!(time("since", &Some("yesterday".into())).is_err());
    }
}
