//! One tenant's token against another tenant's resources, resource by resource: what is
//! addressed by id (an event, a delivery and its attempts) is not found, exactly like an
//! id that does not exist; what is addressed under `/scopes/{scope}` is refused before
//! any lookup, with the same answer whether the endpoint exists or not.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, TestReceiver};

/// The admin's endpoint `e` in scope `theirs`, one delivered event to it, and a token for
/// scope `mine`. Returns (token, event id, delivery id).
async fn two_tenants(app: &TestApp, receiver: &TestReceiver) -> (String, String, String) {
    app.event_types(&["order.paid"]).await;
    app.endpoint("theirs", "e", &receiver.url("/"), &["*"])
        .await;
    let event = app.publish("order.paid", &["theirs"], json!({})).await;
    let event_id = event["id"].as_str().unwrap().to_owned();
    let delivery = app.deliveries_of(&event_id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = app.wait_for_status(&delivery, "succeeded").await;
    assert_eq!(done["attempts"].as_array().unwrap().len(), 1, "{done}");
    let (s, minted) = app.post("/tokens", json!({"scopes": ["mine"]})).await;
    assert_eq!(s, 201, "{minted}");
    (
        minted["token"].as_str().unwrap().to_owned(),
        event_id,
        delivery,
    )
}

/// The status and error code of a call with `token`, checking that nothing of scope
/// `theirs` is in the answer.
async fn refused(app: &TestApp, token: &str, method: Method, path: &str) -> (u16, Value) {
    let (s, answer) = app.call_as(token, method.clone(), path, None).await;
    let text = answer.to_string();
    assert!(
        !text.contains("whsec_") && !text.contains("\"theirs\"") && !text.contains("order.paid"),
        "{method} {path} shows nothing of the other tenant: {answer}"
    );
    (s, answer["error"]["code"].clone())
}

#[tokio::test]
async fn another_tenants_event_delivery_and_attempts_are_not_found() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let (token, event, delivery) = two_tenants(&app, &receiver).await;
    let not_found = (404, json!("not_found"));
    for (method, path, missing) in [
        (
            Method::GET,
            format!("/events/{event}"),
            "/events/evt_0".to_owned(),
        ),
        (
            Method::GET,
            format!("/deliveries/{delivery}"),
            "/deliveries/dlv_0".to_owned(),
        ),
        (
            Method::POST,
            format!("/deliveries/{delivery}/retry"),
            "/deliveries/dlv_0/retry".to_owned(),
        ),
    ] {
        assert_eq!(
            refused(&app, &token, method.clone(), &path).await,
            not_found,
            "{method} {path}"
        );
        assert_eq!(
            refused(&app, &token, method.clone(), &missing).await,
            not_found,
            "{method} {missing}: the same answer as another tenant's id"
        );
    }
    // The retry changed nothing: still one attempt, still succeeded.
    let (_, after) = app.get(&format!("/deliveries/{delivery}")).await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["attempts"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_endpoint_and_secret_are_refused_whether_they_exist_or_not() {
    let app = TestApp::spawn().await;
    let receiver = TestReceiver::start().await;
    let (token, _, _) = two_tenants(&app, &receiver).await;
    for suffix in ["", "/secret"] {
        let existing = format!("/scopes/theirs/endpoints/e{suffix}");
        let missing = format!("/scopes/theirs/endpoints/nope{suffix}");
        let answer = refused(&app, &token, Method::GET, &existing).await;
        assert_eq!(answer, (403, json!("forbidden")), "{existing}");
        assert_eq!(
            refused(&app, &token, Method::GET, &missing).await,
            answer,
            "{missing}: the same answer, so existence is not revealed"
        );
    }
    // The token works on its own scope, so the refusals are about the scope.
    let (s, own) = app
        .call_as(&token, Method::GET, "/scopes/mine/endpoints/e", None)
        .await;
    assert_eq!(
        (s, &own["error"]["code"]),
        (404, &json!("not_found")),
        "{own}"
    );
    app.stop().await;
}
