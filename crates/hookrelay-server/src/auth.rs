//! Bearer tokens: who is calling and which scopes they may touch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hookrelay_core::scope::Scope;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::http::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `None`: an admin token, every scope. `Some`: only these scopes.
    pub scopes: Option<Vec<String>>,
}

impl Caller {
    /// Whether the token is an admin token.
    pub fn is_admin(&self) -> bool {
        self.scopes.is_none()
    }

    /// 403 unless the caller holds an admin token.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the admin token"))
        }
    }

    /// 403 unless the caller may act on `scope`.
    pub fn check_scope(&self, scope: &Scope) -> Result<(), ApiError> {
        if self.may_see(scope.as_str()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token cannot act on scope {scope}"
            )))
        }
    }

    /// The namespace the caller's idempotency keys are unique in: `admin` for the admin
    /// token, `scopes:` and the sorted scopes for a scoped token. Tokens minted for the
    /// same scopes share one (a replaced token keeps deduplicating); any other caller's
    /// key never matches, so it neither suppresses nor reveals their events.
    pub fn idempotency_namespace(&self) -> String {
        match &self.scopes {
            None => "admin".to_owned(),
            Some(scopes) => {
                let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
                sorted.sort_unstable();
                sorted.dedup();
                format!("scopes:{}", sorted.join(","))
            }
        }
    }

    /// Whether the caller may see rows of `scope`.
    pub fn may_see(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == scope))
    }
}

/// A new random token (`hr_` and 32 random bytes, URL-safe base64).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("hr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: SHA-256, hex. Tokens are 256 random bits, so a fast
/// hash is enough (no dictionary to guess from).
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long a token looked up in the database is trusted without looking again, so a
/// revocation made by another process takes effect within this time (this process
/// clears the cache at once).
const TOKEN_TTL: Duration = Duration::from_secs(10);

/// Known token hashes, so most requests skip the database.
#[derive(Default)]
pub struct TokenCache {
    known: Mutex<HashMap<String, (Caller, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Caller> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_TTL)
            .map(|(c, _)| c.clone())
    }

    fn put(&self, hash: String, caller: Caller) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a flood of distinct valid tokens cannot grow it without limit.
        if known.len() > 10_000 {
            known.clear();
        }
        known.insert(hash, (caller, Instant::now()));
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be \"Bearer <token>\"")
            })?;
        authenticate(state, token).await
    }
}

/// Who `token` belongs to: the admin, a scoped token's scopes, or 401. Shared by the
/// bearer extractor and the dashboard's login, so both accept exactly the same tokens.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    authenticate_hash(state, hash_token(token)).await
}

/// [`authenticate`] from the token's stored form (the dashboard keeps only the hash in
/// its sessions, and re-checks it on every page so a revoked token logs the session out).
pub async fn authenticate_hash(state: &AppState, hash: String) -> Result<Caller, ApiError> {
    if state.admin_hash() == Some(hash.as_str()) {
        return Ok(Caller { scopes: None });
    }
    if let Some(caller) = state.tokens().get(&hash) {
        return Ok(caller);
    }
    match state.store().find_token(&hash).await? {
        Some(record) => {
            let caller = Caller {
                scopes: record.scopes,
            };
            state.tokens().put(hash, caller.clone());
            Ok(caller)
        }
        None => Err(ApiError::unauthorized("invalid token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_are_stable() {
        let a = generate_token();
        assert!(a.starts_with("hr_"));
        assert_ne!(a, generate_token());
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_eq!(hash_token("x").len(), 64);
    }

    #[test]
    fn scoped_callers_see_only_their_scopes() {
        let c = Caller {
            scopes: Some(vec!["biz:1".into()]),
        };
        assert!(c.check_scope(&Scope::parse("biz:1").unwrap()).is_ok());
        assert_eq!(
            c.check_scope(&Scope::parse("biz:2").unwrap())
                .unwrap_err()
                .status(),
            403
        );
        assert!(c.require_admin().is_err());
        assert!(Caller { scopes: None }.require_admin().is_ok());
    }
}
