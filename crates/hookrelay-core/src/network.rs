//! The SSRF guard's rules: which addresses a delivery may never reach, unless the
//! operator allows their range with `HOOKRELAY_ALLOW_NETWORKS`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Ranges exempt from the guard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    allow: Vec<IpNet>,
}

/// An address the guard refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is a {kind} address")]
pub struct Blocked {
    /// The address (IPv4-mapped IPv6 shown as IPv4).
    pub addr: IpAddr,
    /// The kind of range, e.g. `loopback`, `private`, `link-local`.
    pub kind: &'static str,
}

impl NetworkPolicy {
    /// Parses `127.0.0.0/8, 10.1.0.0/16` (commas or spaces). A bare address means
    /// just that address.
    pub fn parse(list: &str) -> Result<Self, String> {
        let allow = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("invalid network {s:?}: use CIDR notation such as 127.0.0.0/8")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allow })
    }

    /// Refuses reserved addresses outside the allowed ranges.
    pub fn check(&self, addr: IpAddr) -> Result<(), Blocked> {
        let addr = canonical(addr);
        match reserved_kind(addr) {
            Some(kind) if !self.allow.iter().any(|n| n.contains(&addr)) => {
                Err(Blocked { addr, kind })
            }
            _ => Ok(()),
        }
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:aabb:ccdd::/48`, RFC 3056) addresses are judged as the IPv4 address they carry:
/// each reaches that IPv4 host through a translator or relay.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return IpAddr::V4(v4_of(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return IpAddr::V4(v4_of(s[1], s[2]));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// The IPv4 address two IPv6 segments carry.
fn v4_of(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn reserved_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => reserved_v4(v4),
        IpAddr::V6(v6) => reserved_v6(v6),
    }
}

fn reserved_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        (0, ..) => "reserved (0.0.0.0/8)",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local (cloud metadata)",
        (100, 64..=127, _) => "CGNAT (100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignment (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn reserved_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xfc00..=0xfdff => "unique-local",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x2001 if s[1] < 0x0200 => "IETF special purpose (2001::/23)",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        // RFC 8215: translators of a private network, whose IPv4 side is anyone's guess.
        0x0064 if s[1] == 0xff9b && s[2] == 1 => "local-use NAT64 (64:ff9b:1::/48)",
        0x0000 => "reserved (::/8)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> Option<&'static str> {
        NetworkPolicy::default()
            .check(s.parse().unwrap())
            .err()
            .map(|b| b.kind)
    }

    #[test]
    fn reserved_ranges_are_blocked() {
        for (addr, kind) in [
            ("127.0.0.1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (cloud metadata)"),
            ("100.64.0.1", "CGNAT (100.64.0.0/10)"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved (240.0.0.0/4)"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"),
            // 6to4 carries 127.0.0.1 and 169.254.169.254 in its second and third segments.
            ("2002:7f00:1::1", "loopback"),
            ("2002:a9fe:a9fe::", "link-local (cloud metadata)"),
            ("2002:0a00:0001:1234::5", "private"),
            ("64:ff9b:1::a9fe:a9fe", "local-use NAT64 (64:ff9b:1::/48)"),
            ("64:ff9b:1:ffff::1", "local-use NAT64 (64:ff9b:1::/48)"),
        ] {
            assert_eq!(blocked(addr), Some(kind), "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            // 6to4 of a public address is that public address.
            "2002:5db8:d822::1",
        ] {
            assert_eq!(blocked(addr), None, "{addr}");
        }
    }

    #[test]
    fn allowed_ranges_are_exempt_and_mapped_addresses_canonicalized() {
        let p = NetworkPolicy::parse("127.0.0.0/8, 10.1.0.0/16 ::1").unwrap();
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("::ffff:127.0.0.2".parse().unwrap()).is_ok());
        assert!(p.check("10.1.2.3".parse().unwrap()).is_ok());
        assert!(p.check("::1".parse().unwrap()).is_ok());
        assert!(p.check("10.2.0.1".parse().unwrap()).is_err());
        assert!(NetworkPolicy::parse("127.0.0.0/33").is_err());
        assert!(NetworkPolicy::parse("nope").is_err());
        assert_eq!(NetworkPolicy::parse("").unwrap(), NetworkPolicy::default());
    }
}
