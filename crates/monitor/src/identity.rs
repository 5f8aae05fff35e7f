//! Device identity: the MAC address is the primary key; DHCP and mDNS add facts (hostname,
//! vendor class, parameter request list, MUD URL) and the device keeps its identity when its
//! IP addresses change (DHCP renumbering, SLAAC).

use crate::packet::Mac;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Addresses remembered per device; older ones are dropped first (bounded memory).
pub const MAX_ADDRS_PER_DEVICE: usize = 8;
/// mDNS names remembered per device.
pub const MAX_MDNS_NAMES: usize = 8;
/// Longest text fact kept (hostname, vendor class, MUD URL); longer values are cut.
pub const MAX_FACT_LEN: usize = 255;

/// What the monitor knows about one device.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DeviceFacts {
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
    /// RFC 8520 §10: DHCPv4 option 161 / DHCPv6 option 112.
    pub mud_url: Option<String>,
    /// Names the device announced over mDNS (RFC 6762).
    pub mdns_names: BTreeSet<String>,
    /// IP addresses seen as this device's source, oldest first.
    pub addrs: Vec<IpAddr>,
    /// Packet time (ns since the epoch) of the first and last frame sent by the device.
    pub first_seen_ns: u64,
    pub last_seen_ns: u64,
}

impl DeviceFacts {
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
        if self.addrs.len() == MAX_ADDRS_PER_DEVICE {
            self.addrs.remove(0);
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

/// Facts a DHCP message carried about its client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DhcpFacts {
    pub client_mac: Option<Mac>,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub parameter_list: Vec<u8>,
    pub mud_url: Option<String>,
    /// Server side (OFFER/ACK): the address given to the client, the server, and DNS servers.
    pub is_server_reply: bool,
    pub assigned: Option<IpAddr>,
    pub server: Option<IpAddr>,
    pub dns_servers: Vec<IpAddr>,
}

/// Parse a DHCPv4 message (RFC 2131) with `dhcproto`. `None` when it is not DHCP.
pub fn parse_dhcpv4(payload: &[u8]) -> Option<DhcpFacts> {
    use dhcproto::v4::{DhcpOption, Message, Opcode, OptionCode};
    use dhcproto::{Decodable, Decoder};
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
        f.mud_url = bounded_text(u.data());
    }
    if let Some(DhcpOption::ServerIdentifier(s)) = opts.get(OptionCode::ServerIdentifier) {
        f.server = Some(IpAddr::V4(*s));
    }
    if let Some(DhcpOption::DomainNameServer(list)) = opts.get(OptionCode::DomainNameServer) {
        f.dns_servers = list.iter().take(8).map(|a| IpAddr::V4(*a)).collect();
    }
    Some(f)
}

/// Parse a DHCPv6 client message (RFC 8415) for the MUD URL (RFC 8520 §10, option 112) and
/// vendor class (option 16).
pub fn parse_dhcpv6(payload: &[u8]) -> Option<DhcpFacts> {
    use dhcproto::v6::{DhcpOption, Message, OptionCode};
    use dhcproto::{Decodable, Decoder};
    let msg = Message::decode(&mut Decoder::new(payload)).ok()?;
    let mut f = DhcpFacts::default();
    for opt in msg.opts().iter() {
        match opt {
            DhcpOption::VendorClass(vc) => {
                if let Some(first) = vc.data.first() {
                    f.vendor_class = bounded_text(first);
                }
            }
            DhcpOption::Unknown(u) if u16::from(u.code()) == 112 => {
                f.mud_url = bounded_text(u.data());
            }
            _ => {}
        }
    }
    let _ = OptionCode::VendorClass;
    Some(f)
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
pub const DEBIAN_OUI_PATH: &str = "/usr/share/ieee-data/oui.txt";

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

    pub fn len(&self) -> usize {
        self.vendors.len()
    }

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
