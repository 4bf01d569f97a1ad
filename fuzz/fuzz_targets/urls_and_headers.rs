//! Endpoint settings from request bodies: `endpoint::parse_url` (and that its normalized
//! form parses back to itself), `endpoint::validate_headers`, `OutboundAuth::validate`,
//! `balance::Targets::parse` with `Balancer::order`, and the SSRF guard's
//! `NetworkPolicy::parse` / `check` / `canonical` for arbitrary addresses.
#![no_main]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use hookrelay_core::balance::{Balancer, MAX_TARGETS, Strategy, Target, Targets};
use hookrelay_core::endpoint::{OutboundAuth, parse_url, validate_headers};
use hookrelay_core::network::{NetworkPolicy, canonical};
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    url: &'a str,
    headers: Vec<(String, String)>,
    bearer: Option<&'a str>,
    basic: (&'a str, &'a str),
    targets: Vec<(&'a str, u32)>,
    strategy: Option<&'a str>,
    networks: &'a str,
    v4: [u8; 4],
    v6: [u8; 16],
    seed: u64,
}

fuzz_target!(|input: Input<'_>| {
    if let Ok(url) = parse_url(input.url) {
        assert!(matches!(url.scheme(), "http" | "https"));
        let again = parse_url(url.as_str()).expect("a normalized URL parses");
        assert_eq!(again.as_str(), url.as_str());
    }

    let headers: BTreeMap<String, String> = input.headers.into_iter().take(32).collect();
    let _ = validate_headers(&headers);

    let auth = match input.bearer {
        Some(token) => OutboundAuth::Bearer {
            token: token.to_owned(),
        },
        None => OutboundAuth::Basic {
            username: input.basic.0.to_owned(),
            password: input.basic.1.to_owned(),
        },
    };
    let _ = auth.validate();

    let targets: Vec<Target> = input
        .targets
        .iter()
        .take(MAX_TARGETS + 2)
        .map(|(url, weight)| Target {
            url: (*url).to_owned(),
            weight: *weight,
        })
        .collect();
    if let Ok(t) = Targets::parse(targets, input.strategy) {
        let _ = t.primary_url();
        let mut balancer = Balancer::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(input.seed);
        for _ in 0..4 {
            let order = balancer.order(&t, &mut rng);
            assert!(!order.is_empty());
            assert!(order.iter().all(|&i| i < t.targets.len()));
            if t.strategy == Strategy::Failover {
                assert_eq!(order.len(), t.targets.len());
            }
        }
    }

    let addrs = [
        IpAddr::V4(Ipv4Addr::from(input.v4)),
        IpAddr::V6(Ipv6Addr::from(input.v6)),
    ];
    let policy = NetworkPolicy::parse(input.networks).unwrap_or_default();
    for addr in addrs {
        let c = canonical(addr);
        assert_eq!(canonical(c), c);
        // An address and the IPv4 address it carries are judged alike.
        assert_eq!(policy.check(addr).is_ok(), policy.check(c).is_ok());
    }
});
