//! What the monitor emits: events with evidence and household words, DNS answers for the
//! gateway to pass to `enforce`, and device fact changes. The monitor applies nothing.

use crate::community_id::community_id;
use crate::identity::DeviceFacts;
use crate::packet::Mac;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What a detector saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// TCP SYNs whose sequence number equals the destination IPv4 address, without options:
    /// the Mirai scanner's fingerprint.
    MiraiScan,
    /// SYNs to port 23/2323 (telnet) toward many different addresses.
    TelnetScan,
    /// SYNs toward many different addresses, almost none answered.
    Scan,
    /// Repeated connections to one host's login service (telnet 23/2323, SSH 22).
    BruteForce,
    /// SYNs at flood rate (`Thresholds::flood_pps` in one second) toward few hosts and ports
    /// (many of either is a scan, not a flood).
    SynFlood,
    /// UDP datagrams outside any known flow at flood rate.
    UdpFlood,
    /// TCP packets other than SYNs outside any known flow (ACK, RST … floods) at flood rate.
    AckFlood,
    /// DNS queries sent to a resolver other than the gateway's (and not one the owner allowed,
    /// `Config::allowed_resolvers`). Not a quarantine on its own: devices use public resolvers
    /// as a fallback (the explanation says when the router had answered the same name) and
    /// some use them by design; malware that does it also does something else the other
    /// detectors see.
    DnsBypass,
    /// Many random names under one domain: a DNS water-torture attack on its name servers.
    DnsWaterTorture,
    /// Traffic the device's MUD file does not allow.
    MudViolation,
    /// A burst of destinations never seen from this device before.
    NewDestinations,
    /// Non-first IPv4 fragments (no ports, nothing to match a connection by) sent at flood
    /// rate: a flood dressed up as fragments to slip past port-based counting.
    FragmentFlood,
    /// A DHCP server reply (DHCPv4 BOOTREPLY, DHCPv6 Advertise/Reply) from a device that is
    /// neither the gateway nor a configured DHCP server. Quarantines: a second DHCP server
    /// hands other devices a router and resolver of its choosing (a man-in-the-middle on the
    /// whole home network), and the monitor cannot tell an attacker from a second router
    /// plugged in by mistake; an intended one belongs in `Config::dhcp_servers`.
    RogueDhcp,
    /// An IPv6 router advertisement from a device that is not the gateway. It quarantines only
    /// when the advertisement offers the sender as a default router (router lifetime > 0),
    /// which diverts other devices' IPv6 traffic through it; an advertisement with lifetime 0
    /// only announces routes or prefixes (Thread/Matter border routers do this) and is reported
    /// without quarantine. Either way, its prefixes are not learned.
    RogueRouterAdvertisement,
    /// A device announced a MUD URL different from the first one it announced. Not a
    /// quarantine: the first URL is kept and `DeviceFacts::mud_url_changed_to` tells the
    /// gateway to fall back to a stricter level.
    MudUrlChanged,
    /// A device announced a MUD URL that is not an `https://` URL, or is over 255 bytes; it is
    /// not recorded. Not a quarantine.
    MudUrlInvalid,
    /// SYNs toward many different ports of few hosts, almost none answered: a port scan
    /// (nmap -sS) by the device.
    PortScan,
    /// A flood arriving from the internet: connection requests (SYN) or datagrams at flood
    /// rate toward this device, which is the victim. Not a quarantine.
    InboundFlood,
    /// Answers the device never asked for, at flood rate, from internet servers' DNS, NTP,
    /// SSDP, memcached … ports: a reflection (amplification) attack on this device. Not a
    /// quarantine.
    ReflectionFlood,
    /// An internet host probing many ports of this device, or one port of many devices
    /// (this one among them). Not a quarantine: the device is the target.
    InboundScan,
}

impl EventKind {
    /// Bot behaviour: the gateway may isolate the device for it.
    ///
    /// [`EventKind::RogueRouterAdvertisement`] is listed as bot behaviour, but the event's own
    /// `quarantine` field decides: false when the advertisement did not offer a default router.
    pub fn is_bot_behaviour(self) -> bool {
        !matches!(
            self,
            EventKind::MudViolation
                | EventKind::NewDestinations
                | EventKind::MudUrlChanged
                | EventKind::MudUrlInvalid
                | EventKind::DnsBypass
                | EventKind::InboundFlood
                | EventKind::ReflectionFlood
                | EventKind::InboundScan
        )
    }

    /// The kind's name in kebab case, as in JSON (`"syn-flood"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MiraiScan => "mirai-scan",
            EventKind::TelnetScan => "telnet-scan",
            EventKind::Scan => "scan",
            EventKind::BruteForce => "brute-force",
            EventKind::SynFlood => "syn-flood",
            EventKind::UdpFlood => "udp-flood",
            EventKind::AckFlood => "ack-flood",
            EventKind::DnsBypass => "dns-bypass",
            EventKind::DnsWaterTorture => "dns-water-torture",
            EventKind::MudViolation => "mud-violation",
            EventKind::NewDestinations => "new-destinations",
            EventKind::FragmentFlood => "fragment-flood",
            EventKind::RogueDhcp => "rogue-dhcp",
            EventKind::RogueRouterAdvertisement => "rogue-router-advertisement",
            EventKind::MudUrlChanged => "mud-url-changed",
            EventKind::MudUrlInvalid => "mud-url-invalid",
            EventKind::PortScan => "port-scan",
            EventKind::InboundFlood => "inbound-flood",
            EventKind::ReflectionFlood => "reflection-flood",
            EventKind::InboundScan => "inbound-scan",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 20] = [
        EventKind::MiraiScan,
        EventKind::TelnetScan,
        EventKind::Scan,
        EventKind::BruteForce,
        EventKind::SynFlood,
        EventKind::UdpFlood,
        EventKind::AckFlood,
        EventKind::DnsBypass,
        EventKind::DnsWaterTorture,
        EventKind::MudViolation,
        EventKind::NewDestinations,
        EventKind::FragmentFlood,
        EventKind::RogueDhcp,
        EventKind::RogueRouterAdvertisement,
        EventKind::MudUrlChanged,
        EventKind::MudUrlInvalid,
        EventKind::PortScan,
        EventKind::InboundFlood,
        EventKind::ReflectionFlood,
        EventKind::InboundScan,
    ];
}

/// One packet that contributed to an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidencePacket {
    /// Packet time, ns since the Unix epoch.
    pub time_ns: u64,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number (6 TCP, 17 UDP …; IANA).
    pub proto: u8,
    /// Source port; 0 without one (ICMP, later fragments).
    pub sport: u16,
    /// Destination port; 0 without one.
    pub dport: u16,
    /// Community ID v1 of the packet's flow: the same as Zeek's and Suricata's for it.
    pub community_id: String,
}

/// The raw tuple kept while counting; the Community ID is computed only when an event fires.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuple {
    pub(crate) time_ns: u64,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) proto: u8,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
}

impl Tuple {
    /// The evidence record of this packet, with its flow's Community ID.
    pub(crate) fn evidence(&self) -> EvidencePacket {
        EvidencePacket {
            time_ns: self.time_ns,
            src: self.src,
            dst: self.dst,
            proto: self.proto,
            sport: self.sport,
            dport: self.dport,
            community_id: community_id(self.src, self.dst, self.proto, self.sport, self.dport),
        }
    }
}

/// A detection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// The device the event is about: the one that sent the traffic, except for
    /// [`EventKind::InboundFlood`], [`EventKind::ReflectionFlood`] and
    /// [`EventKind::InboundScan`], where it is the target.
    pub device: Mac,
    /// What was seen.
    pub kind: EventKind,
    /// Packet time of the packet that crossed the threshold, ns since the Unix epoch.
    pub time_ns: u64,
    /// The same instant in RFC 3339.
    pub time: String,
    /// The packets that triggered it (the first few of the window).
    pub evidence: Vec<EvidencePacket>,
    /// One sentence a household understands, in English.
    pub explanation: String,
    /// The same sentence in French.
    pub explanation_fr: String,
    /// Whether this is bot behaviour the gateway may isolate the device for.
    pub quarantine: bool,
}

/// A DNS answer a device received (RFC 8520 §7: `dst-dnsname` uses the device's own answers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsAnswer {
    /// The device that asked and received the answer.
    pub device: Mac,
    /// The name the device asked for (lower case, no trailing dot).
    pub name: String,
    /// One address of the answer (an A or AAAA record).
    pub addr: IpAddr,
    /// The record's TTL in seconds, cut to `Config::max_dns_ttl_s`.
    pub ttl_s: u32,
}

/// A LAN prefix learned from the gateway's router advertisement (RFC 4861 §4.6.2 Prefix
/// Information option, on-link or autonomous): addresses in it are the home network's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LanPrefix {
    /// The prefix, host bits cleared.
    pub prefix: ipnet::IpNet,
    /// The gateway MAC that advertised it.
    pub router: Mac,
}

/// Everything the monitor emits, in packet order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Output {
    /// A detection.
    Event(Event),
    /// A DNS answer, passed on only when an allowed resolver sent it for a query the device
    /// made.
    Dns(DnsAnswer),
    /// A new device, or new facts (address, DHCP option, mDNS name) about a known one.
    Device(DeviceFacts),
    /// A LAN prefix learned for the first time (configured ones are not repeated); see
    /// [`crate::Monitor::lan_prefixes`]. A struct, not a bare `IpNet`: `Output` is serialised
    /// internally tagged, which needs a map.
    LanPrefix(LanPrefix),
}

/// RFC 3339 for a packet time.
pub(crate) fn rfc3339(time_ns: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ns))
        .map(mud::rfc3339)
        .unwrap_or_else(|_| format!("{time_ns}ns"))
}
