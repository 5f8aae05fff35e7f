//! [`Mac`]: the one 48-bit Ethernet address type of the workspace.
//!
//! A device is known by its MAC address everywhere: in the policy IR (`EthMatch::peer_mac`), in
//! `enforce` (the primary key of a managed device), in `monitor` (the identity of a sender) and in
//! the gateway's journal. It is plain data; its text form is the lower-case colon form
//! (`02:00:5e:10:00:01`, RFC 6991 `yang:mac-address`), which is also its serde form, so JSON
//! written by any crate spells a MAC address the same way.

use std::fmt;
use std::str::FromStr;

/// A MAC address (EUI-48), six octets in transmission order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// Group bit (I/G, IEEE 802 §8.2) set: broadcast or multicast, never a device's own address.
    pub fn is_group(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// The octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl From<[u8; 6]> for Mac {
    fn from(b: [u8; 6]) -> Mac {
        Mac(b)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Why a text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a MAC address like 02:00:00:00:00:01 ({reason})")]
pub struct ParseMacError {
    text: String,
    reason: &'static str,
}

impl FromStr for Mac {
    type Err = ParseMacError;

    /// Six octets of two hex digits each (either case), separated by `:` or `-` (one separator
    /// throughout).
    fn from_str(s: &str) -> Result<Self, ParseMacError> {
        let err = |reason| ParseMacError {
            text: s.chars().take(64).collect(),
            reason,
        };
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut b = [0u8; 6];
        let mut n = 0;
        for part in s.split(sep) {
            if n == 6 {
                return Err(err("more than six octets"));
            }
            if part.len() != 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(err("each octet is two hex digits"));
            }
            b[n] = u8::from_str_radix(part, 16).map_err(|_| err("each octet is two hex digits"))?;
            n += 1;
        }
        if n != 6 {
            return Err(err("fewer than six octets"));
        }
        Ok(Mac(b))
    }
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_lower_case() {
        let m: Mac = "02:AA:bb:00:01:ff".parse().unwrap();
        assert_eq!(m, Mac([0x02, 0xaa, 0xbb, 0x00, 0x01, 0xff]));
        assert_eq!(m.to_string(), "02:aa:bb:00:01:ff");
        assert_eq!("02-aa-bb-00-01-ff".parse::<Mac>().unwrap(), m);
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "02:aa:bb:00:01",
            "02:aa:bb:00:01:ff:00",
            "02:aa:bb:00:01:fff",
            "02:aa:bb:00:01:zz",
            "02:aa:bb:00:01:+f",
            "2:aa:bb:00:01:ff",
            "02:aa-bb:00:01:ff",
        ] {
            let e = bad.parse::<Mac>().unwrap_err();
            assert!(e.to_string().contains("is not a MAC address"), "{bad}: {e}");
        }
    }

    #[test]
    fn serde_is_the_text_form() {
        let m = Mac([2, 0, 0x5e, 0x10, 0, 1]);
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, "\"02:00:5e:10:00:01\"");
        assert_eq!(serde_json::from_str::<Mac>(&j).unwrap(), m);
        assert!(serde_json::from_str::<Mac>("\"02:00\"").is_err());
    }

    #[test]
    fn group_bit() {
        assert!(Mac::BROADCAST.is_group());
        assert!("01:00:5e:00:00:fb".parse::<Mac>().unwrap().is_group());
        assert!(!"02:00:5e:00:00:fb".parse::<Mac>().unwrap().is_group());
    }
}
