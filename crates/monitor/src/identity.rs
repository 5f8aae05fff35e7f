//! Device identity: the MAC address is the primary key; DHCP and mDNS add facts (hostname,
//! vendor class, parameter request list, MUD URL) and the device keeps its identity when its
//! IP addresses change (DHCP renumbering, SLAAC).

use crate::packet::Mac;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// IPv4 addresses remembered per device; the oldest is dropped first (bounded memory, and a
/// device cycling source addresses cannot grow its anti-spoofing list).
pub const MAX_V4_ADDRS_PER_DEVICE: usize = 4;
/// IPv6 addresses remembered per device: link-local, SLAAC and a few temporary (RFC 8981)
/// addresses, which rotate.
pub const MAX_V6_ADDRS_PER_DEVICE: usize = 8;
/// Both families together.
pub const MAX_ADDRS_PER_DEVICE: usize = MAX_V4_ADDRS_PER_DEVICE + MAX_V6_ADDRS_PER_DEVICE;
/// mDNS names remembered per device.
pub const MAX_MDNS_NAMES: usize = 8;
/// Longest text fact kept (hostname, vendor class, MUD URL); longer values are cut.
pub const MAX_FACT_LEN: usize = 255;

/// What the monitor knows about one device.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DeviceFacts {
    /// The device's identity: every other fact hangs off its MAC address.
    pub mac: Mac,
    /// Manufacturer from the IEEE OUI registry, when `ieee-data` is installed.
    pub vendor: Option<String>,
    /// DHCPv4 option 12.
    pub hostname: Option<String>,
    /// DHCPv4 option 60 / DHCPv6 option 16.
    pub vendor_class: Option<String>,
    /// DHCPv4 option 55, the option codes in the order the client asked for them (a
    /// fingerprint of the DHCP client implementation).
    pub parameter_list: Vec<u8>,
    /// RFC 8520 §10: DHCPv4 option 161 / DHCPv6 option 112. The first valid (`https://`, at
    /// most 255 bytes) URL the device announced; a later different one does not replace it.
    pub mud_url: Option<String>,
    /// The newest URL the device announced that differs from `mud_url` (an event was emitted):
    /// a device whose MUD URL changes is not taken at its new word, so the gateway can fall
    /// back to a stricter level.
    pub mud_url_changed_to: Option<String>,
    /// Names the device announced over mDNS (RFC 6762).
    pub mdns_names: BTreeSet<String>,
    /// IP addresses seen as this device's source (or leased to it by the gateway's own DHCP
    /// server), oldest first; at most [`MAX_V4_ADDRS_PER_DEVICE`] IPv4 and
    /// [`MAX_V6_ADDRS_PER_DEVICE`] IPv6 ones.
    pub addrs: Vec<IpAddr>,
    /// Packet time (ns since the epoch) of the first frame sent by the device.
    pub first_seen_ns: u64,
    /// Packet time of the last frame sent by the device.
    pub last_seen_ns: u64,
}

impl DeviceFacts {
    /// A device first seen at `now_ns` (packet time), with no facts yet.
    pub fn new(mac: Mac, now_ns: u64) -> Self {
        DeviceFacts {
            mac,
            first_seen_ns: now_ns,
            last_seen_ns: now_ns,
            ..Default::default()
        }
    }

    /// Record an address; returns true when it is new for this device.
    pub fn add_addr(&mut self, addr: IpAddr) -> bool {
        if addr.is_unspecified() || self.addrs.contains(&addr) {
            return false;
        }
        let (same_family, cap) = if addr.is_ipv4() {
            (
                self.addrs.iter().filter(|a| a.is_ipv4()).count(),
                MAX_V4_ADDRS_PER_DEVICE,
            )
        } else {
            (
                self.addrs.iter().filter(|a| a.is_ipv6()).count(),
                MAX_V6_ADDRS_PER_DEVICE,
            )
        };
        if same_family >= cap {
            if let Some(oldest) = self
                .addrs
                .iter()
                .position(|a| a.is_ipv4() == addr.is_ipv4())
            {
                self.addrs.remove(oldest);
            }
        }
        self.addrs.push(addr);
        true
    }
}

fn bounded_text(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_FACT_LEN)])
        .trim_matches(char::from(0))
        .trim()
        .to_string();
    (!s.is_empty()).then_some(s)
}

/// Longest MUD URL accepted (RFC 8520 §10: DHCPv4 option 161 holds at most 255 bytes; the
/// same bound is applied to DHCPv6 option 112, whose length field would allow 65 535).
pub const MAX_MUD_URL_LEN: usize = 255;

/// A MUD URL option as announced, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum MudUrlOption {
    /// An `https://` URL with a host, at most [`MAX_MUD_URL_LEN`] bytes.
    Valid(String),
    /// Refused: why (the end of a household sentence), and the value as it may be shown
    /// (control characters removed, at most 80 characters).
    Refused {
        /// Completes "The device's MUD URL …" (`"is not a secure web address (https://)"`).
        why: &'static str,
        /// The value, safe to print.
        shown: String,
    },
}

/// Check a MUD URL option's bytes (RFC 8520 §10: an `https` URL).
pub(crate) fn check_mud_url(bytes: &[u8]) -> MudUrlOption {
    let shown: String = {
        let s: String = String::from_utf8_lossy(bytes)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if s.chars().count() > 80 {
            s.chars().take(79).chain(std::iter::once('…')).collect()
        } else {
            s
        }
    };
    let refused = |why| MudUrlOption::Refused {
        why,
        shown: shown.clone(),
    };
    if bytes.len() > MAX_MUD_URL_LEN {
        return refused("is longer than 255 bytes");
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return refused("is not text");
    };
    let text = text.trim_end_matches(char::from(0));
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return refused("contains spaces or control characters");
    }
    // The url crate forgives `https:///host` (extra slashes); a MUD URL is written exactly.
    let authority_written = text
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        && !text[8..].starts_with('/');
    match url::Url::parse(text) {
        Ok(u) if u.scheme() != "https" => refused("is not a secure web address (https://)"),
        Ok(u) if authority_written && u.host_str().is_some_and(|h| !h.is_empty()) => {
            MudUrlOption::Valid(text.to_string())
        }
        Ok(_) | Err(_) => refused("is not a web address"),
    }
}

/// Facts a DHCP message carried about its client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DhcpFacts {
    /// DHCPv4 `chaddr` (RFC 2131 §2), the client's hardware address as it states it (only
    /// when the message's `hlen` is sane); `None` for DHCPv6.
    pub client_mac: Option<Mac>,
    /// DHCPv4 option 12 (RFC 2132 §3.14), cut to 255 bytes.
    pub hostname: Option<String>,
    /// DHCPv4 option 60 (RFC 2132 §9.13) or the first DHCPv6 vendor class (RFC 8415 §21.16).
    pub vendor_class: Option<String>,
    /// DHCPv4 option 55 (RFC 2132 §9.8), in the client's order.
    pub parameter_list: Vec<u8>,
    /// DHCPv4 option 161 or DHCPv6 option 112 (RFC 8520 §10), checked.
    pub mud_url: Option<MudUrlOption>,
    /// A server's message: BOOTREPLY (DHCPv4), Advertise/Reply/Reconfigure (DHCPv6).
    pub is_server_reply: bool,
    /// DHCPv4 ACK: the lease is granted (an OFFER is only a proposal).
    pub is_ack: bool,
    /// Server side: the address given to the client (DHCPv4 `yiaddr`).
    pub assigned: Option<IpAddr>,
    /// DHCPv4 option 54, the server identifier (RFC 2132 §9.7).
    pub server: Option<IpAddr>,
    /// DHCPv4 option 6, the DNS servers offered (RFC 2132 §3.8), at most 8.
    pub dns_servers: Vec<IpAddr>,
}

/// Parse a DHCPv4 message (RFC 2131) with `dhcproto`. `None` when it is not DHCP.
pub fn parse_dhcpv4(payload: &[u8]) -> Option<DhcpFacts> {
    use dhcproto::v4::{DhcpOption, Message, Opcode, OptionCode};
    use dhcproto::{Decodable, Decoder};
    if !dhcpv4_lengths_sane(payload) {
        return None;
    }
    let msg = Message::decode(&mut Decoder::new(payload)).ok()?;
    let mut f = DhcpFacts::default();
    // dhcproto 0.14 panics in chaddr() when a message claims hlen > 16 (its array size);
    // a hostile client can send that, so check first.
    if msg.hlen() <= 16 && msg.chaddr().len() >= 6 {
        let chaddr = msg.chaddr();
        let mut m = [0u8; 6];
        m.copy_from_slice(&chaddr[..6]);
        f.client_mac = Some(Mac(m));
    }
    f.is_server_reply = msg.opcode() == Opcode::BootReply;
    if f.is_server_reply && !msg.yiaddr().is_unspecified() {
        f.assigned = Some(IpAddr::V4(msg.yiaddr()));
    }
    let opts = msg.opts();
    f.is_ack = f.is_server_reply
        && matches!(
            opts.get(OptionCode::MessageType),
            Some(DhcpOption::MessageType(dhcproto::v4::MessageType::Ack))
        );
    if let Some(DhcpOption::Hostname(h)) = opts.get(OptionCode::Hostname) {
        f.hostname = bounded_text(h.as_bytes());
    }
    if let Some(DhcpOption::ClassIdentifier(v)) = opts.get(OptionCode::ClassIdentifier) {
        f.vendor_class = bounded_text(v);
    }
    if let Some(DhcpOption::ParameterRequestList(list)) = opts.get(OptionCode::ParameterRequestList)
    {
        f.parameter_list = list.iter().map(|c| u8::from(*c)).collect();
    }
    // RFC 8520 §10: option 161 carries the MUD URL; dhcproto has no name for it.
    if let Some(DhcpOption::Unknown(u)) = opts.get(OptionCode::Unknown(161)) {
        f.mud_url = Some(check_mud_url(u.data()));
    }
    if let Some(DhcpOption::ServerIdentifier(s)) = opts.get(OptionCode::ServerIdentifier) {
        f.server = Some(IpAddr::V4(*s));
    }
    if let Some(DhcpOption::DomainNameServer(list)) = opts.get(OptionCode::DomainNameServer) {
        f.dns_servers = list.iter().take(8).map(|a| IpAddr::V4(*a)).collect();
    }
    Some(f)
}

/// Parse a DHCPv6 message (RFC 8415) for the MUD URL (RFC 8520 §10, option 112) and
/// vendor class (option 16).
pub fn parse_dhcpv6(payload: &[u8]) -> Option<DhcpFacts> {
    use dhcproto::v6::{DhcpOption, Message};
    use dhcproto::{Decodable, Decoder};
    if !dhcpv6_lengths_sane(payload) {
        return None;
    }
    let msg = Message::decode(&mut Decoder::new(payload)).ok()?;
    let mut f = DhcpFacts {
        // RFC 8415 §7.3: Advertise 2, Reply 7, Reconfigure 10 come from servers.
        is_server_reply: matches!(payload[0], 2 | 7 | 10),
        ..DhcpFacts::default()
    };
    for opt in msg.opts().iter() {
        match opt {
            DhcpOption::VendorClass(vc) => {
                if let Some(first) = vc.data.first() {
                    f.vendor_class = bounded_text(first);
                }
            }
            DhcpOption::Unknown(u) if u16::from(u.code()) == 112 => {
                f.mud_url = Some(check_mud_url(u.data()));
            }
            _ => {}
        }
    }
    Some(f)
}

/// dhcproto 0.14 asserts fixed option lengths (`debug_assert!`, a panic in debug builds) and
/// subtracts header sizes without checking (rapid commit 80, client network interface 94,
/// client FQDN 81, bulk lease query 151–155). Walk the options (RFC 2132 §2: code, length,
/// data; 0 pads, 255 ends) after the 236-byte BOOTP header and magic cookie and refuse
/// messages whose lengths these decoders would trip over.
fn dhcpv4_lengths_sane(payload: &[u8]) -> bool {
    if payload.len() < 240 {
        return false;
    }
    let mut rest = &payload[240..];
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => {
                rest = tail;
                continue;
            }
            255 => return true,
            _ => {}
        }
        let Some((&len, tail)) = tail.split_first() else {
            return false;
        };
        let len = len as usize;
        let ok = match code {
            80 => len == 0,
            94 => len == 3,
            81 => len >= 3,
            151 => len >= 1,
            152..=155 => len == 4,
            _ => true,
        };
        if !ok || tail.len() < len {
            return false;
        }
        rest = &tail[len..];
    }
    true
}

/// dhcproto 0.14 subtracts fixed header sizes from option lengths without checking them
/// (status code 13, vendor class 16, vendor options 17, NTP server 56): a hostile client's
/// short option underflows (a panic in checked builds). Walk the TLVs (RFC 8415 §21.1) first
/// and refuse such messages; relay messages (types 12, 13) are not client messages.
fn dhcpv6_lengths_sane(payload: &[u8]) -> bool {
    if payload.len() < 4 || matches!(payload[0], 12 | 13) {
        return false;
    }
    dhcpv6_options_sane(&payload[4..], 0)
}

/// Every option, and every option nested in one (RFC 8415 §21: IA_NA, IA_TA, IA Address,
/// IA_PD, IA Prefix, vendor-specific options, a relay's message), is long enough for the
/// fixed fields `dhcproto` subtracts from its length: it subtracts without checking, which
/// overflows (found by the `monitor_frames` fuzz target in a nested vendor option, then in a
/// status code after a preference option of the wrong length).
fn dhcpv6_options_sane(mut rest: &[u8], depth: u8) -> bool {
    if depth > 8 {
        return false;
    }
    while rest.len() >= 4 {
        let code = u16::from_be_bytes([rest[0], rest[1]]);
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        let min = match code {
            // Authentication: protocol, algorithm, RDM, replay detection (RFC 8415 §21.11).
            11 => 11,
            13 => 2,
            16 | 17 | 56 => 4,
            _ => 0,
        };
        // Options `dhcproto` reads at a fixed size whatever their length says (RFC 8415 §21.8
        // preference, §21.9 elapsed time, §21.12 server unicast, §21.14 rapid commit, §21.19
        // reconfigure message, §21.20 reconfigure accept): any other length would misalign
        // every option after it.
        let exact = match code {
            7 | 19 => Some(1),
            8 => Some(2),
            12 => Some(16),
            14 | 20 => Some(0),
            _ => None,
        };
        if len < min || exact.is_some_and(|e| e != len) || rest.len() < 4 + len {
            return false;
        }
        let body = &rest[4..4 + len];
        // The fixed fields before a container's own options.
        let nested = match code {
            3 | 25 => Some(12),
            4 | 17 => Some(4),
            5 => Some(24),
            26 => Some(25),
            // A relayed message: type, hop count, link and peer addresses (§9).
            9 => Some(34),
            _ => None,
        };
        if let Some(skip) = nested {
            if body.len() < skip || !dhcpv6_options_sane(&body[skip..], depth + 1) {
                return false;
            }
        }
        rest = &rest[4 + len..];
    }
    rest.is_empty()
}

/// Names a device announces in mDNS responses (RFC 6762 §6): the owner names of its answers.
pub fn parse_mdns_names(payload: &[u8]) -> Vec<String> {
    let Ok(p) = simple_dns::Packet::parse(payload) else {
        return vec![];
    };
    if !p.has_flags(simple_dns::PacketFlag::RESPONSE) {
        return vec![];
    }
    let mut names: Vec<String> = p
        .answers
        .iter()
        .filter(|rr| {
            matches!(
                rr.rdata,
                simple_dns::rdata::RData::A(_) | simple_dns::rdata::RData::AAAA(_)
            )
        })
        .map(|rr| rr.name.to_string())
        .filter(|n| n.len() <= MAX_FACT_LEN)
        .collect();
    names.truncate(MAX_MDNS_NAMES);
    names
}

/// IEEE OUI registry (MA-L) from Debian's `ieee-data` package.
#[derive(Default)]
pub struct OuiTable {
    vendors: HashMap<[u8; 3], String>,
}

/// Where Debian's `ieee-data` package installs the registry.
pub(crate) const DEBIAN_OUI_PATH: &str = "/usr/share/ieee-data/oui.txt";

impl OuiTable {
    /// Load the Debian file; an empty table (no vendor names) when it is not installed.
    pub fn load_default() -> Self {
        std::fs::read_to_string(DEBIAN_OUI_PATH)
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }

    /// Lines like `00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.`
    pub fn parse(text: &str) -> Self {
        let mut vendors = HashMap::new();
        for line in text.lines() {
            let Some((prefix, rest)) = line.split_once("(hex)") else {
                continue;
            };
            let hex: String = prefix.trim().split('-').collect();
            if hex.len() != 6 {
                continue;
            }
            let Ok(v) = u32::from_str_radix(&hex, 16) else {
                continue;
            };
            let b = v.to_be_bytes();
            vendors.insert([b[1], b[2], b[3]], rest.trim().to_string());
        }
        OuiTable { vendors }
    }

    /// Number of OUIs (24-bit prefixes) with a vendor name.
    pub fn len(&self) -> usize {
        self.vendors.len()
    }

    /// No vendor names: `ieee-data` is not installed, or the text held no registry lines.
    pub fn is_empty(&self) -> bool {
        self.vendors.is_empty()
    }

    /// Locally administered addresses (bit 1 of the first octet) have no registered vendor.
    pub fn vendor(&self, mac: &Mac) -> Option<&str> {
        if mac.0[0] & 2 != 0 {
            return None;
        }
        self.vendors
            .get(&[mac.0[0], mac.0[1], mac.0[2]])
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcpv6_mud_url_option_112_and_vendor_class() {
        use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};
        use dhcproto::{Encodable, Encoder};
        let mut msg = Message::new(MessageType::Solicit);
        msg.opts_mut()
            .insert(DhcpOption::Unknown(UnknownOption::new(
                OptionCode::from(112),
                b"https://cam.example.com/mud/cam.json".to_vec(),
            )));
        let mut buf = Vec::new();
        msg.encode(&mut Encoder::new(&mut buf)).unwrap();
        let f = parse_dhcpv6(&buf).unwrap();
        let cam = Some(MudUrlOption::Valid(
            "https://cam.example.com/mud/cam.json".into(),
        ));
        assert_eq!(f.mud_url, cam);
        assert!(!f.is_server_reply);
        // Vendor class (option 16: enterprise number, then length-prefixed strings), written
        // by hand: dhcproto 0.14's encoder puts the item count where the byte length belongs.
        let mut with_vc = buf.clone();
        with_vc.extend_from_slice(&[0, 16, 0, 16, 0, 0, 0, 9, 0, 10]);
        with_vc.extend_from_slice(b"cam-os 2.1");
        let f = parse_dhcpv6(&with_vc).unwrap();
        assert_eq!(f.vendor_class.as_deref(), Some("cam-os 2.1"));
        assert_eq!(f.mud_url, cam);
        // Hostile lengths: vendor class / vendor opts / user class shorter than their fixed part.
        for code in [13u8, 15, 16, 17, 56] {
            let mut bad = buf.clone();
            bad.extend_from_slice(&[0, code, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]);
            let _ = parse_dhcpv6(&bad);
        }
    }

    #[test]
    fn mud_urls_must_be_https_and_at_most_255_bytes() {
        assert_eq!(
            check_mud_url(b"https://cam.example.com/mud/cam.json"),
            MudUrlOption::Valid("https://cam.example.com/mud/cam.json".into())
        );
        for (bad, why) in [
            (&b"http://cam.example.com/mud.json"[..], "https"),
            (b"ftp://x/y", "https"),
            (b"https:///nohost", "web address"),
            (b"https://a b/c", "spaces"),
            (b"cam.example.com/mud.json", "web address"),
            (b"https://\xff\xfe/x", "not text"),
        ] {
            match check_mud_url(bad) {
                MudUrlOption::Refused { why: w, .. } => assert!(w.contains(why), "{bad:?}: {w}"),
                v => panic!("{bad:?} accepted: {v:?}"),
            }
        }
        let long = format!("https://cam.example.com/{}", "a".repeat(240));
        assert!(long.len() > 255);
        match check_mud_url(long.as_bytes()) {
            MudUrlOption::Refused { why, shown } => {
                assert!(why.contains("255"), "{why}");
                assert_eq!(shown.chars().count(), 80);
            }
            v => panic!("accepted {v:?}"),
        }
    }

    #[test]
    fn addresses_are_capped_per_family_oldest_first() {
        let mut f = DeviceFacts::new(Mac([2, 0, 0, 0, 0, 1]), 0);
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert!(f.add_addr(v6));
        for i in 0..10u8 {
            assert!(f.add_addr(IpAddr::from([10, 0, 0, i])));
        }
        let v4: Vec<String> = f
            .addrs
            .iter()
            .filter(|a| a.is_ipv4())
            .map(|a| a.to_string())
            .collect();
        assert_eq!(v4, ["10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9"]);
        // The IPv6 address survived ten IPv4 ones.
        assert!(f.addrs.contains(&v6));
        assert!(!f.add_addr(IpAddr::from([10, 0, 0, 9])), "known address");
    }

    #[test]
    fn oui_lines_parse_and_local_macs_have_no_vendor() {
        let t = OuiTable::parse(
            "OUI/MA-L\n\n00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.\n002272     (base 16)\t\tAmerican Micro-Fuel Device Corp.\n",
        );
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.vendor(&Mac([0, 0x22, 0x72, 1, 2, 3])),
            Some("American Micro-Fuel Device Corp.")
        );
        assert_eq!(t.vendor(&Mac([2, 0x22, 0x72, 1, 2, 3])), None);
    }
}
