//! The dashboard's event type catalog: every type with its schema and a generated
//! example payload, archived types on request, open to every session.

use serde_json::json;

use super::{Browser, assert_login_required, next_href};
use crate::support::{ADMIN, TestApp};

/// Registers `order.paid` with a schema and a hostile description.
async fn order_paid(app: &TestApp) {
    let (s, body) = app
        .put(
            "/event-types/order.paid",
            json!({
                "name": "Order paid",
                "description": "Sent when <script>alert('paid')</script> settles",
                "schema": {
                    "type": "object",
                    "required": ["amount"],
                    "properties": {
                        "amount": {"type": "integer", "minimum": 1},
                        "currency": {"enum": ["EUR", "USD"]},
                        "paid_at": {"type": "string", "format": "date-time"},
                        "buyer": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
                        "note": {"type": "string", "examples": ["gift wrap"]}
                    }
                }
            }),
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

#[tokio::test]
async fn catalog_pages_send_a_logged_out_browser_to_login() {
    let app = TestApp::spawn().await;
    assert_login_required(&app, &["/ui/catalog", "/ui/catalog/order.paid"]).await;
}

#[tokio::test]
async fn a_type_shows_its_schema_and_an_example_built_from_it() {
    let app = TestApp::spawn().await;
    order_paid(&app).await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/catalog").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert!(html.contains("<code>order.paid</code>"), "{html}");
    assert!(html.contains("Order paid"), "{html}");
    assert!(
        html.contains("Sent when &lt;script&gt;alert(&#39;paid&#39;)&lt;/script&gt; settles"),
        "the description is escaped: {html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("<th scope=\"col\">Code</th>"), "{html}");
    // The schema, pretty-printed (quotes escaped like every other value).
    assert!(
        html.contains("&quot;format&quot;: &quot;date-time&quot;"),
        "{html}"
    );
    // The example: the minimum, the first enum value, a fixed time, an example email,
    // and the author's own example.
    for shown in [
        "&quot;amount&quot;: 1",
        "&quot;currency&quot;: &quot;EUR&quot;",
        "&quot;paid_at&quot;: &quot;2026-01-01T12:00:00Z&quot;",
        "&quot;email&quot;: &quot;user@example.com&quot;",
        "&quot;note&quot;: &quot;gift wrap&quot;",
    ] {
        assert!(html.contains(shown), "{shown} missing: {html}");
    }
    assert!(
        html.contains("href=\"/ui/events?type=order.paid\""),
        "{html}"
    );

    // The built-in operational types are listed apart, with their own examples.
    assert!(html.contains("Operational event types"), "{html}");
    for code in ["endpoint.disabled", "endpoint.recovered", "delivery.failed"] {
        assert!(html.contains(&format!("<code>{code}</code>")), "{code}");
    }
    assert!(html.contains("hookrelay:system"), "{html}");

    let one = b.get(Some(&cookie), "/ui/catalog/order.paid").await;
    assert_eq!(one.status, 200);
    assert!(one.body.contains("&quot;amount&quot;: 1"), "{}", one.body);
    let missing = b.get(Some(&cookie), "/ui/catalog/order.lost").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn archived_types_show_only_when_asked_for() {
    let app = TestApp::spawn().await;
    app.event_types(&["order.paid", "order.old"]).await;
    let (s, _) = app
        .call(reqwest::Method::DELETE, "/event-types/order.old", None)
        .await;
    assert_eq!(s, 204);
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;

    let live = b.get(Some(&cookie), "/ui/catalog").await;
    assert!(
        live.body.contains("<code>order.paid</code>"),
        "{}",
        live.body
    );
    assert!(!live.body.contains("order.old"), "{}", live.body);
    assert!(
        live.body
            .contains("<label for=\"f-archived\">Include archived types"),
        "{}",
        live.body
    );

    let all = b.get(Some(&cookie), "/ui/catalog?archived=true").await;
    assert!(all.body.contains("<code>order.old</code>"), "{}", all.body);
    assert!(all.body.contains("Archived:"), "{}", all.body);
    assert!(all.body.contains(" checked>"), "the box stays ticked");

    // Old events link to their type, so its own page shows it archived or not.
    let one = b.get(Some(&cookie), "/ui/catalog/order.old").await;
    assert_eq!(one.status, 200);
    assert!(one.body.contains("Archived:"), "{}", one.body);
}

#[tokio::test]
async fn an_empty_registry_says_how_to_register_types() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let page = b.get(Some(&cookie), "/ui/catalog").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("No event types registered yet"),
        "{}",
        page.body
    );
    assert!(page.body.contains("hookrelay event-types sync"));
    assert!(page.body.contains("PUT /api/v1/event-types/{code}"));
    assert!(
        page.body.contains("<code>endpoint.disabled</code>"),
        "the operational types are there from the start"
    );
}

#[tokio::test]
async fn a_scoped_session_reads_the_whole_catalog() {
    let app = TestApp::spawn().await;
    order_paid(&app).await;
    let (s, token) = app.post("/tokens", json!({"scopes": ["tenant-a"]})).await;
    assert_eq!(s, 201, "{token}");
    let b = Browser::new(&app);
    let cookie = b.login(token["token"].as_str().unwrap()).await;
    let page = b.get(Some(&cookie), "/ui/catalog").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<code>order.paid</code>"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_catalog_pages_with_cursors() {
    let app = TestApp::spawn().await;
    let events: Vec<_> = (0..60)
        .map(|n| json!({"code": format!("t{n:02}"), "name": format!("Type {n}")}))
        .collect();
    let (s, body) = app
        .put("/event-types", json!({"version": 1, "events": events}))
        .await;
    assert_eq!(s, 200, "{body}");
    let b = Browser::new(&app);
    let cookie = b.login(ADMIN).await;
    let first = b.get(Some(&cookie), "/ui/catalog").await;
    let sections = |html: &str| html.matches("<section id=\"type-").count();
    assert_eq!(sections(&first.body), 50);
    let next = next_href(&first.body).expect("a next link");
    assert!(next.starts_with("/ui/catalog?cursor="), "{next}");
    let second = b.get(Some(&cookie), &next).await;
    // 60 own types and 3 operational ones: 13 on the second page.
    assert_eq!(sections(&second.body), 13, "{}", second.body);
    assert!(second.body.contains("<code>t59</code>"));
    assert!(!second.body.contains("<code>t00</code>"));
    assert!(next_href(&second.body).is_none());
    assert!(
        !second.body.contains("No event types registered yet"),
        "a later page is not the empty registry"
    );
}
