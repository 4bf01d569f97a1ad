//! The dashboard pages that watch and act on endpoints: the overview (chart, failing
//! endpoints, oldest pending), the endpoints page and its actions (enable, disable,
//! rotate, test event), recovery from a delivery's page, and the delivery log's type
//! and time filters — each action's CSRF check and scope isolation included.

use std::time::Duration;

use serde_json::json;

use super::{Browser, csrf_of, failed_delivery, no_retries};
use crate::support::{Answer, TestApp, TestReceiver, wait_until};

/// A session for a token limited to `scopes`; returns its cookie.
async fn scoped_login(app: &TestApp, b: &Browser<'_>, scopes: &[&str]) -> String {
    let (s, token) = app.post("/tokens", json!({ "scopes": scopes })).await;
    assert_eq!(s, 201, "{token}");
    b.login(token["token"].as_str().unwrap()).await
}

async fn endpoint_enabled(app: &TestApp, scope: &str, code: &str) -> bool {
    let (s, e) = app.get(&format!("/scopes/{scope}/endpoints/{code}")).await;
    assert_eq!(s, 200, "{e}");
    e["enabled"].as_bool().unwrap()
}

#[tokio::test]
async fn the_overview_charts_attempts_and_names_the_failing_endpoint_and_oldest_pending() {
    // One retry an hour away: the failed first attempt leaves the delivery pending.
    let app = TestApp::with(|c| c.retry_schedule = Some("1h".into())).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Answer::status(500));
    app.event_types(&["order.paid"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/hook"), &["*"])
        .await;
    let event = app.publish("order.paid", &["biz:1"], json!({})).await;
    let id = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_until(Duration::from_secs(10), || async {
        let (_, d) = app.get(&format!("/deliveries/{id}")).await;
        (d["attempt_count"].as_u64() == Some(1)).then_some(())
    })
    .await
    .expect("the first attempt is recorded");

    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/overview").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("0 succeeded</span> · "), "{}", page.body);
    assert!(page.body.contains("1 failed</span>"), "{}", page.body);
    assert!(page.body.contains("<svg class=\"chart\""));
    assert!(page.body.contains(": 0 succeeded, 1 failed</title>"));
    assert!(
        page.body.contains("biz:1 / shop</a>"),
        "failing endpoint listed"
    );
    assert!(page.body.contains("<td>1</td>"), "its failure streak");
    assert!(
        page.body
            .contains(&format!("<a href=\"/ui/deliveries/{id}\">{id}</a>")),
        "the oldest pending delivery is linked"
    );
    assert!(
        page.body.contains("No inbound requests"),
        "admins see inbound"
    );
    assert_eq!(
        b.get(Some(&cookie), "/ui").await.location.as_deref(),
        Some("/ui/overview")
    );

    // Another scope's session counts nothing of biz:1, and sees no inbound section.
    let other = scoped_login(&app, &b, &["biz:2"]).await;
    let page = b.get(Some(&other), "/ui/overview").await;
    assert!(
        page.body
            .contains("No delivery attempts in the last 24 hours"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No endpoint is failing"));
    assert!(page.body.contains("Nothing is waiting"));
    assert!(!page.body.contains(&id));
    assert!(!page.body.contains("Inbound requests"));
}

#[tokio::test]
async fn the_endpoints_page_shows_state_subscriptions_success_rate_and_last_attempt() {
    let app = no_retries().await;
    let good = TestReceiver::start().await;
    let bad = TestReceiver::start().await;
    bad.always(Answer::status(500));
    app.event_types(&["order.paid"]).await;
    app.endpoint("biz:1", "good", &good.url("/g"), &["order.*"])
        .await;
    app.endpoint("biz:1", "bad", &bad.url("/b"), &["*"]).await;
    let event = app.publish("order.paid", &["biz:1"], json!({})).await;
    for d in app.deliveries_of(event["id"].as_str().unwrap()).await {
        let want = if d["endpoint"] == "good" {
            "succeeded"
        } else {
            "failed"
        };
        app.wait_for_status(d["id"].as_str().unwrap(), want).await;
    }

    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let empty = b.get(Some(&cookie), "/ui/endpoints?scope=biz:9").await;
    assert!(
        empty.body.contains("No endpoints in biz:9 yet"),
        "{}",
        empty.body
    );
    // Without a scope, the first one with endpoints.
    let page = b.get(Some(&cookie), "/ui/endpoints").await;
    assert_eq!(page.status, 200);
    let row = |code: &str| -> String {
        let start = page
            .body
            .find(&format!("endpoint={code}\">{code}</a>"))
            .unwrap_or_else(|| panic!("a row for {code}: {}", page.body));
        let end = page.body[start..].find("</tr>").unwrap();
        page.body[start..start + end].to_owned()
    };
    let good_row = row("good");
    assert!(good_row.contains(&good.url("/g")));
    assert!(good_row.contains("<code>order.*</code>"));
    assert!(good_row.contains("100.0% of 1"), "{good_row}");
    assert!(
        good_row.contains("status-succeeded\">succeeded"),
        "{good_row}"
    );
    assert!(good_row.contains(">enabled<"));
    let bad_row = row("bad");
    assert!(bad_row.contains("0.0% of 1"), "{bad_row}");
    assert!(bad_row.contains("status-failed\">failed"), "{bad_row}");
    assert!(bad_row.contains("Disable</button>") && bad_row.contains("Rotate secret"));
    assert!(
        bad_row.contains("<option>order.paid</option>"),
        "test event types offered"
    );
}

#[tokio::test]
async fn disabling_and_enabling_need_the_csrf_token_and_change_the_endpoint() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.endpoint("biz:1", "shop", &receiver.url("/h"), &["*"])
        .await;
    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/endpoints?scope=biz:1").await;
    let csrf = csrf_of(&page.body);

    let forged = b
        .post(
            Some(&cookie),
            "/ui/endpoints/biz:1/shop/enabled",
            &[("csrf", "nope"), ("enabled", "false")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let cross_site = b
        .post_with(
            Some(&cookie),
            "/ui/endpoints/biz:1/shop/enabled",
            &[("csrf", &csrf), ("enabled", "false")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    assert!(
        endpoint_enabled(&app, "biz:1", "shop").await,
        "nothing changed"
    );

    let done = b
        .post(
            Some(&cookie),
            "/ui/endpoints/biz:1/shop/enabled",
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let back = done.location.unwrap();
    assert_eq!(
        back,
        "/ui/endpoints?scope=biz%3A1&done=disabled&endpoint=shop"
    );
    assert!(!endpoint_enabled(&app, "biz:1", "shop").await);
    let page = b.get(Some(&cookie), &back).await;
    assert!(
        page.body.contains("Endpoint shop disabled."),
        "{}",
        page.body
    );
    assert!(page.body.contains("disabled</span>: disabled by user"));
    assert!(page.body.contains("Enable</button>"));

    let done = b
        .post(
            Some(&cookie),
            "/ui/endpoints/biz:1/shop/enabled",
            &[("csrf", &csrf), ("enabled", "true")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(endpoint_enabled(&app, "biz:1", "shop").await);
    let missing = b
        .post(
            Some(&cookie),
            "/ui/endpoints/biz:1/nope/enabled",
            &[("csrf", &csrf), ("enabled", "true")],
        )
        .await;
    assert_eq!(missing.status, 404);
    let unclear = b
        .post(
            Some(&cookie),
            "/ui/endpoints/biz:1/shop/enabled",
            &[("csrf", &csrf), ("enabled", "maybe")],
        )
        .await;
    assert_eq!(unclear.status, 422);
}

#[tokio::test]
async fn a_rotated_secret_is_shown_once_and_the_old_one_keeps_signing() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/h"), &["*"])
        .await;
    let (_, before) = app.get("/scopes/biz:1/endpoints/shop/secret").await;
    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let csrf = csrf_of(&b.get(Some(&cookie), "/ui/endpoints").await.body);

    let refused = b
        .post(Some(&cookie), "/ui/endpoints/biz:1/shop/rotate", &[])
        .await;
    assert_eq!(refused.status, 403);
    let (_, unchanged) = app.get("/scopes/biz:1/endpoints/shop/secret").await;
    assert_eq!(unchanged["secret"], before["secret"]);

    let resp = app
        .client
        .post(format!("{}/ui/endpoints/biz:1/shop/rotate", app.base))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let shown = resp.text().await.unwrap();
    let (_, after) = app.get("/scopes/biz:1/endpoints/shop/secret").await;
    let new_secret = after["secret"].as_str().unwrap();
    assert_ne!(after["secret"], before["secret"]);
    assert!(
        shown.contains(&format!("value=\"{new_secret}\"")),
        "{shown}"
    );
    assert!(shown.contains("only time the dashboard shows it"));
    let list = b.get(Some(&cookie), "/ui/endpoints").await;
    assert!(
        !list.body.contains(new_secret),
        "the list never shows a secret"
    );

    // During the grace period both secrets sign.
    app.publish("order.paid", &["biz:1"], json!({})).await;
    let got = receiver.wait_for(1).await;
    let signatures = &got[0].headers["webhook-signature"];
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
}

#[tokio::test]
async fn a_test_event_goes_only_to_the_chosen_endpoint_with_an_example_payload() {
    let app = TestApp::spawn().await;
    let chosen = TestReceiver::start().await;
    let other = TestReceiver::start().await;
    let (s, t) = app
        .put(
            "/event-types/order.paid",
            json!({"name": "Order paid", "schema": {"type": "object", "required": ["order"],
                "properties": {"order": {"type": "integer", "example": 1042}}}}),
        )
        .await;
    assert!(s == 201 || s == 200, "{t}");
    app.endpoint("biz:1", "chosen", &chosen.url("/c"), &["*"])
        .await;
    app.endpoint("biz:1", "other", &other.url("/o"), &["*"])
        .await;
    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let csrf = csrf_of(&b.get(Some(&cookie), "/ui/endpoints").await.body);
    let path = "/ui/endpoints/biz:1/chosen/test";

    let unknown = b
        .post(
            Some(&cookie),
            path,
            &[("csrf", &csrf), ("type", "nope.nope")],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let forged = b
        .post(
            Some(&cookie),
            path,
            &[("csrf", "x"), ("type", "order.paid")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let (_, events) = app.get("/events").await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        0,
        "nothing published"
    );

    let sent = b
        .post(
            Some(&cookie),
            path,
            &[("csrf", &csrf), ("type", "order.paid")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.location.unwrap();
    let event_id = location
        .strip_prefix("/ui/deliveries?event=")
        .expect("to the test event's deliveries");
    let deliveries = app.deliveries_of(event_id).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["endpoint"], "chosen");
    let got = chosen.wait_for(1).await;
    let body = got[0].json();
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"], json!({"order": 1042}), "the schema's example");
    let listed = b.get(Some(&cookie), &location).await;
    assert!(listed.body.contains("biz:1 / chosen"), "{}", listed.body);
}

#[tokio::test]
async fn a_scoped_session_cannot_see_or_change_another_scopes_endpoints() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.endpoint("biz:1", "theirs", &receiver.url("/t"), &["*"])
        .await;
    app.endpoint("biz:2", "mine", &receiver.url("/m"), &["*"])
        .await;
    let b = Browser::new(&app);
    let cookie = scoped_login(&app, &b, &["biz:2"]).await;
    let page = b.get(Some(&cookie), "/ui/endpoints").await;
    assert!(page.body.contains(">mine</a>"), "{}", page.body);
    assert!(!page.body.contains("theirs"));
    assert!(
        !page.body.contains("<option>biz:1</option>"),
        "other scopes are not offered"
    );
    let asked = b.get(Some(&cookie), "/ui/endpoints?scope=biz:1").await;
    assert_eq!(asked.status, 403);
    assert!(!asked.body.contains("theirs"));
    let csrf = csrf_of(&page.body);
    for action in ["enabled", "rotate", "test"] {
        let done = b
            .post(
                Some(&cookie),
                &format!("/ui/endpoints/biz:1/theirs/{action}"),
                &[
                    ("csrf", &csrf),
                    ("type", "order.paid"),
                    ("enabled", "false"),
                ],
            )
            .await;
        assert_eq!(done.status, 403, "{action}");
    }
    assert!(endpoint_enabled(&app, "biz:1", "theirs").await);
}

#[tokio::test]
async fn recovering_from_a_delivery_page_resends_the_endpoints_failures_since_then() {
    let app = no_retries().await;
    let receiver = TestReceiver::start().await;
    let first = failed_delivery(&app, &receiver, "biz:1", "down").await;
    let event = app.publish("order.paid", &["biz:1"], json!({"n": 2})).await;
    let second = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_status(&second, "failed").await;
    receiver.always(Answer::status(200));

    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let page = b
        .get(Some(&cookie), &format!("/ui/deliveries/{first}"))
        .await;
    assert!(page.body.contains("Recover them</button>"));
    assert!(
        page.body
            .contains("&quot;type&quot;: &quot;order.paid&quot;"),
        "the request body"
    );
    let csrf = csrf_of(&page.body);
    let path = format!("/ui/deliveries/{first}/recover");
    let forged = b
        .post(
            Some(&cookie),
            &path,
            &[("csrf", "x"), ("since", "2020-01-01T00:00")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let bad = b
        .post(
            Some(&cookie),
            &path,
            &[("csrf", &csrf), ("since", "last tuesday")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("2026-12-01T10:30"),
        "the error says what to write"
    );
    let (_, d) = app.get(&format!("/deliveries/{first}")).await;
    assert_eq!(d["status"], "failed", "refused actions change nothing");

    let done = b
        .post(
            Some(&cookie),
            &path,
            &[("csrf", &csrf), ("since", "2020-01-01T00:00")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/ui/deliveries?scope=biz%3A1&endpoint=shop&since=2020-01-01T00%3A00")
    );
    app.wait_for_status(&first, "succeeded").await;
    app.wait_for_status(&second, "succeeded").await;
}

#[tokio::test]
async fn the_delivery_log_filters_by_event_type_and_time() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid", "user.created"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/h"), &["*"])
        .await;
    app.publish("order.paid", &["biz:1"], json!({})).await;
    app.publish("user.created", &["biz:1"], json!({})).await;
    let b = Browser::new(&app);
    let cookie = b.login(crate::support::ADMIN).await;
    let rows = |html: &str| html.matches("<tr><td><a href=\"/ui/deliveries/").count();

    let page = b
        .get(Some(&cookie), "/ui/deliveries?type=user.created")
        .await;
    assert_eq!(rows(&page.body), 1, "{}", page.body);
    assert!(page.body.contains("<td>user.created</td>"));
    let all = b
        .get(
            Some(&cookie),
            "/ui/deliveries?since=2020-01-01T00:00&until=2999-01-01T00:00",
        )
        .await;
    assert_eq!(rows(&all.body), 2, "{}", all.body);
    assert!(
        all.body.contains("value=\"2020-01-01T00:00\""),
        "the form keeps the filter"
    );
    let future = b
        .get(Some(&cookie), "/ui/deliveries?since=2999-01-01T00:00")
        .await;
    assert_eq!(rows(&future.body), 0);
    assert!(future.body.contains("No deliveries match these filters"));
    let past = b
        .get(Some(&cookie), "/ui/deliveries?until=2020-01-01T00:00")
        .await;
    assert_eq!(rows(&past.body), 0);
    let bad = b.get(Some(&cookie), "/ui/deliveries?since=soon").await;
    assert_eq!(bad.status, 422);
}
