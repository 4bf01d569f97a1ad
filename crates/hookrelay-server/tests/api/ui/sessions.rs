//! The dashboard under `/ui`: login and sessions, CSRF, the deliveries list and detail,
//! retry, scope isolation and escaping. Cookies are handled by hand (the client keeps
//! none and follows no redirects), so every header the browser would see is checked.

use std::time::Duration;

use serde_json::json;

use super::{Browser, csrf_of, failed_delivery, no_retries};
use crate::support::{ADMIN, Answer, TestApp, TestReceiver, wait_until};

#[tokio::test]
async fn a_wrong_token_sets_no_cookie_and_says_so() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let form = b.get(None, "/ui/login").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"token\""), "{}", form.body);
    let page = b.post(None, "/ui/login", &[("token", "hr_wrong")]).await;
    assert_eq!(page.status, 401);
    assert!(page.set_cookie.is_none());
    assert!(
        page.body.contains("That token is not valid."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_login_posted_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let page = b
        .post_with(
            None,
            "/ui/login",
            &[("token", ADMIN)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(page.set_cookie.is_none());
}

#[tokio::test]
async fn the_admin_token_starts_a_session_in_a_strict_http_only_cookie() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let page = b.post(None, "/ui/login", &[("token", ADMIN)]).await;
    assert_eq!(page.status, 303);
    let set = page.set_cookie.expect("cookie");
    assert!(set.starts_with("hookrelay_session="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
    // Plain HTTP: a Secure cookie would never come back.
    assert!(!set.contains("Secure"), "{set}");
    let value = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hookrelay_session=");
    assert!(
        value.len() >= 43,
        "the session id is long and random: {value}"
    );
    assert!(!value.contains(ADMIN));
}

#[tokio::test]
async fn pages_without_a_valid_session_redirect_to_login() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    for path in ["/ui", "/ui/deliveries", "/ui/deliveries/dlv_0"] {
        for cookie in [None, Some("hookrelay_session=forged")] {
            let page = b.get(cookie, path).await;
            assert_eq!(page.status, 303, "{path}");
            let want = if path == "/ui" {
                "/ui/overview"
            } else {
                "/ui/login"
            };
            assert_eq!(page.location.as_deref(), Some(want), "{path}");
        }
    }
    let page = b
        .post(None, "/ui/deliveries/dlv_0/retry", &[("csrf", "x")])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/ui/login"));
}

#[tokio::test]
async fn an_empty_log_says_how_to_publish() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/deliveries").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No deliveries yet"), "{}", page.body);
    assert!(page.body.contains("hookrelay send"), "{}", page.body);
    assert!(page.body.contains("<main>") && page.body.contains("<nav>"));
    assert!(page.body.contains("name=\"viewport\""));
}

#[tokio::test]
async fn a_failed_delivery_is_listed_and_its_detail_shows_the_escaped_answer() {
    let app = no_retries().await;
    let receiver = TestReceiver::start().await;
    let id = failed_delivery(&app, &receiver, "biz:1", "<script>alert(1)</script>").await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let list = b.get(Some(&cookie), "/ui/deliveries").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(&format!("/ui/deliveries/{id}")),
        "{}",
        list.body
    );
    assert!(list.body.contains("order.paid") && list.body.contains("biz:1 / shop"));
    assert!(list.body.contains(">failed<"), "{}", list.body);
    assert!(list.body.contains("<th scope=\"col\">Attempts</th>"));

    let filtered = b
        .get(Some(&cookie), "/ui/deliveries?status=succeeded&scope=")
        .await;
    assert!(
        filtered.body.contains("No deliveries match these filters"),
        "{}",
        filtered.body
    );
    let filtered = b
        .get(Some(&cookie), "/ui/deliveries?status=failed&scope=biz%3A1")
        .await;
    assert!(filtered.body.contains(&id), "{}", filtered.body);

    let detail = b.get(Some(&cookie), &format!("/ui/deliveries/{id}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("<td>500</td>"), "{}", detail.body);
    assert!(
        detail
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        detail.body
    );
    assert!(!detail.body.contains("<script>"), "{}", detail.body);
    assert!(
        detail.body.contains("webhook-id"),
        "request headers are shown"
    );
}

#[tokio::test]
async fn the_list_pages_with_cursors() {
    let app = no_retries().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["a"]).await;
    app.endpoint("biz:1", "e", &receiver.url("/e"), &["*"])
        .await;
    for n in 0..51 {
        app.publish("a", &["biz:1"], json!({ "n": n })).await;
    }
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let first = b.get(Some(&cookie), "/ui/deliveries?scope=biz%3A1").await;
    assert_eq!(first.body.matches("<tr><td>").count(), 50);
    let marker = "rel=\"next\" href=\"";
    let start = first.body.find(marker).expect("a next link") + marker.len();
    let len = first.body[start..].find('"').unwrap();
    let next = first.body[start..start + len].replace("&amp;", "&");
    assert!(next.contains("scope=biz%3A1&cursor=dlv_"), "{next}");
    let second = b.get(Some(&cookie), &next).await;
    assert_eq!(
        second.body.matches("<tr><td>").count(),
        1,
        "{}",
        second.body
    );
    assert!(!second.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn retry_needs_the_csrf_token_and_then_delivers_again() {
    let app = no_retries().await;
    let receiver = TestReceiver::start().await;
    let id = failed_delivery(&app, &receiver, "biz:1", "down").await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let detail = b.get(Some(&cookie), &format!("/ui/deliveries/{id}")).await;
    let csrf = csrf_of(&detail.body);
    let retry = format!("/ui/deliveries/{id}/retry");

    let refused = b.post(Some(&cookie), &retry, &[]).await;
    assert_eq!(refused.status, 403);
    let refused = b
        .post(Some(&cookie), &retry, &[("csrf", "not-the-token")])
        .await;
    assert_eq!(refused.status, 403);
    let refused = b
        .post_with(
            Some(&cookie),
            &retry,
            &[("csrf", &csrf)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(refused.status, 403, "another site's Origin");
    let (_, d) = app.get(&format!("/deliveries/{id}")).await;
    assert_eq!(d["status"], "failed", "nothing re-queued: {d}");
    assert_eq!(receiver.received().len(), 1);

    receiver.always(Answer::status(200));
    let own_origin = app.base.clone();
    let done = b
        .post_with(Some(&cookie), &retry, &[("csrf", &csrf)], Some(&own_origin))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location, Some(format!("/ui/deliveries/{id}")));
    receiver.wait_for(2).await;
    let shown = wait_until(Duration::from_secs(15), || async {
        let page = b.get(Some(&cookie), &format!("/ui/deliveries/{id}")).await;
        page.body.contains(">succeeded<").then_some(page)
    })
    .await
    .expect("the detail page shows succeeded");
    assert!(shown.body.contains("Attempt 2"), "{}", shown.body);
}

#[tokio::test]
async fn a_scoped_session_sees_only_its_scopes() {
    let app = no_retries().await;
    let receiver = TestReceiver::start().await;
    let theirs = failed_delivery(&app, &receiver, "theirs", "x").await;
    app.endpoint("mine", "shop", &receiver.url("/mine"), &["*"])
        .await;
    let event = app.publish("order.paid", &["mine"], json!({})).await;
    let mine = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, token) = app.post("/tokens", json!({"scopes": ["mine"]})).await;
    assert_eq!(s, 201, "{token}");
    let b = Browser::new(&app);
    let cookie = b.login(token["token"].as_str().unwrap()).await;

    let list = b.get(Some(&cookie), "/ui/deliveries").await;
    assert!(list.body.contains(&mine), "{}", list.body);
    assert!(!list.body.contains(&theirs), "{}", list.body);
    let asked = b.get(Some(&cookie), "/ui/deliveries?scope=theirs").await;
    assert_eq!(asked.status, 403);
    assert!(!asked.body.contains(&theirs));
    let detail = b
        .get(Some(&cookie), &format!("/ui/deliveries/{theirs}"))
        .await;
    assert_eq!(detail.status, 404);
    let mine_page = b
        .get(Some(&cookie), &format!("/ui/deliveries/{mine}"))
        .await;
    let csrf = csrf_of(&mine_page.body);
    let retry = b
        .post(
            Some(&cookie),
            &format!("/ui/deliveries/{theirs}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(retry.status, 404);
    let (_, d) = app.get(&format!("/deliveries/{theirs}")).await;
    assert_eq!(d["status"], "failed", "{d}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/deliveries").await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.body);

    let refused = b.post(Some(&cookie), "/ui/logout", &[]).await;
    assert_eq!(refused.status, 403, "logout is a form like the others");
    let out = b
        .post(Some(&cookie), "/ui/logout", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/ui/login"));
    let cleared = out.set_cookie.expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = b.get(Some(&cookie), "/ui/deliveries").await;
    assert_eq!(after.status, 303);
    assert_eq!(after.location.as_deref(), Some("/ui/login"));
}

#[tokio::test]
async fn revoking_the_token_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let (s, token) = app.post("/tokens", json!({"scopes": ["mine"]})).await;
    assert_eq!(s, 201, "{token}");
    let b = Browser::new(&app);
    let cookie = b.login(token["token"].as_str().unwrap()).await;
    assert_eq!(b.get(Some(&cookie), "/ui/deliveries").await.status, 200);
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/tokens/{}", token["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let after = b.get(Some(&cookie), "/ui/deliveries").await;
    assert_eq!(after.status, 303);
    assert_eq!(after.location.as_deref(), Some("/ui/login"));
}
