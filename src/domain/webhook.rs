//! Webhooks, as the Standard Webhooks specification has them: which addresses an endpoint may
//! have, how a delivery is signed, when a failed one is tried again, and the states of a
//! delivery. Pure rules: no SQL, no HTTP client (the sender is `crate::webhooks`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::string_enum;

string_enum! {
    /// Where a delivery is: `pending` (due at `next_attempt_at`), `sending` (a worker holds it),
    /// `delivered` (the endpoint answered 2xx), `dead` (given up after about a day of retries).
    DeliveryState {
        Pending => "pending",
        Sending => "sending",
        Delivered => "delivered",
        Dead => "dead",
    }
}

/// The longest endpoint URL accepted.
pub const MAX_URL: usize = 2000;
/// The longest description of an endpoint.
pub const MAX_DESCRIPTION: usize = 200;
/// The prefix of a signing secret as shown to its receiver.
pub const SECRET_PREFIX: &str = "whsec_";

/// Checks an endpoint URL: absolute `https` (or `http` when `allow_local`), a host, no user
/// name or password (they would be a secret in the URL), no fragment, at most [`MAX_URL`]
/// characters, and no loopback, private, link-local or otherwise non-public address unless
/// `allow_local`. A host name is checked again, against what it resolves to, at every attempt
/// (see `crate::webhooks::sender`). Returns the URL as it will be called, or why it is refused.
pub fn check_url(text: &str, allow_local: bool) -> Result<url::Url, String> {
    if text.len() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_local => {}
        _ => return Err("must be an https URL".to_owned()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (#...)".to_owned());
    }
    let refused = "must not point at a loopback, private, link-local or other non-public address";
    match url.host() {
        None => return Err("must name a host".to_owned()),
        Some(url::Host::Ipv4(ip)) if !allow_local && !is_public(IpAddr::V4(ip)) => {
            return Err(refused.to_owned())
        }
        Some(url::Host::Ipv6(ip)) if !allow_local && !is_public(IpAddr::V6(ip)) => {
            return Err(refused.to_owned())
        }
        Some(url::Host::Domain(name)) if !allow_local && is_local_name(name) => {
            return Err(refused.to_owned())
        }
        Some(_) => {}
    }
    Ok(url)
}

/// Names that always mean this machine or the local network.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
        || !name.contains('.')
}

/// Whether `ip` is an address on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), unspecified, multicast, broadcast, documentation or
/// reserved. An IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
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
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 to IPv4 inside
}

/// The `webhook-signature` entry of one secret: `v1,` and the base64 of
/// HMAC-SHA256(secret, `{id}.{timestamp}.{body}`).
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one entry per secret that signs (two during a rotation's
/// overlap), separated by spaces.
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| signature(key, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A secret as its receiver is shown it: `whsec_` and the base64 of its bytes.
pub fn secret_text(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// When a failed delivery is tried again, and when it is given up.
#[derive(Debug, Clone, Copy)]
pub struct RetrySchedule {
    /// The wait after the first failure; it doubles with every further one ...
    pub base: Duration,
    /// ... up to this.
    pub max: Duration,
    /// A delivery still failing this long after its event is dead.
    pub give_up_after: Duration,
}

impl RetrySchedule {
    /// The wait after the `attempts`-th failed attempt: `base * 2^(attempts - 1)`, at most
    /// `max`, spread by `jitter` (0.0 to 1.0) over 75 % to 125 % of it, so that deliveries that
    /// failed together (an endpoint that was down) do not all come back at the same second.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let plain = self
            .base
            .checked_mul(1_i32 << exponent)
            .unwrap_or(self.max)
            .min(self.max);
        let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
        Duration::milliseconds((plain.num_milliseconds() as f64 * factor) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_must_be_public_https() {
        assert!(check_url("https://cases.example.org/hooks/maatje", false).is_ok());
        assert!(check_url("https://203.0.114.7/hook", false).is_ok());
        for refused in [
            "http://cases.example.org/hook",
            "ftp://cases.example.org/hook",
            "https://user:pw@cases.example.org/hook",
            "https://cases.example.org/hook#x",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://172.16.0.1/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/hook",
            "https://0.0.0.0/hook",
            "https://[::1]/hook",
            "https://[fe80::1]/hook",
            "https://[fd00::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
            "https://printer.local/hook",
            "https://intranet/hook",
            "not a url",
            "/relative",
        ] {
            assert!(check_url(refused, false).is_err(), "{refused} was accepted");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL));
        assert!(check_url(&long, false).is_err());
    }

    #[test]
    fn the_local_switch_allows_loopback_and_http() {
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("https://localhost/hook", true).is_ok());
        // Still no secret in the URL.
        assert!(check_url("http://u:p@127.0.0.1/hook", true).is_err());
        assert!(check_url("ftp://127.0.0.1/hook", true).is_err());
    }

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "2a00:1450:4001:82a::200e", "145.97.39.155"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.2",
            "10.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "ff02::1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn signatures_follow_the_specification() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let header = signature_header(&[key.clone(), vec![1, 2, 3]], "a", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(secret_text(&key), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter() {
        let schedule = RetrySchedule {
            base: Duration::seconds(30),
            max: Duration::hours(4),
            give_up_after: Duration::hours(24),
        };
        assert_eq!(schedule.delay(1, 0.5), Duration::seconds(30));
        assert_eq!(schedule.delay(2, 0.5), Duration::seconds(60));
        assert_eq!(schedule.delay(5, 0.5), Duration::seconds(480));
        assert_eq!(schedule.delay(40, 0.5), Duration::hours(4));
        assert_eq!(schedule.delay(1, 0.0), Duration::milliseconds(22_500));
        assert_eq!(schedule.delay(1, 1.0), Duration::milliseconds(37_500));
    }
}
