//! How far back history goes, said on the pages that list it (the same settings
//! `GET /health` reports).

use crate::config::Config;

use super::html::escape;

/// A sentence on retention: how long finished history and payloads are kept.
pub fn retention_note(config: &Config) -> String {
    let history = match config.retention.trim() {
        "off" | "never" => "History is kept for ever".to_owned(),
        period => format!(
            "History goes back {}: older finished events, deliveries, attempts and inbound requests are removed",
            escape(period)
        ),
    };
    let payload = config
        .payload_retention
        .as_deref()
        .map(|p| format!("; payloads are dropped after {}", escape(p.trim())))
        .unwrap_or_default();
    format!(
        "<p class=\"retention\">{history}{payload}. A delivery still pending is always kept.</p>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_both_periods_and_escapes_them() {
        let config = Config {
            retention: "30d".to_owned(),
            payload_retention: Some("<7d>".to_owned()),
            ..Config::default()
        };
        let note = retention_note(&config);
        assert!(note.contains("History goes back 30d"), "{note}");
        assert!(
            note.contains("payloads are dropped after &lt;7d&gt;"),
            "{note}"
        );
        let forever = Config {
            retention: "off".to_owned(),
            ..Config::default()
        };
        assert!(retention_note(&forever).contains("kept for ever"));
    }
}
