//! The owner's exceptions: one more destination a household allows one device, beside what its
//! level (or its manufacturer's MUD file) allows.
//!
//! An exception is plain data with one spelling, used in the journal, the request files and on
//! the command line: `DEST [PROTO[/PORT]]`, where `DEST` is a DNS name, an IP address or a
//! network (`198.51.100.0/24`), and `PROTO` is `tcp` or `udp`:
//!
//! ```text
//! weather.example.com            any protocol to that host's addresses
//! weather.example.com tcp/443    HTTPS only
//! 192.0.2.10 udp/123             NTP to one address
//! ```
//!
//! The device may open connections to the destination and receive the replies (conntrack's
//! `original` / `reply` directions); the destination may not open connections to the device.
//! A DNS name is resolved as MUD names are (RFC 8520 §7): from the answers the device itself
//! receives through the gateway. Exceptions apply at `declared`, `default` and `update-only`;
//! `isolated` ignores them (a quarantine is stricter than any owner exception) and `trusted`
//! needs none.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Longest DNS name an exception may name (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 253;

/// Where an exception lets the device go.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    /// A DNS name, lower case, without its trailing dot.
    Name(String),
    /// An address or a network.
    Network(IpNet),
}

/// A transport protocol an exception may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
}

impl Transport {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Transport::Tcp => 6,
            Transport::Udp => 17,
        }
    }
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// One destination the owner allows a device, beside its level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Exception {
    /// Where to.
    pub dest: Destination,
    /// Only this protocol (`None`: any).
    pub transport: Option<Transport>,
    /// Only this destination port (needs [`Exception::transport`]).
    pub port: Option<u16>,
}

/// Why a string is not an exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (expected DEST [tcp|udp[/PORT]], e.g. `weather.example.com tcp/443`)")]
pub struct ExceptionError(String);

impl FromStr for Exception {
    type Err = ExceptionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |m: String| Err(ExceptionError(m));
        let mut words = s.split_whitespace();
        let Some(dest) = words.next() else {
            return err("no destination".into());
        };
        let dest = parse_destination(dest)?;
        let transport_word = words.next();
        if let Some(extra) = words.next() {
            return err(format!("unexpected `{extra}` after the protocol"));
        }
        let (transport, port) = match transport_word {
            None => (None, None),
            Some(w) => {
                let (proto, port) = match w.split_once('/') {
                    Some((p, n)) => (p, Some(n)),
                    None => (w, None),
                };
                let transport = match proto.to_ascii_lowercase().as_str() {
                    "tcp" => Transport::Tcp,
                    "udp" => Transport::Udp,
                    other => return err(format!("protocol `{other}` is not tcp or udp")),
                };
                let port = match port {
                    None => None,
                    Some(n) => match n.parse::<u16>() {
                        Ok(p) if p > 0 => Some(p),
                        _ => return err(format!("port `{n}` is not a number from 1 to 65535")),
                    },
                };
                (Some(transport), port)
            }
        };
        Ok(Exception {
            dest,
            transport,
            port,
        })
    }
}

fn parse_destination(s: &str) -> Result<Destination, ExceptionError> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok(Destination::Network(IpNet::from(a)));
    }
    if let Ok(n) = s.parse::<IpNet>() {
        // The network as nft will hold it: host bits cleared.
        return Ok(Destination::Network(n.trunc()));
    }
    let name = s.trim_end_matches('.').to_ascii_lowercase();
    // RFC 1123 §2.1 host names: letters, digits and hyphens in labels of 1 to 63, not
    // starting or ending with a hyphen; at least two labels (a bare word is no destination).
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() > MAX_NAME_LEN || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(ExceptionError(format!(
            "`{s}` is neither an IP address, a network nor a DNS name"
        )));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ExceptionError(format!("`{s}` is not a valid IP address")));
    }
    Ok(Destination::Name(name))
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Name(n) => f.write_str(n),
            Destination::Network(n) if n.prefix_len() == n.max_prefix_len() => {
                write!(f, "{}", n.addr())
            }
            Destination::Network(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dest)?;
        if let Some(t) = self.transport {
            write!(f, " {}", t.as_str())?;
            if let Some(p) = self.port {
                write!(f, "/{p}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Exception {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Exception {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in [
            "weather.example.com",
            "weather.example.com tcp/443",
            "192.0.2.10 udp/123",
            "198.51.100.0/24 tcp",
            "2001:db8::1 tcp/8883",
            "2001:db8::/32",
        ] {
            let e: Exception = s.parse().unwrap();
            assert_eq!(e.to_string(), s);
        }
    }

    #[test]
    fn normalizes() {
        let e: Exception = "Weather.Example.COM. TCP/443".parse().unwrap();
        assert_eq!(e.to_string(), "weather.example.com tcp/443");
        let e: Exception = "198.51.100.7/24".parse().unwrap();
        assert_eq!(e.to_string(), "198.51.100.0/24");
        assert_eq!(e.port, None);
    }

    #[test]
    fn refuses_what_is_not_a_destination() {
        for (s, why) in [
            ("", "no destination"),
            ("localhost", "neither"),
            ("bad_name.example", "neither"),
            ("-x.example.com", "neither"),
            ("300.1.2.3", "not a valid IP"),
            ("example.com icmp", "not tcp or udp"),
            ("example.com tcp/0", "1 to 65535"),
            ("example.com tcp/70000", "1 to 65535"),
            ("example.com tcp/443 extra", "unexpected `extra`"),
            ("x\" ; flush ruleset", "neither"),
        ] {
            let e = s.parse::<Exception>().unwrap_err().to_string();
            assert!(e.contains(why), "{s:?}: {e}");
        }
    }
}
