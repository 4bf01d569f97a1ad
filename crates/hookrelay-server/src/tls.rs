//! HTTPS for the API: with `tls_cert` and `tls_key` set, the server terminates TLS itself.
//!
//! [`server_config`] loads the PEM certificate chain and private key (PKCS#8, RSA or EC);
//! [`TlsListener`] is an [`axum::serve::Listener`] that yields only connections whose
//! handshake has finished. Handshakes run in tasks of their own, so a client that
//! connects and never speaks TLS holds up no one else, and the serving loop
//! ([`crate::serve_conn`], or `axum::serve`) with its header timeout and graceful
//! shutdown works exactly as it does for plain HTTP.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Finished handshakes waiting for axum to take them.
const READY_QUEUE: usize = 64;

/// The TLS settings for `cert` and `key`: both (HTTPS) or neither (plain HTTP, `None`).
pub fn from_settings(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    match (cert, key) {
        (Some(cert), Some(key)) => server_config(cert, key).map(Some),
        (None, None) => Ok(None),
        (Some(_), None) => anyhow::bail!(
            "HOOKRELAY_TLS_CERT (--tls-cert) is set but HOOKRELAY_TLS_KEY (--tls-key) is not: set both to serve HTTPS, or neither for plain HTTP"
        ),
        (None, Some(_)) => anyhow::bail!(
            "HOOKRELAY_TLS_KEY (--tls-key) is set but HOOKRELAY_TLS_CERT (--tls-cert) is not: set both to serve HTTPS, or neither for plain HTTP"
        ),
    }
}

/// Loads a PEM certificate chain (the server's certificate first) and its private key.
/// Every error names the file at fault.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let (cert_shown, key_shown) = (cert.display(), key.display());
    let chain_pem = std::fs::read(cert)
        .with_context(|| format!("cannot read the TLS certificate {cert_shown}"))?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the TLS certificate {cert_shown} is not valid PEM: {e}"))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the TLS certificate {cert_shown} holds no PEM certificate"
    );
    let key_pem =
        std::fs::read(key).with_context(|| format!("cannot read the TLS key {key_shown}"))?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow::anyhow!(
            "the TLS key {key_shown} holds no usable private key (PEM PKCS#8, RSA or EC): {e}"
        )
    })?;
    // Named rather than taken from the process default: the provider reqwest uses too,
    // and no panic if another crate ever compiles a second provider in.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider supports no safe protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            anyhow::anyhow!(
                "the TLS key {key_shown} does not fit the certificate {cert_shown}: {e}"
            )
        })?;
    // The API speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener that accepts TCP connections and yields them once their TLS handshake is
/// done. Dropping it stops accepting and closes the socket.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), tx));
        Ok(Self { ready, local_addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ends only once this receiver is gone, so this is not reached.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// Accepts until the [`TlsListener`] is dropped, one handshake task per connection.
async fn accept_loop(
    mut tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        // axum's own accept: it logs and backs off on errors such as EMFILE.
        let (stream, peer) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut tcp) => accepted,
            _ = ready.closed() => return,
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // Fails only when the server has stopped; the connection is dropped.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}
