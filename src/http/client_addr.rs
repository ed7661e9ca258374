//! The client's address: the one place that decides where a request comes from, for the rate
//! limits, the audit trail's source address, the login lockout and the request's log line.
//!
//! It is the TCP peer, unless the peer is one of the configured trusted proxies
//! (`server.trusted_proxies`, [`TrustedProxies`]). Then the chain the proxies reported is walked
//! from the right (the hop nearest to this service) to the left: trusted hops are skipped, and
//! the first address that is not a trusted proxy is the client. The chain is read from
//! `Forwarded` (RFC 7239, its `for=` parameters) when the request has one, else from
//! `X-Forwarded-For`. From any other peer both headers are ignored: anyone can send them.
//!
//! - A node the proxy hid (`unknown`, or an obfuscated `_name`) ends the walk: the client is the
//!   trusted hop that received the request from it.
//! - When every hop is trusted, the leftmost is the client.
//! - A header that cannot be read (a value that is no address, a broken `Forwarded` element) is
//!   ignored as a whole: the client is the peer, the proxy that sent it.
//!
//! [`of`] computes the address once per request and keeps it in the request's extensions.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::{web, HttpMessage, HttpRequest};
use ipnet::IpNet;

/// The proxies whose `Forwarded` and `X-Forwarded-For` are believed. Empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads a list of CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses
    /// (`127.0.0.1`, a /32 or /128). The error names the entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "{entry:?} is not an address or a CIDR block, e.g. 10.0.0.0/8 or \
                             127.0.0.1/32"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// True when `ip` (an IPv4-mapped IPv6 address as its IPv4 address) is in one of the blocks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`: see the module's docs.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let chain = if headers.contains_key(FORWARDED) {
            forwarded_chain(headers)
        } else {
            forwarded_for_chain(headers)
        };
        let Some(chain) = chain else {
            return peer;
        };
        let mut client = peer;
        for node in chain.iter().rev() {
            match node {
                Node::Ip(ip) if self.contains(*ip) => client = *ip,
                Node::Ip(ip) => return *ip,
                Node::Hidden => return client,
            }
        }
        client
    }
}

/// The client's address as [`of`] decided it, kept in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The address `req` comes from (see the module's docs), decided on the first call and kept
/// for the rest of the request. `None` only without a peer address (as in unit tests).
pub fn of(req: &HttpRequest) -> Option<IpAddr> {
    if let Some(known) = req.extensions().get::<ClientAddr>() {
        return Some(known.0);
    }
    let peer = req.peer_addr().map(|a: SocketAddr| a.ip())?;
    let client = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client(peer, req.headers()),
        None => peer.to_canonical(),
    };
    req.extensions_mut().insert(ClientAddr(client));
    Some(client)
}

const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// One hop of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Ip(IpAddr),
    /// `unknown`, an obfuscated identifier (`_hidden`), or an element without `for=`.
    Hidden,
}

/// The most hops read from a chain; a longer one is not believed.
const MAX_HOPS: usize = 64;

/// The `for=` nodes of every `Forwarded` field, left to right; `None` when any is unreadable.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<Node>> {
    let mut chain = Vec::new();
    for value in headers.get_all(FORWARDED) {
        let value = value.to_str().ok()?;
        for element in split_outside_quotes(value, ',') {
            if element.trim().is_empty() {
                continue;
            }
            chain.push(forwarded_element(element)?);
        }
    }
    (!chain.is_empty() && chain.len() <= MAX_HOPS).then_some(chain)
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=http;by=203.0.113.43`).
fn forwarded_element(element: &str) -> Option<Node> {
    let mut node = Node::Hidden;
    let mut seen_for = false;
    for pair in split_outside_quotes(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=')?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return None;
        }
        let value = unquote(value.trim())?;
        if name.eq_ignore_ascii_case("for") {
            if seen_for {
                return None;
            }
            seen_for = true;
            node = forwarded_node(&value)?;
        }
    }
    Some(node)
}

/// A `Forwarded` node: `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8:cafe::17]`,
/// `[2001:db8:cafe::17]:4711`, `unknown`, `_hidden` (and any of those with an obfuscated port).
fn forwarded_node(value: &str) -> Option<Node> {
    if let Some(rest) = value.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_node_port)) {
            return None;
        }
        return match ip.parse::<IpAddr>().ok()? {
            IpAddr::V6(v6) => Some(Node::Ip(IpAddr::V6(v6).to_canonical())),
            IpAddr::V4(_) => None,
        };
    }
    let (name, port) = match value.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (value, None),
    };
    if port.is_some_and(|p| !is_node_port(p)) {
        return None;
    }
    if name.eq_ignore_ascii_case("unknown") || is_obfuscated(name) {
        return Some(Node::Hidden);
    }
    match name.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(Node::Ip(IpAddr::V4(v4))),
        // An IPv6 address must be in brackets (RFC 7239, section 6).
        IpAddr::V6(_) => None,
    }
}

/// `_` followed by letters, digits, `.`, `_` or `-` (RFC 7239, section 6.3).
fn is_obfuscated(name: &str) -> bool {
    name.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

/// A port number, or an obfuscated port.
fn is_node_port(port: &str) -> bool {
    port.parse::<u16>().is_ok() || is_obfuscated(port)
}

/// The addresses of every `X-Forwarded-For` field, left to right; `None` when there is none or
/// any entry is not an address (`unknown` is a hidden node; a port after an address is allowed).
fn forwarded_for_chain(headers: &HeaderMap) -> Option<Vec<Node>> {
    let mut chain = Vec::new();
    for value in headers.get_all(X_FORWARDED_FOR) {
        for entry in value.to_str().ok()?.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            chain.push(forwarded_for_entry(entry)?);
        }
    }
    (!chain.is_empty() && chain.len() <= MAX_HOPS).then_some(chain)
}

fn forwarded_for_entry(entry: &str) -> Option<Node> {
    if entry.eq_ignore_ascii_case("unknown") {
        return Some(Node::Hidden);
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(Node::Ip(ip.to_canonical()));
    }
    // `192.0.2.1:1234` or `[2001:db8::1]:1234`.
    entry
        .parse::<SocketAddr>()
        .ok()
        .map(|a| Node::Ip(a.ip().to_canonical()))
}

/// `value` without its quotes and escapes when it is a quoted string; as is when it is a token
/// (or a token with `:`);
/// `None` when it is neither.
fn unquote(value: &str) -> Option<String> {
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    } else if !value.is_empty() && value.bytes().all(|b| is_token_byte(b) || b == b':') {
        // A `:` belongs in quotes (RFC 7239), but proxies send `for=192.0.2.43:47011` bare;
        // taking it keeps such a proxy's clients apart instead of counting them all as the proxy.
        Some(value.to_owned())
    } else {
        None
    }
}

/// A `tchar` of RFC 7230.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits on `separator` where it is not inside a quoted string (a quoted IPv6 address may hold
/// neither, but an obfuscated one or another parameter's value could).
fn split_outside_quotes(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&value[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    /// The client as seen from a trusted peer 10.0.0.1 (10.0.0.0/8 and ::1 trusted).
    fn via_proxy(pairs: &[(&str, &str)]) -> IpAddr {
        trusted(&["10.0.0.0/8", "::1"]).client(ip("10.0.0.1"), &headers(pairs))
    }

    #[test]
    fn the_list_takes_blocks_and_single_addresses_and_names_a_wrong_entry() {
        let list = trusted(&[
            "10.0.0.0/8",
            "127.0.0.1",
            " 2001:db8::/32 ",
            "192.168.1.7/24",
        ]);
        assert!(list.contains(ip("10.200.3.4")));
        assert!(list.contains(ip("127.0.0.1")));
        assert!(!list.contains(ip("127.0.0.2")));
        assert!(list.contains(ip("2001:db8:ffff::1")));
        assert!(list.contains(ip("192.168.1.200")), "host bits are dropped");
        assert!(list.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(!list.contains(ip("11.0.0.1")));
        for wrong in ["10.0.0.0/33", "example.org", "", "10.0.0.0/8/8", "1.2.3"] {
            let e = TrustedProxies::parse(&[wrong]).unwrap_err();
            assert!(e.contains(&format!("{wrong:?}")), "{e}");
        }
        assert_eq!(
            TrustedProxies::parse::<&str>(&[]).unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let spoofed = headers(&[
            ("forwarded", "for=198.51.100.7"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &spoofed),
            ip("127.0.0.1")
        );
        assert_eq!(
            trusted(&["10.0.0.0/8"]).client(ip("192.0.2.1"), &spoofed),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(via_proxy(&[]), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_for_with_quotes_ipv6_ports_and_other_parameters() {
        let cases = [
            ("for=192.0.2.43", "192.0.2.43"),
            ("For=\"192.0.2.43:47011\"", "192.0.2.43"),
            ("for=192.0.2.43:47011", "192.0.2.43"),
            ("for=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
            ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("for=\"[2001:db8:cafe::17]:_port\"", "2001:db8:cafe::17"),
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            ("proto=https; for=192.0.2.61 ;host=\"a;b,c\"", "192.0.2.61"),
            ("for=\"[::ffff:192.0.2.62]\"", "192.0.2.62"),
        ];
        for (value, want) in cases {
            assert_eq!(via_proxy(&[("forwarded", value)]), ip(want), "{value}");
        }
    }

    #[test]
    fn forwarded_chains_are_walked_from_the_right_past_trusted_hops() {
        let chain = "for=198.51.100.1, for=203.0.113.9, for=10.0.0.7";
        assert_eq!(via_proxy(&[("forwarded", chain)]), ip("203.0.113.9"));
        // Split over two fields, in order.
        let split = [
            ("forwarded", "for=198.51.100.1, for=203.0.113.9"),
            ("forwarded", "for=\"[::1]\""),
        ];
        assert_eq!(via_proxy(&split), ip("203.0.113.9"));
        // Every hop trusted: the leftmost.
        assert_eq!(
            via_proxy(&[("forwarded", "for=10.9.9.9, for=10.0.0.7")]),
            ip("10.9.9.9")
        );
        // Forwarded wins over X-Forwarded-For.
        assert_eq!(
            via_proxy(&[
                ("x-forwarded-for", "198.51.100.2"),
                ("forwarded", "for=198.51.100.3")
            ]),
            ip("198.51.100.3")
        );
    }

    #[test]
    fn a_hidden_node_leaves_the_hop_that_saw_it() {
        for hidden in ["unknown", "_hidden", "\"_SEVKISEK\"", "\"unknown:80\""] {
            let value = format!("for={hidden}, for=10.0.0.7");
            assert_eq!(
                via_proxy(&[("forwarded", &value)]),
                ip("10.0.0.7"),
                "{value}"
            );
        }
        // A hidden node left of an untrusted one does not matter.
        assert_eq!(
            via_proxy(&[("forwarded", "for=_x, for=198.51.100.4")]),
            ip("198.51.100.4")
        );
        // An element without `for` hides its node too.
        assert_eq!(
            via_proxy(&[("forwarded", "for=198.51.100.5, proto=https")]),
            ip("10.0.0.1")
        );
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "unknown, 10.0.0.9")]),
            ip("10.0.0.9")
        );
    }

    #[test]
    fn x_forwarded_for_chains_and_ports() {
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            via_proxy(&[
                ("x-forwarded-for", "198.51.100.1"),
                ("x-forwarded-for", "203.0.113.10,10.0.0.7")
            ]),
            ip("203.0.113.10")
        );
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "2001:db8::5")]),
            ip("2001:db8::5")
        );
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "[2001:db8::6]:443, 192.0.2.9:1234")]),
            ip("192.0.2.9")
        );
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "::ffff:192.0.2.10")]),
            ip("192.0.2.10")
        );
    }

    #[test]
    fn garbage_falls_back_to_the_peer() {
        let forwarded = [
            "for=",
            "for",
            "=192.0.2.1",
            "for=not-an-address",
            "for=2001:db8::1",
            "for=\"[192.0.2.1]\"",
            "for=\"[2001:db8::1\"",
            "for=\"[2001:db8::1]x\"",
            "for=192.0.2.1:99999",
            "for=\"192.0.2.1",
            "for=192.0.2.1;for=192.0.2.2",
            "for=192.0.2.1, for=bogus",
            "fo r=192.0.2.1",
            "for=_",
            "for=192.0.2.1 192.0.2.2",
            ",",
        ];
        for value in forwarded {
            assert_eq!(
                via_proxy(&[("forwarded", value)]),
                ip("10.0.0.1"),
                "{value:?}"
            );
        }
        let xff = [
            "",
            ",",
            "not-an-address",
            "192.0.2.1, bogus",
            "192.0.2.1 192.0.2.2",
            "192.0.2.300",
            "_hidden",
        ];
        for value in xff {
            assert_eq!(
                via_proxy(&[("x-forwarded-for", value)]),
                ip("10.0.0.1"),
                "{value:?}"
            );
        }
        // A broken Forwarded is not replaced by X-Forwarded-For.
        assert_eq!(
            via_proxy(&[
                ("forwarded", "for=bogus"),
                ("x-forwarded-for", "198.51.100.1")
            ]),
            ip("10.0.0.1")
        );
        // Too long a chain is not believed.
        let long = vec!["198.51.100.1"; MAX_HOPS + 1].join(",");
        assert_eq!(via_proxy(&[("x-forwarded-for", &long)]), ip("10.0.0.1"));
    }

    #[test]
    fn quoted_strings_unescape() {
        assert_eq!(unquote("\"a\\\"b\"").as_deref(), Some("a\"b"));
        assert_eq!(unquote("token").as_deref(), Some("token"));
        assert_eq!(unquote("\"open"), None);
        assert_eq!(unquote("two words"), None);
        assert_eq!(
            split_outside_quotes("a,\"b,c\",d", ','),
            vec!["a", "\"b,c\"", "d"]
        );
    }
}
