//! Fetching only from the public internet, for files nobody asked for (previews).
//!
//! A check before the request is not enough: the server may redirect to an internal
//! address, and DNS may answer differently when the connection is made (rebinding).
//! So the client for automatic fetches resolves names itself and refuses private
//! addresses in the very answer it connects to, and checks every redirect hop whose
//! host is a literal address. The account's own upload host is the one exception: a
//! server on the local network shares files from there.

use super::TransferError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Is `ip` on this computer, a private or link-local network, carrier-grade NAT, or
/// otherwise not a public unicast address?
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0 // 0.0.0.0/8, "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || a >= 240 // 240.0.0.0/4, reserved
}

fn is_private_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    // Addresses that carry an IPv4 address: judge that one.
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[0..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
        return is_private_v4(embedded(s[6], s[7])); // ::a.b.c.d, IPv4-compatible
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_private_v4(embedded(s[6], s[7])); // 64:ff9b::/96, NAT64
    }
    if s[0] == 0x2002 {
        return is_private_v4(embedded(s[1], s[2])); // 2002::/16, 6to4
    }
    v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, old site local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

/// A name or address that points at this computer or a private network.
#[derive(Debug)]
pub struct PrivateAddress(pub String);

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} points at this computer or a private network", self.0)
    }
}

impl std::error::Error for PrivateAddress {}

fn is_own(host: &str, own: Option<&str>) -> bool {
    own.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// Resolves names and refuses an answer with any private address; the connection
/// goes to exactly the addresses checked here.
struct PublicOnly {
    own_host: Option<String>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let own = is_own(&host, self.own_host.as_deref());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !own && addrs.iter().any(|a| is_private(a.ip())) {
                return Err(Box::new(PrivateAddress(host)) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The host of `url` when it is a literal address that is private (and not `own`).
fn private_literal(url: &url::Url, own: Option<&str>) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    (is_private(ip) && !is_own(&host, own)).then_some(host)
}

/// An HTTPS client for automatic fetches: names resolve to public addresses only (the
/// account's own upload host `own_upload_host` excepted), checked in the answer the
/// connection uses; at most 5 redirects, each to https and never to a private literal
/// address. Check the first URL with [`super::is_private_host`] as well (a literal
/// address there is not resolved).
pub fn http_client_public(
    trust: &crate::model::Trust,
    own_upload_host: Option<&str>,
) -> Result<reqwest::Client, TransferError> {
    let own = own_upload_host.map(str::to_owned);
    let own_for_redirects = own.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("too many redirects");
        }
        if attempt.url().scheme() != "https" {
            let url = attempt.url().to_string();
            return attempt.error(format!("redirected to {url}, which is not https"));
        }
        match private_literal(attempt.url(), own_for_redirects.as_deref()) {
            Some(host) => attempt.error(PrivateAddress(host)),
            None => attempt.follow(),
        }
    });
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .https_only(true)
        .redirect(policy)
        .dns_resolver(Arc::new(PublicOnly { own_host: own }))
        .user_agent(concat!("Loquat/", env!("CARGO_PKG_VERSION")));
    super::build_client(builder, trust)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.2",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "0.1.2.3",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fc12::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::192.168.1.1",
            "2002:c0a8:0101::1",
            "ff02::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or_else(|_| unreachable!("{ip}"));
            assert!(is_private(ip), "{ip}");
        }
        for ip in [
            "93.184.215.14",
            "100.128.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or_else(|_| unreachable!("{ip}"));
            assert!(!is_private(ip), "{ip}");
        }
    }
}
