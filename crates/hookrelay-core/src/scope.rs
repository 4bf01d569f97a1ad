//! Scopes: who endpoints belong to.

use std::fmt;

use crate::FieldError;

/// A validated scope such as `biz:biz1` or `tenant-42`: 1 to 128 of `[A-Za-z0-9._:-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// Validates a scope string.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "scope",
                format!("invalid scope {s:?}: use 1 to 128 characters of A-Z a-z 0-9 . _ : -"),
            ))
        }
    }

    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typed_and_plain_scopes() {
        assert!(Scope::parse("biz:biz1").is_ok());
        assert!(Scope::parse("tenant-42").is_ok());
    }

    #[test]
    fn rejects_empty_long_and_odd_characters() {
        assert!(Scope::parse("").is_err());
        assert!(Scope::parse(&"a".repeat(129)).is_err());
        assert!(Scope::parse("a/b").is_err());
        assert!(Scope::parse("a b").is_err());
    }
}
