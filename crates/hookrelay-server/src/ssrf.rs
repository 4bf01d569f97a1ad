//! The SSRF guard: endpoint URLs may not lead into loopback, private, link-local or other
//! reserved networks (rules in [`hookrelay_core::network`]). Checked when an endpoint is
//! created or changed, and again at connect time on the addresses actually resolved, so
//! a DNS answer that changes after the check (rebinding) is caught too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hookrelay_core::network::{Blocked, NetworkPolicy};
use url::{Host, Url};

/// How long a create/change check waits for DNS.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The guard, shared by the API and the delivery client.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    policy: Arc<NetworkPolicy>,
    https_only: bool,
}

/// An `http://` URL where only `https://` is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("only https:// endpoints are allowed (HOOKRELAY_HTTPS_ONLY)")]
pub struct NotHttps;

/// The message every refusal carries, so users learn how to allow a range.
pub fn refusal(url: &str, blocked: &Blocked) -> String {
    let example = match blocked.addr {
        IpAddr::V4(_) if blocked.kind == "loopback" => "127.0.0.0/8".to_owned(),
        IpAddr::V6(_) if blocked.kind == "loopback" => "::1/128".to_owned(),
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    };
    format!(
        "{url} leads to {}, a {} address; deliveries into private and reserved networks are refused. \
         To allow this range (for example a receiver on this machine while developing), set \
         HOOKRELAY_ALLOW_NETWORKS={example}",
        blocked.addr, blocked.kind
    )
}

impl Guard {
    /// A guard exempting `policy`'s ranges.
    pub fn new(policy: NetworkPolicy, https_only: bool) -> Self {
        Self {
            policy: Arc::new(policy),
            https_only,
        }
    }

    /// Refuses `http://` when only `https://` is allowed.
    pub fn check_scheme(&self, url: &Url) -> Result<(), NotHttps> {
        if self.https_only && url.scheme() != "https" {
            Err(NotHttps)
        } else {
            Ok(())
        }
    }

    /// The address an IP-literal URL names, if it is refused. Host names are checked by
    /// [`Guard::check_url`] and, at connect time, by [`GuardedResolver`].
    pub fn check_literal(&self, url: &Url) -> Result<(), Blocked> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.policy.check(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.policy.check(IpAddr::V6(v6)),
            _ => Ok(()),
        }
    }

    /// Checks an endpoint URL when it is created or changed: an IP literal, or every
    /// address its host resolves to now. A host that does not resolve yet is accepted
    /// (it may be created later); the connect-time check still applies.
    pub async fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        self.check_literal(url)?;
        let Some(Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let resolved =
            tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, port))).await;
        if let Ok(Ok(addrs)) = resolved {
            for addr in addrs {
                self.policy.check(addr.ip())?;
            }
        }
        Ok(())
    }

    /// The resolver for the delivery client.
    pub fn resolver(&self) -> GuardedResolver {
        GuardedResolver {
            policy: Arc::clone(&self.policy),
        }
    }
}

/// Resolves host names for deliveries, keeping only addresses the guard allows.
pub struct GuardedResolver {
    policy: Arc<NetworkPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(b) => {
                        refused = Some(b);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refused) {
                (true, Some(b)) => Err(format!("refused by the SSRF guard: {host} resolves to {b} (see HOOKRELAY_ALLOW_NETWORKS)").into()),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}
