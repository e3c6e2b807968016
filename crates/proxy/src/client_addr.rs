//! Who the client is, for rate limits: the TCP peer, unless the peer is one of
//! `MEND_TRUSTED_PROXIES` (IPs or CIDRs of the load balancers in front). Then the
//! client is the rightmost `X-Forwarded-For` address that is not a trusted proxy:
//! every hop appends the address it received from, so everything left of what the
//! trusted hops wrote is the client's to forge, and is never read.
//!
//! Without `MEND_TRUSTED_PROXIES` the header is ignored (any client could send one).
//! Only `X-Forwarded-For` is read, as HAProxy's `option forwardfor` and nginx's
//! `$proxy_add_x_forwarded_for` write it; `Forwarded` (RFC 7239) is not.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The trusted proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// The client address of a request, put in its extensions by the `/api` guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl TrustedProxies {
    /// Parses `MEND_TRUSTED_PROXIES`: comma-separated IPs (`10.0.0.5`, `::1`) or
    /// CIDRs (`10.0.0.0/8`); an error names the entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| format!("`{e}` is not an IP address or a CIDR like 10.0.0.0/8"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { nets })
    }

    /// Whether none are configured.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` carrying `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // All X-Forwarded-For headers, in order, form one list; read it from the right.
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|v| v.to_str().unwrap_or("").rsplit(','));
        for hop in hops {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(client) {
                        return client;
                    }
                }
                // What a trusted hop wrote is unreadable: the last trusted address
                // stands (never anything further left, which the client could write).
                None => return client,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_wrote() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        let lb = ip("10.1.2.3");
        // A forged entry on the left is never read.
        assert_eq!(
            trusted.client(lb, &headers(&["6.6.6.6, 203.0.113.7"])),
            ip("203.0.113.7")
        );
        // Two trusted hops, one header each.
        assert_eq!(
            trusted.client(lb, &headers(&["198.51.100.4", "192.0.2.1"])),
            ip("198.51.100.4")
        );
        assert_eq!(
            trusted.client(lb, &headers(&["198.51.100.4:5000"])),
            ip("198.51.100.4")
        );
        assert_eq!(
            trusted.client(lb, &headers(&["[2001:db8::7]:443"])),
            ip("2001:db8::7")
        );
        // Nothing forwarded, or garbage where the balancer writes: the balancer.
        assert_eq!(trusted.client(lb, &HeaderMap::new()), lb);
        assert_eq!(trusted.client(lb, &headers(&["1.2.3.4, junk"])), lb);
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // No trusted proxies: the peer, always.
        assert_eq!(
            TrustedProxies::default().client(lb, &headers(&["1.2.3.4"])),
            lb
        );
        // IPv4-mapped peers are read as IPv4.
        assert_eq!(
            trusted.client(ip("::ffff:10.1.2.3"), &headers(&["198.51.100.4"])),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn entries_are_ips_or_cidrs() {
        assert!(TrustedProxies::parse("10.0.0.0/8,::1, 2001:db8::/32").is_ok());
        let err = TrustedProxies::parse("10.0.0.0/8, lb.internal").unwrap_err();
        assert!(err.contains("lb.internal"), "{err}");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
