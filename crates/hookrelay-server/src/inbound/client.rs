//! Who is calling: the socket's address, or — when the socket is a trusted proxy
//! (`HOOKRELAY_TRUSTED_PROXIES`) — the rightmost `X-Forwarded-For` entry that is not
//! itself a trusted proxy. Trusting the header from anyone else would let any caller pick
//! the address `allowed_ips` checks; and since each proxy *appends* the address it saw,
//! only the entries our own proxies wrote are facts: everything to their left is the
//! caller's claim (a caller may send `X-Forwarded-For: <an allowed address>` itself).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The trusted proxies' networks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs or addresses.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR"))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address: walking from the socket leftwards through every
    /// `X-Forwarded-For` header (joined in order), the first address that is not a
    /// trusted proxy. An entry that is not an address ends the walk at the last trusted
    /// hop, since nothing to its left can be vouched for; when every entry is a trusted
    /// proxy, the leftmost one is the client.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(&client) {
            return client;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        for entry in entries.iter().rev() {
            let Ok(hop) = entry.parse::<IpAddr>() else {
                return client;
            };
            client = canonical(hop);
            if !self.trusts(&client) {
                return client;
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let from_proxy: IpAddr = "10.1.1.1".parse().unwrap();
        let stranger: IpAddr = "192.0.2.9".parse().unwrap();
        let headers = xff("203.0.113.7, 10.1.1.1");
        assert_eq!(
            proxies.client(from_proxy, &headers),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "10.1.1.1 is a trusted hop, so the entry before it is the client"
        );
        // The caller prepended an address; the proxy appended the one it saw.
        assert_eq!(
            proxies.client(from_proxy, &xff("203.0.113.7, 198.51.100.4")),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        // Several headers count as one list, in order.
        let mut two = xff("203.0.113.9");
        two.append("x-forwarded-for", "10.2.2.2".parse().unwrap());
        assert_eq!(
            proxies.client(from_proxy, &two),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            proxies.client(from_proxy, &xff("203.0.113.7, junk, 10.3.3.3")),
            "10.3.3.3".parse::<IpAddr>().unwrap()
        );
        // Only trusted proxies: the leftmost is the client.
        assert_eq!(
            proxies.client(from_proxy, &xff("10.4.4.4, 10.5.5.5")),
            "10.4.4.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(proxies.client(stranger, &headers), stranger);
        assert_eq!(proxies.client(from_proxy, &HeaderMap::new()), from_proxy);
        assert_eq!(
            TrustedProxies::default().client(from_proxy, &headers),
            from_proxy
        );
        assert!(TrustedProxies::parse("nope").is_err());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            proxies.client(mapped, &xff("203.0.113.8")),
            "203.0.113.8".parse::<IpAddr>().unwrap()
        );
    }
}

/// The socket's remote address, for plain and TLS listeners alike (axum knows the plain
/// one only; the inbound gateway reads this one). [`crate::serve_conn`] puts it in every
/// request as `ConnectInfo<PeerAddr>`; the `Connected` impls below do the same for
/// `axum::serve` (`into_make_service_with_connect_info::<PeerAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}
