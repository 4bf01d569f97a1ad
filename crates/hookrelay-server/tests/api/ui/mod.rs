//! The dashboard under `/ui`, one file per page or concern, and what its tests share: a
//! browser without a cookie jar (cookies are handled by hand and no redirect is followed,
//! so every header a browser would see is checked).

mod browser;
mod catalog;
mod events;
mod headers;
mod inbound;
mod manage;
mod sessions;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

use serde_json::json;

use crate::support::{Answer, TestApp, TestReceiver};

/// What a page answered.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) set_cookie: Option<String>,
    pub(crate) body: String,
}

/// A browser without a cookie jar, in front of a test server.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { app, http }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let resp = req.send().await.expect("request sent");
        let header = |name| {
            resp.headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let location = header(LOCATION);
        let set_cookie = header(SET_COOKIE);
        Page {
            status: resp.status().as_u16(),
            location,
            set_cookie,
            body: resp.text().await.expect("body"),
        }
    }

    pub(crate) async fn get(&self, cookie: Option<&str>, path: &str) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.app.base));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        self.send(req).await
    }

    pub(crate) async fn post(
        &self,
        cookie: Option<&str>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        self.post_with(cookie, path, fields, None).await
    }

    pub(crate) async fn post_with(
        &self,
        cookie: Option<&str>,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        self.send(req).await
    }

    /// Logs in with `token`; returns the `Cookie` header to send afterwards.
    pub(crate) async fn login(&self, token: &str) -> String {
        let page = self.post(None, "/ui/login", &[("token", token)]).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/ui/overview"));
        let set = page.set_cookie.expect("a session cookie");
        set.split(';').next().unwrap().to_owned()
    }
}

/// The CSRF token in a page's forms.
pub(crate) fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

/// The target of a page's `rel="next"` link, unescaped, if it has one.
pub(crate) fn next_href(html: &str) -> Option<String> {
    let marker = "rel=\"next\" href=\"";
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].replace("&amp;", "&"))
}

/// Asserts that each path sends a browser without a session, or with a forged one, to
/// the login page.
pub(crate) async fn assert_login_required(app: &TestApp, paths: &[&str]) {
    let b = Browser::new(app);
    for path in paths {
        for cookie in [None, Some("hookrelay_session=forged")] {
            let page = b.get(cookie, path).await;
            assert_eq!(page.status, 303, "{path}");
            assert_eq!(page.location.as_deref(), Some("/ui/login"), "{path}");
        }
    }
}

/// A server whose receiver at scope `scope` fails once (500, `body`), no retries; returns
/// the delivery's id once it is `failed`.
pub(crate) async fn failed_delivery(
    app: &TestApp,
    receiver: &TestReceiver,
    scope: &str,
    body: &str,
) -> String {
    receiver.always(Answer::status(500).with_body(body));
    app.event_types(&["order.paid"]).await;
    app.endpoint(scope, "shop", &receiver.url("/hook"), &["*"])
        .await;
    let event = app.publish("order.paid", &[scope], json!({"n": 1})).await;
    let deliveries = app.deliveries_of(event["id"].as_str().unwrap()).await;
    let id = deliveries[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&id, "failed").await;
    id
}

/// A server that makes one attempt per delivery.
pub(crate) async fn no_retries() -> TestApp {
    TestApp::with(|c| c.retry_schedule = Some(String::new())).await
}
