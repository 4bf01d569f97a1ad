//! Every dashboard answer, logged in or not, forbids framing by another site, type
//! sniffing and caching (issue 15, finding 5).

use super::Browser;
use crate::support::TestApp;

#[tokio::test]
async fn every_dashboard_page_forbids_framing_sniffing_and_caching() {
    let app = TestApp::spawn().await;
    let cookie = Browser::new(&app).login(crate::support::ADMIN).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, with_cookie) in [
        ("/ui/login", false),
        ("/ui/overview", true),
        ("/ui/deliveries", true),
        ("/ui/overview", false),
    ] {
        let mut req = http.get(format!("{}{path}", app.base));
        if with_cookie {
            req = req.header("cookie", &cookie);
        }
        let resp = req.send().await.unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
        };
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
    }
    app.stop().await;
}
