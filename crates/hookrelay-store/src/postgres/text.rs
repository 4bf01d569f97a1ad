//! PostgreSQL `TEXT` cannot hold the NUL character, which SQLite stores as it is. Text
//! that comes from outside — a receiver's response body, an error, an inbound
//! request's deduplication key, an idempotency key — would otherwise fail the
//! transaction it is written in (and so its command), so the hot-path writes are made
//! storable before they are queued: a NUL becomes U+FFFD.

use crate::model::{AttemptResult, NewEvent, NewInbound};

/// Replaces every NUL of `s` with U+FFFD.
fn clean(s: &mut String) {
    if s.contains('\0') {
        *s = s.replace('\0', "\u{FFFD}");
    }
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

pub(crate) fn event(e: &mut NewEvent) {
    if let Some(k) = &mut e.idempotency_key {
        clean(&mut k.namespace);
        clean(&mut k.key);
    }
}

pub(crate) fn inbound(r: &mut NewInbound) {
    clean_opt(&mut r.reason);
    clean_opt(&mut r.client_ip);
    clean_opt(&mut r.dedupe_key);
    if let Some(e) = &mut r.publish {
        event(e);
    }
}

pub(crate) fn attempt(r: &mut AttemptResult) {
    clean(&mut r.attempt.url);
    clean_opt(&mut r.attempt.error);
    clean_opt(&mut r.attempt.response_body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced_and_other_text_kept() {
        let mut s = "a\0b".to_owned();
        clean(&mut s);
        assert_eq!(s, "a\u{FFFD}b");
        let mut s = Some("plain".to_owned());
        clean_opt(&mut s);
        assert_eq!(s.as_deref(), Some("plain"));
    }
}
