//! The one pooled HTTP client every delivery goes through.
//!
//! Certificates are verified against the Mozilla roots bundled in the binary
//! (`webpki-root-certs`), not the operating system's store, so deliveries work the same
//! on a bare machine or a scratch container with no CA bundle installed. Operators with
//! receivers behind a private CA add its roots with `HOOKRELAY_EXTRA_ROOT_CERTS`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::DispatchConfig;

/// Builds the delivery client: no redirects (a 3xx is a failure, never followed into
/// another host), no proxy, host names resolved through the SSRF guard, keep-alive
/// connections, and only the bundled roots plus `cfg.extra_roots` trusted.
pub fn delivery_client(cfg: &DispatchConfig) -> anyhow::Result<reqwest::Client> {
    // `tls_certs_only` replaces the platform verifier with exactly these roots.
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .chain(&cfg.extra_roots)
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot load the trusted root certificates")?;
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(cfg.guard.resolver())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .tls_certs_only(roots)
        .build()
        .context("cannot build the delivery client")
}

/// Reads a PEM bundle of extra trusted roots (for receivers behind a private CA).
/// Every certificate is checked here, so a bad file stops start-up with its name
/// rather than failing each delivery later.
pub fn read_extra_roots(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the extra root certificates {shown}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow::anyhow!("the extra root certificates {shown} are not valid PEM: {e}")
        })?;
    anyhow::ensure!(
        !certs.is_empty(),
        "the extra root certificates {shown} hold no PEM certificate"
    );
    let mut check = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        check.add(cert.clone()).map_err(|e| {
            anyhow::anyhow!(
                "certificate {} in the extra root certificates {shown} is not usable as a root: {e}",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssrf::Guard;
    use hookrelay_core::retry::RetrySchedule;

    fn config(extra_roots: Vec<CertificateDer<'static>>) -> DispatchConfig {
        DispatchConfig {
            retry: RetrySchedule::default(),
            default_timeout: Duration::from_secs(1),
            max_in_flight: 1,
            max_in_flight_per_endpoint: 1,
            guard: Guard::default(),
            circuit: crate::dispatch::CircuitPolicy::default(),
            extra_roots,
            poll_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn builds_from_the_bundled_roots_alone() {
        assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() > 100);
        delivery_client(&config(Vec::new())).expect("client builds without a system store");
    }

    #[test]
    fn bad_extra_root_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = format!("{:#}", read_extra_roots(&missing).unwrap_err());
        assert!(err.contains("missing.pem"), "{err}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let err = format!("{:#}", read_extra_roots(&empty).unwrap_err());
        assert!(err.contains("empty.pem") && err.contains("no PEM"), "{err}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = format!("{:#}", read_extra_roots(&garbage).unwrap_err());
        assert!(err.contains("garbage.pem"), "{err}");
    }
}
