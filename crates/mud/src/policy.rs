//! The policy IR: what a MUD file allows, with every RFC 8520 abstraction kept symbolic.
//!
//! This is the contract between the parser (which fills it) and enforcement (which
//! turns it into firewall rules). It knows nothing of nftables: abstractions such as
//! `same-manufacturer` or `dst-dnsname` stay names here and are resolved to addresses
//! by whoever enforces, because their membership changes at run time (RFC 8520 §3.10–§3.16).
//!
//! Directions are always seen from the device: a [`Rule`] from the `from-device-policy`
//! describes packets the device sends, one from the `to-device-policy` packets it
//! receives. The *peer* of a rule is the other end: the destination of a from-device
//! packet, the source of a to-device packet.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Everything enforcement needs to know about one MUD file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePolicy {
    /// `mud-url` (RFC 8520 §3.2): the identity of this policy; `model` peers compare against it.
    pub mud_url: String,
    /// Host part of `mud-url`: the "manufacturer" this device belongs to for the
    /// `same-manufacturer` and `manufacturer` abstractions (RFC 8520 §3.10, §3.11).
    pub authority: String,
    /// `is-supported` (RFC 8520 §3.6): `false` means the vendor no longer updates the device.
    pub is_supported: bool,
    /// `cache-validity` in hours (RFC 8520 §3.5), 1..=168, default 48.
    pub cache_validity_hours: u8,
    /// `systeminfo` (RFC 8520 §3.7), a short human description.
    pub systeminfo: Option<String>,
    /// `mfg-name` / `model-name` if present (RFC 8520 §3.8).
    pub mfg_name: Option<String>,
    /// `model-name` (RFC 8520 §3.8).
    pub model_name: Option<String>,
    /// `documentation` URL (RFC 8520 §3.12).
    pub documentation: Option<String>,
    /// `mud-signature` URL (RFC 8520 §2.1 YANG module; signatures §13), if the file names one.
    pub mud_signature: Option<String>,
    /// Allow (or explicitly drop/reject) rules in file order. Anything not matched is
    /// dropped: MUD is an allow-list (RFC 8520 §2, implicit default deny).
    pub rules: Vec<Rule>,
}

/// Which way a packet travels, seen from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Sent by the device (`from-device-policy`, RFC 8520 §3.15).
    FromDevice,
    /// Sent to the device (`to-device-policy`, RFC 8520 §3.16).
    ToDevice,
}

/// Address family an ACL applies to (RFC 8519 `acl-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// `ipv4-acl-type` (RFC 8519).
    Ipv4,
    /// `ipv6-acl-type` (RFC 8519).
    Ipv6,
    /// Ethernet-only ACL (`eth-acl-type`): matches on MAC addresses / ethertype.
    Eth,
    /// `mixed-eth-ipv4-ipv6-acl-type`: any of the above; the family is decided per ACE.
    Mixed,
}

/// One access-control entry, flattened: an ACE together with the ACL it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `acl-name/ace-name`, used for counters and in explanations.
    pub name: String,
    /// Which way the packets it matches travel.
    pub direction: Direction,
    /// The ACL's type.
    pub family: Family,
    /// The other end of the conversation.
    pub peer: Peer,
    /// IP protocol number (RFC 8519 `protocol`), if the ACE names one; `tcp`/`udp`/`icmp`
    /// match containers imply 6/17/1 (58 for ICMPv6).
    pub protocol: Option<u8>,
    /// Port conditions on the packet's source and destination port, as written (packet terms).
    pub src_port: Option<PortMatch>,
    /// Condition on the destination port.
    pub dst_port: Option<PortMatch>,
    /// ICMP type/code (RFC 8519 `icmp` container).
    pub icmp: Option<IcmpMatch>,
    /// Ethernet conditions for `eth` ACEs.
    pub eth: Option<EthMatch>,
    /// `ietf-mud:direction-initiated` (RFC 8520 §3.17): which side may open a TCP connection.
    pub initiated_by: Option<Direction>,
    /// `forwarding` (RFC 8519 `actions`).
    pub action: Action,
}

/// The other end of a rule. Everything but `Any` and `Network` is symbolic and is resolved
/// by enforcement at run time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Peer {
    /// No address condition.
    Any,
    /// A literal source/destination network (RFC 8519 `*-ipv4-network`/`*-ipv6-network`).
    Network(IpNet),
    /// `ietf-acldns:src-dnsname` / `dst-dnsname` (RFC 8520 §7): addresses this name resolves to.
    DnsName(String),
    /// `manufacturer` (RFC 8520 §3.10): devices whose MUD URL has this authority.
    Manufacturer(String),
    /// `same-manufacturer` (RFC 8520 §3.11): devices whose MUD URL has the same authority as ours.
    SameManufacturer,
    /// `model` (RFC 8520 §3.13): devices with exactly this MUD URL.
    Model(String),
    /// `local-networks` (RFC 8520 §3.14): the site's own networks.
    LocalNetworks,
    /// `controller` (RFC 8520 §3.15): a class of controller named by URI; the well-known
    /// `urn:ietf:params:mud:dns` and `urn:ietf:params:mud:ntp` (§3.15) mean the site's DNS/NTP servers.
    Controller(String),
    /// `my-controller` (RFC 8520 §3.16): controllers configured for this MUD URL.
    MyController,
}

/// The well-known controller URN for DNS servers (RFC 8520 §3.15).
pub const CONTROLLER_DNS: &str = "urn:ietf:params:mud:dns";
/// The well-known controller URN for NTP servers (RFC 8520 §3.15).
pub const CONTROLLER_NTP: &str = "urn:ietf:params:mud:ntp";

/// RFC 8519 port operators (`operator` + `port`, or `lower-port`/`upper-port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortMatch {
    /// `operator: eq`: exactly this port.
    Eq(u16),
    /// `operator: neq`: any port but this one.
    Neq(u16),
    /// `operator: lte`: this port or lower.
    Lte(u16),
    /// `operator: gte`: this port or higher.
    Gte(u16),
    /// Inclusive range, `lower <= upper`.
    Range(u16, u16),
}

impl PortMatch {
    /// Whether `port` satisfies this condition; the reference semantics enforcement must keep.
    pub fn matches(&self, port: u16) -> bool {
        match *self {
            PortMatch::Eq(p) => port == p,
            PortMatch::Neq(p) => port != p,
            PortMatch::Lte(p) => port <= p,
            PortMatch::Gte(p) => port >= p,
            PortMatch::Range(lo, hi) => lo <= port && port <= hi,
        }
    }
}

/// ICMP conditions (RFC 8519 `icmp` container); `None` matches any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IcmpMatch {
    /// ICMP (or ICMPv6) type.
    pub icmp_type: Option<u8>,
    /// ICMP code.
    pub code: Option<u8>,
}

/// Ethernet conditions (RFC 8519 `eth` container).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EthMatch {
    /// `ethertype` as a number (RFC 8519 `eth` container).
    pub ethertype: Option<u16>,
    /// Peer MAC address (the destination for from-device, source for to-device); serialised in
    /// lower-case colon form.
    pub peer_mac: Option<crate::Mac>,
}

/// What a matching packet gets (RFC 8519 `forwarding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Let it through.
    Accept,
    /// Drop it silently.
    Drop,
    /// Drop it and tell the sender.
    Reject,
}

impl DevicePolicy {
    /// All distinct DNS names the policy refers to, in first-seen order; enforcement keeps
    /// one address set per name.
    pub fn dns_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if let Peer::DnsName(n) = &rule.peer {
                if !names.contains(&n.as_str()) {
                    names.push(n);
                }
            }
        }
        names
    }
}
