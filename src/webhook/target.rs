//! Where a webhook may be posted: `http(s)` URLs without credentials whose host resolves only to
//! public addresses. Loopback, private, link-local (the cloud metadata service), shared,
//! reserved and multicast addresses are refused when the endpoint is saved and again at every
//! delivery, after DNS resolution, and the request then connects to the very addresses that
//! were checked, so a name that changes its answer (DNS rebinding) cannot reach inside.
//! `WEBHOOK_ALLOW_PRIVATE_TARGETS` lifts the rule (the embedded default, and tests).

use reqwest_rustls::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the URL is not valid: {0}")]
    Invalid(String),
    #[error("the host `{0}` does not resolve")]
    Unresolved(String),
    #[error("the host `{0}` resolves to a loopback, private or link-local address")]
    Private(String),
}

/// Parses an endpoint URL: `http` or `https`, a host, no user name or password, at most 2,048
/// characters.
pub fn parse(url: &str) -> Result<Url, Refused> {
    if url.len() > 2048 {
        return Err(Refused::Invalid("longer than 2,048 characters".into()));
    }
    let parsed = Url::parse(url.trim()).map_err(|e| Refused::Invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused::Invalid("only http and https are accepted".into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Refused::Invalid(
            "credentials do not belong in the URL".into(),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Refused::Invalid("a host is needed".into()));
    }
    Ok(parsed)
}

/// Resolves `url`'s host and answers the addresses to connect to, all of them public unless
/// `allow_private`.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, Refused> {
    let host = url
        .host_str()
        .ok_or_else(|| Refused::Invalid("a host is needed".into()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| Refused::Unresolved(host.to_owned()))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refused::Unresolved(host.to_owned()));
    }
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(Refused::Private(host.to_owned()));
    }
    Ok(addrs)
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused_and_public_ones_pass() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside} passed");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public} refused");
        }
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_accepted() {
        assert!(parse("https://hooks.example.com/portico").is_ok());
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        let url = parse("http://localhost:9/hook").unwrap();
        assert!(matches!(
            resolve(&url, false).await,
            Err(Refused::Private(_))
        ));
        assert!(resolve(&url, true).await.is_ok());
        let literal = parse("http://[::1]:9/hook").unwrap();
        assert!(matches!(
            resolve(&literal, false).await,
            Err(Refused::Private(_))
        ));
        let metadata = parse("http://169.254.169.254/latest").unwrap();
        assert!(resolve(&metadata, false).await.is_err());
    }
}
