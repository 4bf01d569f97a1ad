//! The dashboard in a real headless Chromium, driven over WebDriver (fantoccini talking to
//! a chromedriver this test starts): log in with the admin token, find a failed delivery,
//! open it, retry it once the receiver is back, and watch it succeed — checking only what
//! a person would see (page text, the address bar). Along the way it saves a PNG of every
//! main page to `<target>/ui-screens/`, so layout changes can be looked at, not guessed.
//!
//! It needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs). Without them the test says `SKIPPED`,
//! except under CI (`CI` set), where it fails: a browser test that silently never runs
//! protects nothing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{Value, json};

use crate::support::{ADMIN, Answer, TestApp, TestReceiver, wait_until};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The desktop viewport every screenshot is taken at, unless named otherwise.
const DESKTOP: (u32, u32) = (1280, 900);
/// A common phone's viewport (CSS pixels), for the pages people check on the go.
const PHONE: (u32, u32) = (390, 844);

/// The other sections, each opened from its navigation link and screenshotted, at the
/// desktop size and at phone width (where nothing may scroll sideways). Add a page here
/// as `(screenshot name, navigation link text, path)`.
const OTHER_PAGES: &[(&str, &str, &str)] = &[
    ("overview", "Overview", "/ui/overview"),
    ("endpoints", "Endpoints", "/ui/endpoints"),
    ("events", "Events", "/ui/events"),
    ("catalog", "Event types", "/ui/catalog"),
    ("inbound", "Inbound", "/ui/inbound"),
];

/// How long the browser gets for any one thing a person would wait for.
const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_failed_delivery_is_retried_from_the_dashboard_in_a_real_browser() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    // No retries, so the delivery fails for good and only the button brings it back.
    let app = TestApp::with(|c| c.retry_schedule = Some(String::new())).await;
    let receiver = TestReceiver::start().await;
    let id = failed_delivery(&app, &receiver).await;

    let browser = driver.browser().await;
    let screens = Screens::new();
    // A failed assertion must still end the browser session, or Chromium outlives the
    // test; the panic is re-raised once the session is closed.
    let outcome = std::panic::AssertUnwindSafe(scenario(&browser, &screens, &app, &receiver, &id))
        .catch_unwind()
        .await;
    let closed = browser.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.expect("the browser session closes");
    println!("screenshots in {}", screens.dir.display());
}

async fn scenario(
    browser: &Client,
    screens: &Screens,
    app: &TestApp,
    receiver: &TestReceiver,
    id: &str,
) {
    let page = |path: &str| format!("{}{path}", app.base);
    set_viewport(browser, DESKTOP).await;

    // Log in as a person would: type the token, press the button, land on the overview.
    browser.goto(&page("/ui/login")).await.expect("login page");
    assert_eq!(heading(browser).await, "Log in");
    screens.take(browser, "login").await;
    browser
        .find(Locator::Id("token"))
        .await
        .expect("the token field")
        .send_keys(ADMIN)
        .await
        .expect("typing the token");
    // From the keyboard alone: Tab moves from the field to the button, Enter presses it.
    browser
        .active_element()
        .await
        .expect("the focused element")
        .send_keys("\u{E004}")
        .await
        .expect("Tab");
    let focused = browser.active_element().await.expect("the focused element");
    assert_eq!(text(&focused).await, "Log in", "Tab reaches the button");
    focused.send_keys("\u{E007}").await.expect("Enter");
    wait_for_path(browser, "/ui/overview").await;
    assert_eq!(heading(browser).await, "Overview");
    // The home page counts the failed attempt and names the failing endpoint.
    let overview = text(&body(browser).await).await;
    assert!(overview.contains("0 succeeded · 1 failed"), "{overview}");
    assert!(overview.contains("Failing endpoints"), "{overview}");

    // From the navigation to the delivery log.
    browser
        .find(Locator::LinkText("Deliveries"))
        .await
        .expect("the navigation's Deliveries link")
        .click()
        .await
        .expect("open the deliveries");
    wait_for_path(browser, "/ui/deliveries").await;
    assert_eq!(heading(browser).await, "Deliveries");

    // The failed delivery is listed as failed, and its link opens its page.
    let link = format!("/ui/deliveries/{id}");
    let row = browser
        .find(Locator::XPath(&format!("//tr[td/a[@href='{link}']]")))
        .await
        .unwrap_or_else(|e| panic!("no row links to {link}: {e}"));
    let row_status = row
        .find(Locator::Css("td[class^='status-']"))
        .await
        .expect("the row's status cell");
    assert_eq!(text(&row_status).await, "failed");
    assert!(text(&row).await.contains("order.paid"));
    screens.take(browser, "deliveries").await;
    row.find(Locator::Css("a"))
        .await
        .expect("the row's link")
        .click()
        .await
        .expect("open the delivery");
    wait_for_path(browser, &link).await;
    assert_eq!(heading(browser).await, format!("Delivery {id}"));
    assert_eq!(detail_status(browser).await, "failed");
    assert!(
        text(&body(browser).await).await.contains("Attempt 1"),
        "the failed attempt is shown"
    );
    screens.take(browser, "delivery-failed").await;
    set_viewport(browser, PHONE).await;
    screens.take(browser, "delivery-phone").await;
    let too_wide = wider_than_viewport(browser).await;
    assert!(
        too_wide.is_empty(),
        "on a phone the delivery page scrolls sideways; too wide: {too_wide:#?}"
    );
    set_viewport(browser, DESKTOP).await;

    // The receiver is back; one press of the button delivers again.
    receiver.always(Answer::status(200));
    let retry = button(browser, "Retry now").await;
    retry.click().await.expect("press Retry now");
    // The form posts and is redirected back to the same address, so wait for the old page
    // to go away before reloading: a reload during the POST could cancel it.
    wait_until(PATIENCE, || async {
        match retry.text().await {
            Err(e) if e.is_stale_element_reference() || e.is_no_such_element() => Some(()),
            _ => None,
        }
    })
    .await
    .expect("pressing Retry now loads a new page");
    assert_eq!(browser.current_url().await.expect("url").path(), link);
    // The attempt runs in the background: reload until the page says so, as a person would.
    wait_until(PATIENCE, || async {
        if detail_status(browser).await == "succeeded" {
            return Some(());
        }
        browser.refresh().await.expect("reload");
        None
    })
    .await
    .expect("the delivery page shows succeeded after Retry now");
    assert!(
        text(&body(browser).await).await.contains("Attempt 2"),
        "the new attempt is shown"
    );
    screens.take(browser, "delivery-succeeded").await;

    // The other sections, reached as a person would: through the navigation.
    for (name, link_text, path) in OTHER_PAGES {
        browser
            .find(Locator::LinkText(link_text))
            .await
            .unwrap_or_else(|e| panic!("the navigation links {link_text}: {e}"))
            .click()
            .await
            .expect("follow the link");
        wait_for_path(browser, path).await;
        assert!(!heading(browser).await.is_empty(), "{path} has a heading");
        screens.take(browser, name).await;
        set_viewport(browser, PHONE).await;
        screens.take(browser, &format!("{name}-phone")).await;
        let too_wide = wider_than_viewport(browser).await;
        assert!(
            too_wide.is_empty(),
            "on a phone {path} scrolls sideways; too wide: {too_wide:#?}"
        );
        set_viewport(browser, DESKTOP).await;
    }
}

/// A delivery to a receiver that answers 500, failed for good (the app has no retries).
async fn failed_delivery(app: &TestApp, receiver: &TestReceiver) -> String {
    receiver.always(
        Answer::status(500)
            .with_header("content-type", "application/json")
            .with_body(r#"{"error":"database unavailable","retry":true}"#),
    );
    app.event_types(&["order.paid"]).await;
    app.endpoint("biz:1", "shop", &receiver.url("/hook"), &["*"])
        .await;
    let event = app
        .publish(
            "order.paid",
            &["biz:1"],
            json!({"order": 1042, "total": "19.90"}),
        )
        .await;
    let deliveries = app.deliveries_of(event["id"].as_str().unwrap()).await;
    let id = deliveries[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&id, "failed").await;
    id
}

/// A chromedriver of this test's own on a free port, killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// `None` (after saying so) when the browser is not installed, outside CI.
    async fn start() -> Option<Self> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            let missing = missing.join(" and ");
            assert!(
                std::env::var_os("CI").is_none(),
                "{missing} missing: CI must install chromium and chromium-driver (see .ci/run)"
            );
            eprintln!(
                "SKIPPED: {missing} missing; install Debian's chromium and chromium-driver \
                 to run the browser test"
            );
            return None;
        }
        // chromedriver takes a port, not a listener: find one the system says is free.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            // It announces itself on stdout; its errors still reach stderr.
            .stdout(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_until_ready().await;
        Some(driver)
    }

    /// Polls `/status` until chromedriver says it is ready for a session.
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(exit) = self.child.try_wait().expect("chromedriver's state") {
                panic!("chromedriver exited before answering: {exit}");
            }
            if let Ok(resp) = http.get(&status).send().await
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver never answered on {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A new headless Chromium session.
    async fn browser(&self) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    // The tests run as root in a container, where the sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--window-size=1280,900",
                ],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver starts a Chromium session")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the screenshots go: `ui-screens/` in the target directory the tests are built in.
struct Screens {
    dir: PathBuf,
}

impl Screens {
    fn new() -> Self {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let dir = target.join("ui-screens");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        Self { dir }
    }

    /// Saves the visible part of the page as `<name>.png`.
    async fn take(&self, browser: &Client, name: &str) {
        let png = browser.screenshot().await.expect("a screenshot");
        let path = self.dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is saved");
        println!("screenshot: {}", path.display());
    }
}

/// Resizes the window so the page itself gets `width` × `height` CSS pixels: the window's
/// own frame, if any, differs between Chromium versions, so it is measured, not assumed.
/// A loaded machine may apply a resize after the command returns, so each size is
/// awaited, and the frame is measured again until the page has exactly its size.
async fn set_viewport(browser: &Client, (width, height): (u32, u32)) {
    let (mut outer_w, mut outer_h) = (width, height);
    let mut inner = (0, 0);
    for _ in 0..5 {
        browser
            .set_window_size(outer_w, outer_h)
            .await
            .expect("window resized");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let before = inner;
        loop {
            inner = viewport(browser).await;
            if inner == (width, height) {
                return;
            }
            // Applied once the page's size moved (or the window was already this size).
            if inner != before || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The window's frame takes what the page did not get.
        outer_w = (outer_w + width).saturating_sub(inner.0).max(width);
        outer_h = (outer_h + height).saturating_sub(inner.1).max(height);
    }
    assert_eq!(inner, (width, height), "the viewport");
}

async fn viewport(browser: &Client) -> (u32, u32) {
    let size = browser
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .expect("the viewport size");
    let dim = |i: usize| size[i].as_u64().expect("a number") as u32;
    (dim(0), dim(1))
}

/// What makes the page scroll sideways, if it does: the innermost elements whose box or
/// content sticks out past the right edge of the viewport, each as tag, text and width.
async fn wider_than_viewport(browser: &Client) -> Vec<String> {
    let found = browser
        .execute(
            "const edge = document.documentElement.clientWidth;
             if (document.documentElement.scrollWidth <= edge) return [];
             const sticksOut = e => e.getBoundingClientRect().left + e.scrollWidth > edge + 0.5
               && getComputedStyle(e).overflowX === 'visible';
             return [...document.body.querySelectorAll('*')]
               .filter(e => sticksOut(e) && ![...e.children].some(sticksOut))
               .map(e => `<${e.tagName.toLowerCase()}> ${e.textContent.trim().slice(0, 40)}: \
                          ${Math.round(e.getBoundingClientRect().left + e.scrollWidth)}px of ${edge}px`);",
            vec![],
        )
        .await
        .expect("the page's layout");
    serde_json::from_value(found).expect("a list of strings")
}

/// Waits until the address bar shows `path` (the query and fragment aside).
async fn wait_for_path(browser: &Client, path: &str) {
    let reached = wait_until(PATIENCE, || async {
        let url = browser.current_url().await.ok()?;
        (url.path() == path).then_some(())
    })
    .await;
    if reached.is_none() {
        let at = browser.current_url().await.map(|u| u.to_string());
        panic!("the browser never reached {path}; it is at {at:?}");
    }
}

async fn text(element: &Element) -> String {
    element.text().await.expect("the element's text")
}

async fn body(browser: &Client) -> Element {
    browser.find(Locator::Css("body")).await.expect("a body")
}

/// The page's `<h1>`, as shown.
async fn heading(browser: &Client) -> String {
    let h1 = browser.find(Locator::Css("h1")).await.expect("a heading");
    text(&h1).await
}

/// The button labelled `label`.
async fn button(browser: &Client, label: &str) -> Element {
    browser
        .find(Locator::XPath(&format!(
            "//button[normalize-space()='{label}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no {label:?} button: {e}"))
}

/// The Status cell of a delivery's page.
async fn detail_status(browser: &Client) -> String {
    let cell = browser
        .find(Locator::XPath("//tr[th[normalize-space()='Status']]/td"))
        .await
        .expect("a Status row");
    text(&cell).await
}
