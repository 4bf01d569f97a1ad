//! The dashboard's event log and event page: filters, find by id or idempotency key,
//! pagination, scope isolation, escaping and empty states.

use serde_json::{Value, json};

use super::{Browser, assert_login_required, next_href};
use crate::support::{ADMIN, TestApp, TestReceiver};

/// Publishes through the API with an idempotency key; returns the answer.
async fn publish_keyed(app: &TestApp, event_type: &str, scopes: &[&str], key: &str) -> Value {
    let (s, body) = app
        .post(
            "/events",
            json!({"type": event_type, "scopes": scopes, "data": {"key": key}, "idempotency_key": key}),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    body
}

fn id_of(answer: &Value) -> String {
    answer["id"].as_str().expect("an event id").to_owned()
}

/// The event ids a page lists, in order.
fn listed(html: &str) -> Vec<String> {
    let marker = "<a href=\"/ui/events/";
    html.match_indices(marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn event_pages_send_a_logged_out_browser_to_login() {
    let app = TestApp::spawn().await;
    assert_login_required(&app, &["/ui/events", "/ui/events/evt_0"]).await;
}

#[tokio::test]
async fn the_log_lists_events_newest_first_and_filters_them() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid", "order.refunded"]).await;
    let paid = id_of(&publish_keyed(&app, "order.paid", &["biz:1"], "order-41").await);
    let refunded = id_of(&publish_keyed(&app, "order.refunded", &["biz:1"], "order-42").await);
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let all = b.get(Some(&cookie), "/ui/events").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(listed(&all.body), [refunded.as_str(), paid.as_str()]);
    assert!(all.body.contains("<th scope=\"col\">Idempotency key</th>"));
    assert!(all.body.contains("<td>order-41</td>"), "{}", all.body);
    assert!(all.body.contains("href=\"/ui/catalog/order.paid\""));
    assert!(all.body.contains("<label for=\"f-find\">"), "{}", all.body);
    assert!(all.body.contains("type=\"datetime-local\""));
    assert!(
        all.body.contains("History goes back 30d"),
        "the page says how far back history goes: {}",
        all.body
    );

    let by_type = b.get(Some(&cookie), "/ui/events?type=order.paid").await;
    assert_eq!(listed(&by_type.body), [paid.as_str()]);
    let by_scope = b.get(Some(&cookie), "/ui/events?scope=biz%3A2").await;
    assert!(listed(&by_scope.body).is_empty());
    assert!(by_scope.body.contains("No events match these filters"));

    // Time range: the bound is inclusive at `since` and exclusive at `until`.
    let (_, shown) = app.get(&format!("/events/{refunded}")).await;
    let at = shown["timestamp"].as_str().unwrap().replace(':', "%3A");
    let since = b
        .get(Some(&cookie), &format!("/ui/events?since={at}"))
        .await;
    assert!(listed(&since.body).contains(&refunded), "{}", since.body);
    let until = b
        .get(Some(&cookie), &format!("/ui/events?until={at}"))
        .await;
    assert!(!listed(&until.body).contains(&refunded), "{}", until.body);
    for (query, expect) in [
        ("since=2000-01-01T00%3A00", 2),
        ("until=2000-01-01T00%3A00", 0),
        ("since=2999-01-01T00%3A00", 0),
    ] {
        let page = b.get(Some(&cookie), &format!("/ui/events?{query}")).await;
        assert_eq!(listed(&page.body).len(), expect, "{query}: {}", page.body);
    }
    let page = b
        .get(Some(&cookie), "/ui/events?since=2000-01-01T00%3A00")
        .await;
    assert!(
        page.body.contains("value=\"2000-01-01T00:00\""),
        "the form keeps the time: {}",
        page.body
    );
    let bad = b.get(Some(&cookie), "/ui/events?since=yesterday").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("2026-12-01T10:30"), "{}", bad.body);
}

#[tokio::test]
async fn find_takes_an_event_id_or_an_idempotency_key() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let first = id_of(&publish_keyed(&app, "order.paid", &["biz:1"], "order-41").await);
    let second = id_of(&publish_keyed(&app, "order.paid", &["biz:1"], "order-42").await);
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let by_key = b.get(Some(&cookie), "/ui/events?find=order-42").await;
    assert_eq!(listed(&by_key.body), [second.as_str()]);
    let by_id = b
        .get(Some(&cookie), &format!("/ui/events?find={first}"))
        .await;
    assert_eq!(listed(&by_id.body), [first.as_str()]);
    assert!(by_id.body.contains(&format!("value=\"{first}\"")));
    // The other filters still apply to an id.
    let narrowed = b
        .get(
            Some(&cookie),
            &format!("/ui/events?find={first}&type=order.refunded"),
        )
        .await;
    assert!(listed(&narrowed.body).is_empty());
    for missing in ["order-43", "evt_0000"] {
        let page = b
            .get(Some(&cookie), &format!("/ui/events?find={missing}"))
            .await;
        assert_eq!(page.status, 200);
        assert!(listed(&page.body).is_empty(), "{missing}");
        assert!(page.body.contains("No events match these filters"));
    }
}

#[tokio::test]
async fn an_event_page_shows_the_payload_and_links_its_deliveries() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    app.event_types(&["order.paid"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/hook"), &["*"])
        .await;
    let (s, event) = app
        .post(
            "/events",
            json!({
                "type": "order.paid",
                "scopes": ["biz:1"],
                "data": {"amount": 42, "note": "<script>alert(1)</script>"},
                "idempotency_key": "<b>key</b>"
            }),
        )
        .await;
    assert_eq!(s, 202, "{event}");
    let id = id_of(&event);
    let delivery = app.deliveries_of(&id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let page = b.get(Some(&cookie), &format!("/ui/events/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert!(html.contains(&format!("<code>{id}</code>")), "{html}");
    assert!(
        html.contains("<a href=\"/ui/catalog/order.paid\">order.paid</a>"),
        "{html}"
    );
    assert!(html.contains(">biz:1</a>"), "{html}");
    assert!(html.contains("&lt;b&gt;key&lt;/b&gt;"), "{html}");
    assert!(html.contains("<time datetime=\""), "{html}");
    // Pretty-printed and escaped.
    assert!(html.contains("\n  &quot;amount&quot;: 42"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<b>key"),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/ui/deliveries/{delivery}\"")),
        "{html}"
    );
    assert!(html.contains("biz:1 / shop"), "{html}");

    let list = b.get(Some(&cookie), "/ui/events").await;
    assert!(
        list.body.contains("&lt;b&gt;key&lt;/b&gt;"),
        "{}",
        list.body
    );
    assert!(!list.body.contains("<b>key"), "{}", list.body);

    let missing = b.get(Some(&cookie), "/ui/events/evt_0000").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn empty_logs_say_how_to_publish() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/events").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No events yet"), "{}", page.body);
    assert!(page.body.contains("hookrelay send"), "{}", page.body);

    // An event no endpoint receives: its page says why there is nothing to show.
    let id = id_of(&app.publish("order.paid", &["nobody"], json!({})).await);
    let page = b.get(Some(&cookie), &format!("/ui/events/{id}")).await;
    assert!(page.body.contains("No deliveries"), "{}", page.body);
    assert!(page.body.contains("subscriptions apply"), "{}", page.body);
}

#[tokio::test]
async fn a_scoped_session_sees_only_events_of_its_scopes() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid"]).await;
    let mine = id_of(&publish_keyed(&app, "order.paid", &["tenant-a"], "key-a").await);
    let theirs = id_of(&publish_keyed(&app, "order.paid", &["tenant-b"], "key-b").await);
    let shared =
        id_of(&publish_keyed(&app, "order.paid", &["tenant-a", "tenant-b"], "key-ab").await);
    let (s, token) = app.post("/tokens", json!({"scopes": ["tenant-a"]})).await;
    assert_eq!(s, 201, "{token}");
    let b = Browser::new(&app);
    let cookie = b.login(token["token"].as_str().unwrap()).await;

    let list = b.get(Some(&cookie), "/ui/events").await;
    assert_eq!(listed(&list.body), [shared.as_str(), mine.as_str()]);
    assert!(
        !list.body.contains("tenant-b"),
        "another tenant's scope is never named: {}",
        list.body
    );
    let asked = b.get(Some(&cookie), "/ui/events?scope=tenant-b").await;
    assert_eq!(asked.status, 403);
    assert!(!asked.body.contains(&theirs));
    for find in [theirs.as_str(), "key-b"] {
        let page = b
            .get(Some(&cookie), &format!("/ui/events?find={find}"))
            .await;
        assert!(listed(&page.body).is_empty(), "{find}: {}", page.body);
    }
    let detail = b.get(Some(&cookie), &format!("/ui/events/{theirs}")).await;
    assert_eq!(detail.status, 404);
    assert!(!detail.body.contains("key-b"));
    let detail = b.get(Some(&cookie), &format!("/ui/events/{shared}")).await;
    assert_eq!(detail.status, 200);
    assert!(!detail.body.contains("tenant-b"), "{}", detail.body);
}

#[tokio::test]
async fn the_log_pages_with_cursors_and_keeps_its_filters() {
    let app = TestApp::spawn().await;
    app.event_types(&["a", "b"]).await;
    app.publish("b", &["biz:1"], json!({})).await;
    for n in 0..51 {
        app.publish("a", &["biz:1"], json!({ "n": n })).await;
    }
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let first = b.get(Some(&cookie), "/ui/events?type=a").await;
    assert_eq!(listed(&first.body).len(), 50);
    let next = next_href(&first.body).expect("a next link");
    assert!(next.starts_with("/ui/events?type=a&cursor=evt_"), "{next}");
    let second = b.get(Some(&cookie), &next).await;
    assert_eq!(listed(&second.body).len(), 1, "{}", second.body);
    assert!(next_href(&second.body).is_none());
    assert!(
        !second.body.contains("href=\"/ui/catalog/b\""),
        "still only type a"
    );
}
