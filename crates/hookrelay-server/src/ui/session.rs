//! Dashboard sessions: a random id in an HttpOnly cookie, mapped in memory to the caller
//! who logged in and the session's CSRF token.
//!
//! Sessions live in this process only: a restart logs everyone out, and on a multi-node
//! deployment a browser must stick to one node. That keeps tokens out of cookies and out
//! of the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::html::UiError;
use crate::app::AppState;
use crate::auth::{Caller, authenticate_hash};

/// The cookie's name.
pub const COOKIE_NAME: &str = "hookrelay_session";

/// How long a session lasts after login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Most sessions kept at once, so a flood of logins cannot grow memory without bound.
const MAX_SESSIONS: usize = 10_000;

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who logged in (admin or scopes), as the API's bearer check would see them.
    pub caller: Caller,
    /// The stored form of the token used to log in, so each request can check that the
    /// token still exists (a revocation ends the session within the token cache's TTL).
    token_hash: String,
    /// The token every state-changing form must carry.
    pub csrf: String,
    expires: Instant,
}

/// Every live session, by id.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for `caller`, who logged in with the token hashed as `token_hash`;
    /// returns its id (the cookie's value).
    pub fn create(&self, caller: Caller, token_hash: String) -> String {
        let id = random_token();
        let session = Session {
            caller,
            token_hash,
            csrf: random_token(),
            expires: Instant::now() + SESSION_TTL,
        };
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if live.len() >= MAX_SESSIONS {
            let now = Instant::now();
            live.retain(|_, s| s.expires > now);
        }
        if live.len() >= MAX_SESSIONS {
            // Still full of live sessions: drop them all rather than refuse new logins.
            live.clear();
        }
        live.insert(id.clone(), session);
        id
    }

    /// The live session with this id, if any (an expired one is removed).
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                live.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// 256 random bits, URL-safe base64: unguessable, and safe in a cookie or a form field.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The session cookie's value in a request, if present.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that stores `id`. `Secure` only when this server serves TLS
/// itself, or browsers would drop the cookie on plain-HTTP local setups.
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={id}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    )
}

/// The `Set-Cookie` value that deletes the cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0{secure}")
}

/// A 303 to `location` (after a form, so the browser follows with a GET).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// A request's session; without a valid one the request is redirected to the login page.
pub struct UiSession {
    /// The cookie's value.
    pub id: String,
    /// The session it names.
    pub session: Session,
}

impl FromRequestParts<AppState> for UiSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let found =
            session_id(&parts.headers).and_then(|id| state.ui_sessions().get(&id).map(|s| (id, s)));
        let Some((id, mut session)) = found else {
            return Err(see_other("/ui/login"));
        };
        match authenticate_hash(state, session.token_hash.clone()).await {
            // What the token allows now, exactly as the API would see it on this request.
            Ok(caller) => {
                session.caller = caller;
                Ok(UiSession { id, session })
            }
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
                state.ui_sessions().remove(&id);
                Err(see_other("/ui/login"))
            }
            Err(e) => Err(UiError(e).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_found_by_id_and_end_on_remove() {
        let sessions = Sessions::default();
        let id = sessions.create(Caller { scopes: None }, "h".into());
        assert_ne!(id, sessions.create(Caller { scopes: None }, "h".into()));
        let s = sessions.get(&id).unwrap();
        assert!(s.caller.is_admin());
        assert_eq!(s.csrf.len(), 43);
        sessions.remove(&id);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; hookrelay_session=abc; b=2".parse().unwrap());
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        assert!(set_cookie("x", true).ends_with("; Secure"));
        assert!(!set_cookie("x", false).contains("Secure"));
    }
}
