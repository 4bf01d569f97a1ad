//! Typed, prefixed identifiers.
//!
//! Each id is a prefix and the 32 hex digits of a UUID v7, so ids sort by creation
//! time both as strings and in an index; lists page on them.

use std::fmt;

use uuid::Uuid;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, Uuid::now_v7().simple()))
            }

            /// Accepts a string that looks like an id of this kind.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                (rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| Self(s.to_owned()))
            }

            /// The smallest id that can be generated at or after `ms` (unix ms): every id
            /// made from then on sorts at or above it, every earlier one below, so a time
            /// range becomes a range of the primary key.
            pub fn time_bound(ms: i64) -> String {
                // A UUID v7 starts with 48 bits of unix milliseconds.
                let ms = ms.clamp(0, (1 << 48) - 1);
                format!("{}{ms:012x}{}", $prefix, "0".repeat(20))
            }

            /// Wraps a value read back from the store, which wrote it.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// One published event; also the `webhook-id` of every delivery of it.
    EventId,
    "evt_"
);
prefixed_id!(
    /// One event on its way to one endpoint.
    DeliveryId,
    "dlv_"
);
prefixed_id!(
    /// An endpoint, stable across renames of its code.
    EndpointId,
    "ep_"
);
prefixed_id!(
    /// One delivering process of a cluster, for as long as it runs.
    WorkerId,
    "wrk_"
);

prefixed_id!(
    /// An API token.
    TokenId,
    "tok_"
);
prefixed_id!(
    /// One request received by the inbound gateway.
    RequestId,
    "req_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation() {
        let a = EventId::generate();
        let b = EventId::generate();
        assert!(a < b);
        assert!(a.as_str().starts_with("evt_"));
    }

    #[test]
    fn time_bounds_order_ids_by_when_they_were_made() {
        let now = crate::clock::now_ms();
        let id = DeliveryId::generate();
        assert!(DeliveryId::time_bound(now - 1).as_str() <= id.as_str());
        assert!(DeliveryId::time_bound(now + 2_000).as_str() > id.as_str());
        assert!(DeliveryId::parse(&DeliveryId::time_bound(now)).is_some());
    }

    #[test]
    fn parse_rejects_other_kinds_and_garbage() {
        let d = DeliveryId::generate();
        assert_eq!(DeliveryId::parse(d.as_str()), Some(d.clone()));
        assert_eq!(EventId::parse(d.as_str()), None);
        assert_eq!(DeliveryId::parse("dlv_nothex"), None);
    }
}
