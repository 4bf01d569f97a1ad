//! TLS both ways: the API served over HTTPS, and deliveries that verify the receiver's
//! certificate (bundled web PKI roots, plus extra roots for a private CA).

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::json;

use crate::support::{TestApp, TestReceiver};

/// A throwaway CA and a server certificate it signed for `localhost` and `127.0.0.1`,
/// written as PEM files: `ca.pem`, `cert.pem`, `key.pem` (PKCS#8).
struct TestPki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl TestPki {
    fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let ca_pem = ca_cert.pem();
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
        std::fs::write(dir.path().join("cert.pem"), leaf_cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).unwrap();
        Self { dir, ca_pem }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }
    fn cert(&self) -> PathBuf {
        self.path("cert.pem")
    }
    fn key(&self) -> PathBuf {
        self.path("key.pem")
    }

    /// A client that trusts this CA and nothing else.
    fn client(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn the_api_answers_over_https_and_refuses_plain_http() {
    let pki = TestPki::new();
    let app = TestApp::with(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.key());
    })
    .await;
    assert!(app.base.starts_with("https://127.0.0.1:"), "{}", app.base);

    let client = pki.client();
    let health = client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("an https request");
    assert_eq!(health.status(), 200);
    let (s, body) = {
        let resp = client
            .get(app.url("/event-types"))
            .bearer_auth(crate::support::ADMIN)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(s, 200, "{body}");

    let plain = app.base.replacen("https://", "http://", 1);
    let refused = reqwest::Client::new()
        .get(format!("{plain}/health"))
        .send()
        .await;
    assert!(refused.is_err(), "plain http was answered: {refused:?}");

    // Graceful shutdown still completes with the client's keep-alive connection open.
    app.stop().await;
}

#[tokio::test]
async fn deliveries_fail_when_the_receivers_ca_is_not_trusted() {
    let pki = TestPki::new();
    let receiver = TestReceiver::start_tls(&pki.cert(), &pki.key()).await;
    let app = TestApp::with(|c| c.retry_schedule = Some(String::new())).await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "private", &receiver.url("/hook"), &["a"])
        .await;
    let event = app.publish("a", &["s"], json!({})).await;
    let delivery = app.deliveries_of(event["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let done = app.wait_for_status(&delivery, "failed").await;
    let attempt = &done["attempts"][0];
    assert!(attempt["status_code"].is_null(), "{done}");
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("certificate") && error.contains("UnknownIssuer"),
        "{error}"
    );
    assert!(receiver.received().is_empty(), "nothing was delivered");
    app.stop().await;
}

#[tokio::test]
async fn deliveries_succeed_when_the_private_ca_is_an_extra_root() {
    let pki = TestPki::new();
    let receiver = TestReceiver::start_tls(&pki.cert(), &pki.key()).await;
    let app = TestApp::with(|c| c.extra_root_certs = Some(pki.ca())).await;
    app.event_types(&["a"]).await;
    app.endpoint("s", "private", &receiver.url("/hook"), &["a"])
        .await;
    let event = app.publish("a", &["s"], json!({"n": 1})).await;
    let event_id = event["id"].as_str().unwrap();
    let delivery = app.deliveries_of(event_id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let done = app.wait_for_status(&delivery, "succeeded").await;
    assert_eq!(done["attempts"][0]["status_code"], 200, "{done}");
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].path, "/hook");
    assert_eq!(got[0].headers["webhook-id"], event_id);
    app.stop().await;
}

#[tokio::test]
async fn tls_needs_both_a_certificate_and_a_key() {
    let pki = TestPki::new();
    let app = TestApp::spawn().await;
    let err = app
        .build_error_with(|c| c.tls_cert = Some(pki.cert()))
        .await;
    assert!(err.contains("HOOKRELAY_TLS_KEY"), "{err}");
    let err = app.build_error_with(|c| c.tls_key = Some(pki.key())).await;
    assert!(err.contains("HOOKRELAY_TLS_CERT"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn unreadable_or_invalid_tls_files_are_named() {
    let pki = TestPki::new();
    let other = TestPki::new();
    std::fs::write(pki.path("garbage.pem"), "not pem at all\n").unwrap();
    let app = TestApp::spawn().await;

    let cases = [
        (
            Some(pki.path("missing.pem")),
            Some(pki.key()),
            None,
            "missing.pem",
        ),
        (
            Some(pki.path("garbage.pem")),
            Some(pki.key()),
            None,
            "garbage.pem",
        ),
        (
            Some(pki.cert()),
            Some(pki.path("garbage.pem")),
            None,
            "garbage.pem",
        ),
        // A key from another pair does not fit the certificate.
        (Some(pki.cert()), Some(other.key()), None, "does not fit"),
        (None, None, Some(pki.path("missing.pem")), "missing.pem"),
    ];
    for (cert, key, extra_roots, expected) in cases {
        let err = app
            .build_error_with(|c| {
                c.tls_cert = cert;
                c.tls_key = key;
                c.extra_root_certs = extra_roots;
            })
            .await;
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_https_client_that_never_finishes_its_headers_is_disconnected() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let pki = TestPki::new();
    let app = TestApp::with(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.key());
        c.header_read_timeout_ms = 300;
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let addr = app.base.trim_start_matches("https://").to_owned();
    // Taken before connecting, so the server's timer cannot have started earlier.
    let opened = Instant::now();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the handshake completes");
    tls.write_all(b"POST /in/x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tls.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server still held the TLS connection 10 s after a 300 ms header timeout"
    );
    assert!(
        opened.elapsed() >= Duration::from_millis(250),
        "closed by the timeout, not at once: {:?}",
        opened.elapsed()
    );

    let health = pki
        .client()
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("a whole request is still served");
    assert_eq!(health.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_session_cookie_is_secure_over_https() {
    let pki = TestPki::new();
    let app = TestApp::with(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.key());
    })
    .await;
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .post(format!("{}/ui/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", crate::support::ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}
