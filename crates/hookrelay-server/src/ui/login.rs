//! `GET/POST /ui/login` and `POST /ui/logout`.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::csrf::{self, UiForm};
use super::html::{escape, page};
use super::session::{self, UiSession};
use crate::app::AppState;
use crate::auth::{authenticate, hash_token};

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Log in</h1>{error}\
         <p>Use the admin token or a scoped token (<code>hookrelay tokens create</code>).</p>\
         <form method=\"post\" action=\"/ui/login\">\
         <label for=\"token\">API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
         <p><button type=\"submit\">Log in</button></p></form>"
    );
    (status, Html(page("Log in", None, &body))).into_response()
}

/// `GET /ui/login`: the token form.
pub async fn form() -> Response {
    login_page(StatusCode::OK, None)
}

/// `POST /ui/login`: checks the token as the API does, then starts a session.
///
/// There is no session yet, so no CSRF token to check; the `Origin` check still stops
/// another site from logging a browser into an account of its choosing.
pub async fn login(State(state): State<AppState>, headers: HeaderMap, form: UiForm) -> Response {
    if !csrf::same_origin(&headers) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("This request came from another site."),
        );
    }
    let token = form.get("token").map(str::trim).unwrap_or("");
    if token.is_empty() {
        return login_page(StatusCode::UNAUTHORIZED, Some("Enter a token."));
    }
    let caller = match authenticate(&state, token).await {
        Ok(caller) => caller,
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            return login_page(StatusCode::UNAUTHORIZED, Some("That token is not valid."));
        }
        Err(e) => return super::html::UiError(e).into_response(),
    };
    let id = state.ui_sessions().create(caller, hash_token(token));
    let mut response = session::see_other("/ui/overview");
    if let Ok(cookie) = session::set_cookie(&id, secure(&state)).parse() {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// `POST /ui/logout`: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    session: UiSession,
    headers: HeaderMap,
    form: UiForm,
) -> Response {
    if let Err(refused) = csrf::check(&headers, &form, &session.session.csrf) {
        return refused.into_response();
    }
    state.ui_sessions().remove(&session.id);
    let mut response = session::see_other("/ui/login");
    if let Ok(cookie) = session::clear_cookie(secure(&state)).parse() {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// Whether cookies get `Secure`: when this server itself serves HTTPS.
fn secure(state: &AppState) -> bool {
    state.config().tls_cert.is_some()
}
