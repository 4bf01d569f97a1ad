//! Reading the YAML files `event-types sync`, `endpoints apply` and `subscriptions
//! apply` take (JSON files work too: YAML is a superset of it).

use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;

use super::exit::usage;

/// Reads and parses `path`; an unreadable or malformed file is a usage error (exit 2)
/// whose message names the file and, from the parser, the line and column.
pub fn read<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(|e| usage(format!("{e:#}")))?;
    parse(&text).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// Parses YAML text.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, yaml_serde::Error> {
    yaml_serde::from_str(text)
}

#[cfg(test)]
mod tests {
    use hookrelay_core::event_type::Registry;

    use super::*;

    #[test]
    fn the_registry_format_parses_with_schemas() {
        let registry: Registry = parse(
            "version: 1\nevents:\n  - code: order.paid\n    name: Order paid\n    schema:\n      type: object\n      required: [amount]\n",
        )
        .unwrap();
        assert_eq!(registry.events[0].code, "order.paid");
        assert_eq!(
            registry.events[0].schema,
            Some(serde_json::json!({"type": "object", "required": ["amount"]}))
        );
        let unknown = parse::<Registry>("version: 1\nevents: []\nextra: 1\n").unwrap_err();
        assert!(unknown.to_string().contains("extra"), "{unknown}");
    }
}
