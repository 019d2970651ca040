//! Which addresses an outbound request (a webhook delivery) may reach: the
//! public internet only. Every block of the IANA special-purpose address
//! registries is refused, and so is IPv6 outside global unicast; the IPv6
//! forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are
//! judged by that IPv4 address, so `[::ffff:127.0.0.1]`,
//! `[64:ff9b::a9fe:a9fe]` or `[2002:7f00:1::]` reach no further than
//! `127.0.0.1` or `169.254.169.254` would.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>, RFC 6890
/// and the RFCs each row names), plus multicast (224.0.0.0/4, from the
/// IPv4 Multicast Address Space Registry). Every row is refused, also the
/// few the registry marks globally reachable (AS112, AMT, anycast relays):
/// none of them is a webhook receiver.
const SPECIAL_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network (RFC 791)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private-use (RFC 1918)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (RFC 6598)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (RFC 1122)"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link local (RFC 3927)"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private-use (RFC 1918)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (RFC 6890; DS-Lite, PCP and TURN anycast, NAT64 discovery)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation TEST-NET-1 (RFC 5737)",
    ),
    (Ipv4Addr::new(192, 31, 196, 0), 24, "AS112-v4 (RFC 7535)"),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT (RFC 7450)"),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private-use (RFC 1918)"),
    (
        Ipv4Addr::new(192, 175, 48, 0),
        24,
        "direct delegation AS112 service (RFC 7534)",
    ),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking (RFC 2544)"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation TEST-NET-3 (RFC 5737)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (RFC 5771)"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved (RFC 1112)"),
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        "limited broadcast (RFC 919)",
    ),
];

/// How a block of IPv6 addresses is judged.
#[derive(Debug, Clone, Copy)]
enum V6Rule {
    Refuse,
    /// The address carries an IPv4 address: judge that one.
    Embedded(fn(Ipv6Addr) -> Ipv4Addr),
}

fn low_32(a: Ipv6Addr) -> Ipv4Addr {
    let o = a.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// 6to4: `2002:AABB:CCDD::/48` is the site behind IPv4 `AA.BB.CC.DD`.
fn after_2002(a: Ipv6Addr) -> Ipv4Addr {
    let o = a.octets();
    Ipv4Addr::new(o[2], o[3], o[4], o[5])
}

/// The IANA IPv6 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv6-special-registry/>, RFC 6890
/// and the RFCs each row names), plus the blocks of the IPv6 Address Space
/// registry a webhook must not reach either: multicast, the deprecated
/// site-local block and IPv4-compatible addresses (RFC 4291 §2.5.5.1).
/// The first row that contains an address decides, so specific rows come
/// before the blocks that contain them. Addresses outside every row are
/// allowed only in global unicast (2000::/3).
const SPECIAL_V6: &[(Ipv6Addr, u8, &str, V6Rule)] = &[
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1),
        128,
        "loopback (RFC 4291)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        128,
        "unspecified (RFC 4291)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
        96,
        "IPv4-mapped (RFC 4291)",
        V6Rule::Embedded(low_32),
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4-compatible, deprecated (RFC 4291)",
        V6Rule::Embedded(low_32),
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4-IPv6 translation, NAT64 well-known prefix (RFC 6052)",
        V6Rule::Embedded(low_32),
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "IPv4-IPv6 translation, local use (RFC 8215)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only (RFC 6666)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
        "dummy IPv6 prefix (RFC 9780)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments (RFC 2928; TEREDO, PCP/TURN anycast, benchmarking, AMT, AS112, ORCHIDv2, DRIP)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation (RFC 3849)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4 (RFC 3056)",
        V6Rule::Embedded(after_2002),
    ),
    (
        Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0),
        48,
        "direct delegation AS112 service (RFC 7534)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation (RFC 9637)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing SIDs (RFC 9602)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique-local (RFC 4193)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "link-local unicast (RFC 4291)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local, deprecated (RFC 3879)",
        V6Rule::Refuse,
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "multicast (RFC 4291)",
        V6Rule::Refuse,
    ),
];

fn v4_in(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
}

fn v6_in(a: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(a) & mask == u128::from(net) & mask
}

/// The registry row an IPv4 address falls in, if any.
fn special_v4(a: Ipv4Addr) -> Option<&'static str> {
    SPECIAL_V4
        .iter()
        .find(|(net, len, _)| v4_in(a, *net, *len))
        .map(|(_, _, name)| *name)
}

/// Why an address may not be reached (the registry row), or `None` for a
/// public address.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => match SPECIAL_V6
            .iter()
            .find(|(net, len, _, _)| v6_in(a, *net, *len))
        {
            Some((_, _, name, V6Rule::Refuse)) => Some(name),
            Some((_, _, _, V6Rule::Embedded(inner))) => special_v4(inner(a)),
            None if !v6_in(a, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) => {
                Some("not global unicast (IANA IPv6 address space)")
            }
            None => None,
        },
    }
}

/// Why a target URL is refused.
#[derive(Debug, PartialEq)]
pub enum TargetError {
    Invalid(String),
    Unresolvable,
    Forbidden,
}

/// Checks a subscription's URL: http(s), a host, and (unless allowed) no
/// address in a forbidden range.
pub async fn check_target(url: &str, allow_private: bool) -> Result<reqwest::Url, TargetError> {
    let u = reqwest::Url::parse(url).map_err(|e| TargetError::Invalid(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(TargetError::Invalid("须为 http 或 https 地址".into()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(TargetError::Invalid("地址中不能含用户名或密码".into()));
    }
    let host = u
        .host_str()
        .ok_or_else(|| TargetError::Invalid("缺少主机名".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| TargetError::Unresolvable)?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable);
    }
    if !allow_private && addrs.iter().any(|a| is_forbidden(a.ip())) {
        return Err(TargetError::Forbidden);
    }
    Ok(u)
}

/// Whether an outbound request may not go to `ip`.
pub fn is_forbidden(ip: IpAddr) -> bool {
    refusal(ip).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Each row of both registries refuses its first and last address.
    #[test]
    fn every_registry_row_is_refused_at_both_ends() {
        for (net, len, name) in SPECIAL_V4 {
            let first = u32::from(*net);
            let last = first | u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for a in [first, last] {
                assert!(is_forbidden(IpAddr::V4(a.into())), "{name}: {a}");
            }
        }
        for (net, len, name, rule) in SPECIAL_V6 {
            if !matches!(rule, V6Rule::Refuse) {
                continue;
            }
            let first = u128::from(*net);
            let last = first | u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for a in [first, last] {
                let a = Ipv6Addr::from(a);
                assert!(is_forbidden(IpAddr::V6(a)), "{name}: {a}");
            }
        }
    }

    #[test]
    fn special_purpose_and_disguised_inner_addresses_are_refused() {
        for a in [
            // The probe's finds.
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fec0::1",
            "198.18.0.1",
            "192.0.0.1",
            // Private, loopback, link-local and friends, as before.
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            // Documentation, benchmarking, the rest of the registries.
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.9",
            "198.19.255.255",
            "192.0.0.170",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.175.48.1",
            "2001:db8::1",
            "2001::1",
            "2001:2::1",
            "2001:20::1",
            "2001:1ff::1",
            "3fff::1",
            "5f00::1",
            "100::1",
            "100:0:0:1::1",
            "2620:4f:8000::1",
            "64:ff9b:1::1",
            // NAT64, 6to4, compatible and mapped forms of inner addresses.
            "64:ff9b::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::192.168.0.1",
            "2002:a9fe:a9fe::1",
            "2002:0a00:0001::",
            "2002:c0a8:0101:1::1",
            "::10.0.0.1",
            "::169.254.169.254",
            "::ffff:198.18.0.1",
            // Outside global unicast.
            "4000::1",
            "e000::1",
            "8::1",
        ] {
            assert!(is_forbidden(ip(a)), "{a} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "114.114.114.114",
            "223.5.5.5",
            "180.76.76.76",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.255.255",
            "192.0.1.255",
            "192.0.3.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "203.0.114.1",
            "223.255.255.255",
            "2400:3200::1",
            "2001:4860:4860::8888",
            "2001:200::1",
            "240e::1",
            "2606:4700:4700::1111",
            "3ffe::1",
            // Inner public addresses in the IPv4-carrying forms.
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::8.8.8.8",
        ] {
            assert_eq!(refusal(ip(a)), None, "{a} must be allowed");
        }
    }

    #[test]
    fn the_row_that_refuses_is_named() {
        assert_eq!(
            refusal(ip("64:ff9b::a9fe:a9fe")),
            Some("link local (RFC 3927)")
        );
        assert_eq!(refusal(ip("2002:7f00:1::")), Some("loopback (RFC 1122)"));
        assert_eq!(
            refusal(ip("fec0::1")),
            Some("site-local, deprecated (RFC 3879)")
        );
    }
}
