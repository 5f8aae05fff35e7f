//! The monitor: one `process(time, frame)` entry point shared by replay and live capture, a
//! clock driven by packet timestamps, bounded per-device state and the detectors.
//!
//! Memory is bounded whatever arrives: devices live in an LRU of `max_devices`, flows in an LRU
//! of `max_flows` with a per-device quota, and traffic nobody answered (SYNs, unsolicited ACKs,
//! UDP without replies) is only counted in fixed-size per-device sketches — a flow is created
//! when the other side answers. A spoofed flood therefore costs a few counters, not a flow each.

use crate::event::{rfc3339, DnsAnswer, Event, EventKind, LanPrefix, Output, Tuple};
use crate::identity::{
    parse_dhcpv4, parse_dhcpv6, parse_mdns_names, DeviceFacts, MudUrlOption, OuiTable,
};
use crate::link::{decode_link, Link};
use crate::packet::{decode, is_group_addr, is_local, Fragment, Mac, Packet, Skip, TCP, UDP};
use crate::sketch::{mix64, CountMin, HyperLogLog};
pub use crate::windows::EVIDENCE_PACKETS;
use crate::windows::{addr_key, port_hash, port_scan_bits, Cooldowns, Evidence, Ready, Windows};
use crate::words::{Lang, Said, Who};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use lru::LruCache;
use serde::Serialize;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;

const NS: u64 = 1_000_000_000;

/// Detector thresholds. The defaults are tuned so that the false-positive traps of the
/// scenario generator (legitimate telnet, NTP burst at boot, firmware download, mDNS storm,
/// DHCP renumbering) stay quiet; see the `scenarios` crate (`crates/scenarios/src/traps.rs`).
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// Mirai-fingerprinted SYNs (seq == destination IPv4, no options) before an event. The
    /// chance of a legitimate SYN matching is 2^-32, so one is enough.
    pub mirai_syns: u32,
    /// Fan-out window for scans, seconds.
    pub fanout_window_s: u64,
    /// Distinct destinations of telnet (23/2323) SYNs in the fan-out window.
    pub telnet_fanout: u32,
    /// Distinct destinations of any SYNs in the fan-out window …
    pub scan_fanout: u32,
    /// … when at most this share of the SYNs were answered.
    pub scan_max_answered: f64,
    /// Distinct destination ports of SYNs in the fan-out window (few hosts, almost none
    /// answered) for a port scan; the same count of ports (or `scan_fanout` hosts) from one
    /// internet address for an inbound scan.
    pub port_scan_ports: u32,
    /// Connection attempts to one host's login port (22, 23, 2323) within `brute_window_s`.
    pub brute_attempts: u16,
    /// The brute-force window, seconds; attempts are summed over this window and the one
    /// before.
    pub brute_window_s: u64,
    /// Packets per second toward one device's unanswered targets for a flood.
    pub flood_pps: u32,
    /// Distinct names under one domain within `torture_window_s`.
    pub torture_names: u32,
    /// The water-torture window, seconds.
    pub torture_window_s: u64,
    /// New destinations per minute, after `learn_s` seconds of learning, for an event.
    pub new_destinations: u32,
    /// Seconds after a device is first seen during which its destinations are learned, not
    /// reported.
    pub learn_s: u64,
    /// Seconds before the same kind of event fires again for the same device.
    pub cooldown_s: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            mirai_syns: 1,
            fanout_window_s: 10,
            telnet_fanout: 8,
            scan_fanout: 32,
            scan_max_answered: 0.2,
            port_scan_ports: 64,
            brute_attempts: 8,
            brute_window_s: 60,
            flood_pps: 1000,
            torture_names: 50,
            torture_window_s: 10,
            new_destinations: 24,
            learn_s: 120,
            cooldown_s: 60,
        }
    }
}

/// Default cap on the TTL of a DNS answer passed to the gateway: one day, the longest
/// Unbound keeps an answer by default (`cache-max-ttl`), so a device that honours the TTL its
/// resolver gave it rarely outlives its `dst-dnsname` set entry, while an answer claiming
/// 68 years (2^31 s) cannot keep an address open for good.
pub const DEFAULT_MAX_DNS_TTL_S: u32 = 86_400;

/// Monitor configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Resolvers devices may use besides the DNS servers DHCP hands out (normally the gateway).
    /// DNS answers count only from these, from DNS servers an allowed DHCP server announced,
    /// and from that server's own address.
    pub resolvers: Vec<IpAddr>,
    /// The gateway's own MACs (live capture knows its interface's). When non-empty, no other
    /// MAC ever becomes a gateway. When empty (replaying a capture), gateways are learned: the
    /// first DHCP server and the first router advertising, and where devices send
    /// internet-bound frames.
    pub gateway_macs: Vec<Mac>,
    /// MACs allowed to answer DHCP (v4 and v6) besides `gateway_macs`, e.g. a separate DHCP
    /// appliance. MACs, not IP addresses: a LAN host picks its source address freely. When this
    /// or `gateway_macs` is set, any other DHCP server is a [`EventKind::RogueDhcp`]. Leases
    /// these servers (or `gateway_macs`) acknowledge add the address to the client's facts.
    pub dhcp_servers: Vec<Mac>,
    /// The LAN's prefixes besides the private, unique-local and link-local ranges (which are
    /// always local): e.g. the global IPv6 prefix, or a public IPv4 LAN. Prefixes the gateway
    /// advertises (router advertisements) are learned on top; see [`Monitor::lan_prefixes`].
    pub lan_prefixes: Vec<IpNet>,
    /// Longest TTL passed on with a DNS answer (seconds); see [`DEFAULT_MAX_DNS_TTL_S`].
    pub max_dns_ttl_s: u32,
    /// Devices held; beyond it the least recently active one is forgotten
    /// ([`Stats::devices_evicted`]).
    pub max_devices: usize,
    /// Flows held over all devices; beyond it the least recently used flow is dropped
    /// ([`Stats::flows_evicted`]).
    pub max_flows: usize,
    /// Flows one device may hold; its further flows are only counted in its sketches
    /// ([`Stats::flows_over_quota`]), so one device cannot push the others' flows out.
    pub max_flows_per_device: u32,
    /// Detector thresholds.
    pub thresholds: Thresholds,
    /// MUD policies by MUD URL, for the conformance detector.
    pub policies: Vec<mud::DevicePolicy>,
    /// Resolvers the owner allows besides the gateway's, for one device or for all: DNS to
    /// them is not reported. Their answers are still not passed on (only the gateway's are).
    pub allowed_resolvers: Vec<AllowedResolver>,
}

/// A resolver the owner allows a device (or every device, `device: None`) to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedResolver {
    /// The device allowed; `None`: every device.
    pub device: Option<Mac>,
    /// The resolver's address.
    pub resolver: IpAddr,
}

impl std::str::FromStr for AllowedResolver {
    type Err = String;
    /// `IP` (every device) or `MAC=IP` (that device), e.g. `02:00:00:00:00:07=9.9.9.9`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (device, ip) = match s.split_once('=') {
            Some((mac, ip)) => (
                Some(mac.trim().parse::<Mac>().map_err(|e| e.to_string())?),
                ip,
            ),
            None => (None, s),
        };
        let resolver = ip.trim().parse().map_err(|_| {
            format!("{s:?}: expected an IP address, or MAC=IP like 02:00:00:00:00:07=9.9.9.9")
        })?;
        Ok(AllowedResolver { device, resolver })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resolvers: vec![],
            gateway_macs: vec![],
            dhcp_servers: vec![],
            lan_prefixes: vec![],
            max_dns_ttl_s: DEFAULT_MAX_DNS_TTL_S,
            max_devices: 4096,
            // 7/16 of 2^18: the flow table (hashbrown, inside schnellru) then stays at 2^18
            // buckets and cleans up after evictions in place; at 2^17 flows it grew to 2^19
            // buckets under churn (42 MB, and 63 MB while it grew).
            max_flows: 114_688,
            max_flows_per_device: 8192,
            thresholds: Thresholds::default(),
            policies: vec![],
            allowed_resolvers: vec![],
        }
    }
}

/// Counters over everything processed.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to [`Monitor::process`] or [`Monitor::process_link`].
    pub frames: u64,
    /// Frames that decoded to an IPv4 or IPv6 packet.
    pub ip_packets: u64,
    /// Frames that are not IP (ARP, LLDP …).
    pub not_ip: u64,
    /// Frames too short or cut inside a header to decode.
    pub malformed: u64,
    /// Devices created (a device forgotten and seen again counts twice).
    pub devices: u64,
    /// Devices forgotten to stay within `max_devices`.
    pub devices_evicted: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows dropped to stay within `max_flows`.
    pub flows_evicted: u64,
    /// Flows removed after their idle timeout.
    pub flows_expired: u64,
    /// Flows not created because the device was at its quota (counted in sketches instead).
    pub flows_over_quota: u64,
    /// Events emitted (after each kind's cooldown).
    pub events: u64,
    /// Answer records (A, AAAA) passed on as [`Output::Dns`].
    pub dns_answers: u64,
    /// DNS answers (packets) from a source that is not an allowed resolver: not passed on.
    pub dns_answers_foreign: u64,
    /// DNS answers (packets) from a resolver that match no pending query of the device (id,
    /// name, port, resolver, within 10 s): not passed on.
    pub dns_answers_unsolicited: u64,
    /// Answer records whose TTL was cut to `max_dns_ttl_s`.
    pub dns_ttl_capped: u64,
    /// DHCP server messages from a MAC not allowed to be a DHCP server.
    pub rogue_dhcp: u64,
    /// Router advertisements from a MAC that is not the gateway.
    pub rogue_router_advertisements: u64,
    /// LAN prefixes learned from the gateway's router advertisements.
    pub lan_prefixes_learned: u64,
    /// Non-first IPv4 fragments (no ports).
    pub fragments: u64,
    /// New source addresses not recorded: the device was past its budget of new addresses
    /// per minute.
    pub addrs_refused: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    local: u128,
    remote: u128,
    lport: u16,
    rport: u16,
    proto: u8,
}

impl FlowKey {
    fn hash64(&self) -> u64 {
        let a = (self.local as u64) ^ ((self.local >> 64) as u64).rotate_left(17);
        let b = (self.remote as u64) ^ ((self.remote >> 64) as u64).rotate_left(29);
        mix64(a ^ b.rotate_left(32))
            ^ (((self.lport as u64) << 24) | ((self.rport as u64) << 8) | self.proto as u64)
    }
}

fn ip_bits(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(*v),
    }
}

/// A flow some peer answered (or that carried enough packets to be real).
#[derive(Clone, Copy)]
struct Flow {
    device: Mac,
    proto: u8,
    last_ns: u64,
    packets: u64,
}

/// Longest-lived per-device state: facts plus fixed-size detector state.
struct DeviceState {
    facts: DeviceFacts,
    /// Packet time of the last LRU promotion.
    promoted_ns: u64,
    flows: u32,
    /// The detectors' windows (see `windows.rs`).
    windows: Windows,
    /// First packets of flows nobody answered yet; reset with the login window.
    unsolicited: CountMin,
    /// DNS answers received (name, address), newest last, for MUD `dst-dnsname` checks.
    learned: Vec<(String, IpAddr)>,
    /// DNS queries the device sent to an allowed resolver, waiting for their answer.
    pending_dns: Vec<PendingQuery>,
    /// Names (hashes) the gateway's resolver answered for the device, with the time:
    /// a query for one of them elsewhere soon after is a fallback resolver at work.
    answered_names: Vec<(u64, u64)>,
    /// (destination, IPv4 id) hashes of recent first fragments of known flows: their later
    /// fragments are that flow's, not a flood. Allocated on the first such fragment: most
    /// devices never fragment, and the device table's size is the memory worst case.
    flow_frags: Option<Box<([u64; FLOW_FRAG_SLOTS], usize)>>,
    /// New addresses recorded in the current minute (`addr_start`).
    addr_start: u64,
    addr_new: u32,
    /// Facts changed since the last `Output::Device`, not yet emitted (coalescing).
    facts_pending: bool,
    last_facts_out_ns: u64,
    evidence: Evidence,
    cooldowns: Cooldowns,
    /// Its MAC is [`address_mac`] of its address (a capture without MACs).
    named_by_address: bool,
}

impl DeviceState {
    fn new(facts: DeviceFacts, now: u64) -> Self {
        DeviceState {
            facts,
            promoted_ns: now,
            flows: 0,
            windows: Windows::new(now),
            unsolicited: CountMin::default(),
            learned: Vec::new(),
            pending_dns: Vec::new(),
            answered_names: Vec::new(),
            flow_frags: None,
            addr_start: now,
            addr_new: 0,
            facts_pending: false,
            last_facts_out_ns: now,
            evidence: Evidence::default(),
            cooldowns: Cooldowns::new(),
            named_by_address: false,
        }
    }

    /// Advance the tumbling windows to `now` (packet time).
    #[inline]
    fn roll(&mut self, now: u64, t: &Thresholds) {
        if self.windows.roll(now, t, &mut self.evidence) {
            self.unsolicited.clear();
        }
    }

    /// How events name it.
    fn who(&self) -> Who {
        let mac = self.facts.mac;
        let name = self
            .facts
            .hostname
            .clone()
            .or_else(|| self.facts.mdns_names.iter().next().cloned());
        match (
            name,
            &self.facts.vendor,
            self.named_by_address,
            self.facts.addrs.first(),
        ) {
            (Some(n), _, _, _) => Who::Named(n, mac),
            (None, Some(v), _, _) => Who::Vendor(v.clone(), mac),
            (None, None, true, Some(a)) => Who::At(*a),
            (None, None, _, _) => Who::Mac(mac),
        }
    }

    /// Record a source address the device used, within its budget of new addresses per
    /// minute. Returns (recorded, it is the device's first of its family: the gateway needs it
    /// at once to contain the device, so it is not coalesced).
    fn note_addr(&mut self, addr: IpAddr, now: u64, stats: &mut Stats) -> (bool, bool) {
        if self.facts.addrs.contains(&addr) || addr.is_unspecified() {
            return (false, false);
        }
        if now >= self.addr_start.saturating_add(60 * NS) {
            self.addr_start = now;
            self.addr_new = 0;
        }
        if self.addr_new >= MAX_NEW_ADDRS_PER_MINUTE {
            stats.addrs_refused += 1;
            return (false, false);
        }
        self.addr_new += 1;
        let first = !self
            .facts
            .addrs
            .iter()
            .any(|a| a.is_ipv4() == addr.is_ipv4());
        (self.facts.add_addr(addr), first)
    }

    /// Emit the facts if they changed and the last emission is at least a second old (or
    /// `now_anyway`): a device changing facts on every frame yields one output a second.
    fn flush_facts(&mut self, changed: bool, now_anyway: bool, now: u64, out: &mut Vec<Output>) {
        self.facts_pending |= changed;
        if self.facts_pending && (now_anyway || now >= self.last_facts_out_ns.saturating_add(NS)) {
            self.facts_pending = false;
            self.last_facts_out_ns = now;
            out.push(Output::Device(self.facts.clone()));
        }
    }

    fn note_flow_fragment(&mut self, key: u64) {
        let (slots, next) = &mut **self
            .flow_frags
            .get_or_insert_with(|| Box::new(([0; FLOW_FRAG_SLOTS], 0)));
        slots[*next] = key;
        *next = (*next + 1) % FLOW_FRAG_SLOTS;
    }
}

/// A DNS query waiting for its answer.
#[derive(Clone, Copy)]
struct PendingQuery {
    id: u16,
    sport: u16,
    src: IpAddr,
    resolver: IpAddr,
    /// Hash of the lower-cased name under the monitor's random seed.
    name: u64,
    sent_ns: u64,
}

/// A server message from a MAC not allowed to send it, reported after the frame was
/// processed as the sender's (so the gateway has its facts before the event).
struct Rogue {
    kind: EventKind,
    quarantine: bool,
    said: Said,
}

/// The monitor. Feed it frames in time order with [`Monitor::process`].
pub struct Monitor {
    config: Config,
    oui: OuiTable,
    now: u64,
    gateways: Vec<Mac>,
    dhcp_resolvers: Vec<IpAddr>,
    /// Replay without `gateway_macs`/`dhcp_servers`: the DHCP server learned (the first).
    dhcp_server_learned: Option<Mac>,
    /// LAN prefixes beyond `is_local`'s ranges: configured, then learned (hot path: usually
    /// empty, so `is_lan` costs one length check).
    lan_v4: Vec<Ipv4Net>,
    lan_v6: Vec<Ipv6Net>,
    /// Learned prefixes with their expiry (packet time, ns).
    learned_prefixes: Vec<(Ipv6Net, u64)>,
    name_hasher: foldhash::quality::RandomState,
    devices: LruCache<Mac, DeviceState, foldhash::fast::RandomState>,
    /// The flow table: `schnellru` keeps each entry (key, value and its place in the
    /// recency order) inline in one hash table, where `lru` allocates a node per entry and
    /// every lookup follows a pointer to it — on the mixed benchmark, the flow lookup was a
    /// third of the time per packet.
    flows: FlowTable,
    stats: Stats,
    /// Links without MACs ([`Monitor::process_link`]): the MAC last seen with each LAN
    /// address; created on the first such frame (Ethernet never needs it).
    addr_macs: Option<Box<LruCache<IpAddr, Mac>>>,
    /// The MAC last seen sending from an internet address on such a link.
    upstream_mac: Option<Mac>,
    /// Internet addresses sending unsolicited SYNs to the LAN (inbound scans), created on
    /// the first one.
    inbound_sources: Option<Box<LruCache<IpAddr, InboundSource>>>,
    /// `port_scan_bits(thresholds.port_scan_ports)`, computed once.
    port_scan_bits: u32,
}

/// An internet address sending connection requests nobody on the LAN asked for, over the
/// fan-out window.
struct InboundSource {
    start: u64,
    dsts: HyperLogLog,
    ports: HyperLogLog,
    /// An inbound scan was reported for this window.
    reported: bool,
}

/// Internet sources tracked for inbound scans (the least recent leaves first).
const MAX_INBOUND_SOURCES: usize = 256;

/// The router in front of every internet address on links without MACs.
pub const UPSTREAM_MAC: Mac = Mac([0x0a, 0xff, 0xff, 0xff, 0xff, 0xfe]);

/// The locally administered MAC naming the device at `addr` on links without MACs:
/// `0a:00:` + the IPv4 address, `0a:06:` + the last 32 bits of an IPv6 address.
pub fn address_mac(addr: &IpAddr) -> Mac {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            Mac([0x0a, 0x00, o[0], o[1], o[2], o[3]])
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            Mac([0x0a, 0x06, o[12], o[13], o[14], o[15]])
        }
    }
}

fn is_address_mac(mac: &Mac) -> bool {
    mac.0[0] == 0x0a && (mac.0[1] == 0x00 || mac.0[1] == 0x06)
}

const MAX_GATEWAYS: usize = 8;
/// Prefixes learned from router advertisements; when full, an expired or the soonest-expiring
/// one makes room.
pub(crate) const MAX_LEARNED_PREFIXES: usize = 8;
/// Pending DNS queries per device (the oldest is dropped).
pub(crate) const MAX_PENDING_DNS: usize = 16;
/// How long a pending DNS query waits for its answer (packet time).
pub(crate) const DNS_QUERY_TIMEOUT_NS: u64 = 10 * NS;
/// New source addresses recorded per device and minute; more are refused (fail closed: the
/// gateway's anti-spoofing keeps dropping them) and counted in `Stats::addrs_refused`.
pub const MAX_NEW_ADDRS_PER_MINUTE: u32 = 8;
const FLOW_FRAG_SLOTS: usize = 32;
/// Names the gateway answered remembered per device, for the fallback-resolver check.
const MAX_ANSWERED_NAMES: usize = 8;
/// How long after the gateway's resolver answered a name a query for it elsewhere counts as
/// a fallback resolver.
const FALLBACK_WINDOW_NS: u64 = 60 * NS;
const ICMPV6: u8 = 58;
/// ICMPv6 router advertisement (RFC 4861 §4.2).
const ROUTER_ADVERTISEMENT: u8 = 134;
const MAX_DHCP_RESOLVERS: usize = 8;
const MAX_ANSWERS_PER_PACKET: usize = 16;
/// Login services brute-forced by IoT malware: SSH and telnet (Mirai uses 23 and 2323).
const AUTH_PORTS: [u16; 3] = [22, 23, 2323];

impl Monitor {
    /// A monitor that has seen nothing yet; `oui` names vendors in device facts (an empty
    /// table names none).
    pub fn new(config: Config, oui: OuiTable) -> Self {
        let devices = LruCache::with_hasher(
            NonZeroUsize::new(config.max_devices.max(1)).expect("non-zero"),
            foldhash::fast::RandomState::default(),
        );
        let flows = schnellru::LruMap::with_hasher(
            schnellru::ByLength::new(u32::try_from(config.max_flows.max(1)).unwrap_or(u32::MAX)),
            foldhash::fast::RandomState::default(),
        );
        let port_scan_bits = port_scan_bits(config.thresholds.port_scan_ports);
        let mut gateways = config.gateway_macs.clone();
        gateways.truncate(MAX_GATEWAYS);
        let mut lan_v4 = Vec::new();
        let mut lan_v6 = Vec::new();
        for net in &config.lan_prefixes {
            match net.trunc() {
                IpNet::V4(n) if !lan_v4.contains(&n) => lan_v4.push(n),
                IpNet::V6(n) if !lan_v6.contains(&n) => lan_v6.push(n),
                _ => {}
            }
        }
        Monitor {
            config,
            oui,
            now: 0,
            gateways,
            dhcp_resolvers: vec![],
            dhcp_server_learned: None,
            lan_v4,
            lan_v6,
            learned_prefixes: vec![],
            name_hasher: foldhash::quality::RandomState::default(),
            devices,
            flows,
            stats: Stats::default(),
            addr_macs: None,
            upstream_mac: None,
            inbound_sources: None,
            port_scan_bits,
        }
    }

    /// Packet time of the newest frame seen (ns since the epoch).
    pub fn now_ns(&self) -> u64 {
        self.now
    }

    /// Counters over everything processed so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Current number of flows held (never above `max_flows`).
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// What is known about the device with this MAC, if it is held (looking does not make it
    /// more recently seen).
    pub fn device(&self, mac: &Mac) -> Option<&DeviceFacts> {
        self.devices.peek(mac).map(|d| &d.facts)
    }

    /// Every device held, most recently seen first.
    pub fn devices(&self) -> impl Iterator<Item = &DeviceFacts> {
        self.devices.iter().map(|(_, d)| &d.facts)
    }

    /// The gateway's MACs: the configured ones, or those learned while replaying.
    pub fn gateways(&self) -> &[Mac] {
        &self.gateways
    }

    /// The LAN's prefixes beyond the private, unique-local and link-local ranges: the
    /// configured ones, then those learned from the gateway's router advertisements.
    pub fn lan_prefixes(&self) -> Vec<IpNet> {
        self.lan_v4
            .iter()
            .map(|n| IpNet::V4(*n))
            .chain(self.lan_v6.iter().map(|n| IpNet::V6(*n)))
            .collect()
    }

    /// An address of the home network: private/ULA/link-local (`is_local`) or in a LAN prefix.
    #[inline]
    pub fn is_lan(&self, addr: &IpAddr) -> bool {
        is_local(addr)
            || match addr {
                IpAddr::V4(a) => {
                    !self.lan_v4.is_empty() && self.lan_v4.iter().any(|n| n.contains(a))
                }
                IpAddr::V6(a) => {
                    !self.lan_v6.is_empty() && self.lan_v6.iter().any(|n| n.contains(a))
                }
            }
    }

    fn is_gateway(&self, mac: &Mac) -> bool {
        self.gateways.contains(mac)
    }

    /// The gateway's MACs are configured (live): nothing else ever becomes one.
    fn gateways_pinned(&self) -> bool {
        !self.config.gateway_macs.is_empty()
    }

    fn learn_gateway(&mut self, mac: Mac) {
        if self.gateways_pinned()
            || mac.is_group()
            || self.is_gateway(&mac)
            || self.gateways.len() >= MAX_GATEWAYS
        {
            return;
        }
        self.gateways.push(mac);
        // It may have been taken for a device before we knew (e.g. its DNS replies came first).
        self.devices.pop(&mac);
    }

    fn is_resolver(&self, a: &IpAddr) -> bool {
        self.config.resolvers.contains(a) || self.dhcp_resolvers.contains(a)
    }

    /// May `mac` answer DHCP? Configured: the gateway's MACs and `dhcp_servers` only.
    /// Replaying without either: the first DHCP server seen (one of the learned gateways, if
    /// any were learned before) is the network's, and only it.
    fn dhcp_server_allowed(&mut self, mac: Mac) -> bool {
        if self.config.gateway_macs.contains(&mac) || self.config.dhcp_servers.contains(&mac) {
            return true;
        }
        if self.gateways_pinned() || !self.config.dhcp_servers.is_empty() || mac.is_group() {
            return false;
        }
        match self.dhcp_server_learned {
            Some(m) => m == mac,
            None if self.gateways.is_empty() || self.is_gateway(&mac) => {
                self.dhcp_server_learned = Some(mac);
                true
            }
            None => false,
        }
    }

    /// May `mac` advertise itself as a router? The gateway only (configured, or when
    /// replaying, learned; the first router advertising is learned when none is known yet).
    fn router_allowed(&self, mac: &Mac) -> bool {
        if self.config.gateway_macs.contains(mac) {
            return true;
        }
        !self.gateways_pinned()
            && !mac.is_group()
            && (self.gateways.is_empty() || self.is_gateway(mac))
    }

    /// Process one Ethernet frame captured at `time_ns` (ns since the Unix epoch). Outputs are
    /// appended to `out`. Never fails: undecodable frames are counted in [`Stats`].
    pub fn process(&mut self, time_ns: u64, frame: &[u8], out: &mut Vec<Output>) {
        self.stats.frames += 1;
        // The clock only moves forward: a capture with a timestamp going backwards (NTP step
        // on the capturing host) must not reopen closed windows.
        if time_ns > self.now {
            self.now = time_ns;
        }
        let p = match decode(frame) {
            Ok(p) => p,
            Err(Skip::NotIp) => {
                self.stats.not_ip += 1;
                self.lldp(frame, out);
                return;
            }
            Err(Skip::Malformed) => {
                self.stats.malformed += 1;
                return;
            }
        };
        self.process_packet(p, out);
    }

    /// An LLDP frame (IEEE 802.1AB, EtherType 0x88cc) from a device already seen: the MUD URL
    /// in its organizationally specific TLV (RFC 8520 §10: type 127, OUI 00-00-5E, subtype 1)
    /// counts like DHCP option 161 — the device speaks for itself only (its own source MAC),
    /// the first valid URL is kept, a different one is `mud-url-changed`. LLDP from a MAC the
    /// monitor has not seen yet is ignored (devices repeat LLDP every 30 s; by then it is known).
    fn lldp(&mut self, frame: &[u8], out: &mut Vec<Output>) {
        let Some(url) = lldp_mud_url(frame) else {
            return;
        };
        let mut src = [0u8; 6];
        src.copy_from_slice(&frame[6..12]);
        let src = Mac(src);
        if src.is_group() || self.is_gateway(&src) {
            return;
        }
        let now = self.now;
        let t = &self.config.thresholds;
        let Some(dev) = self.devices.peek_mut(&src) else {
            return;
        };
        let mut fired = Vec::new();
        let facts = crate::identity::DhcpFacts {
            mud_url: Some(url),
            ..Default::default()
        };
        let (changed, urgent) = merge_dhcp(dev, facts, &mut fired);
        dev.flush_facts(changed, urgent, now, out);
        for (kind, said) in fired {
            dev.emit(Fire::new(kind, said), now, t, &mut self.stats, out);
        }
    }

    /// [`Monitor::process`] for a frame of any link type the monitor reads ([`Link`]).
    ///
    /// Links without MAC addresses (raw IP, BSD null/loop, PPP, NFLOG; Linux cooked captures
    /// for destinations) name devices by address: a MAC already seen with that LAN address
    /// (cooked captures carry the sender's), else the locally administered
    /// `0a:00:` + IPv4 address (`0a:06:` + the last 32 bits of an IPv6 address); every
    /// internet address stands behind one upstream router (the sender MAC seen with internet
    /// addresses, else [`UPSTREAM_MAC`]). Events then name the device by its address too.
    pub fn process_link(&mut self, time_ns: u64, link: Link, frame: &[u8], out: &mut Vec<Output>) {
        if link == Link::Ethernet {
            return self.process(time_ns, frame, out);
        }
        self.stats.frames += 1;
        if time_ns > self.now {
            self.now = time_ns;
        }
        let (mut p, macs) = match decode_link(link, frame) {
            Ok(x) => x,
            Err(Skip::NotIp) => {
                self.stats.not_ip += 1;
                return;
            }
            Err(Skip::Malformed) => {
                self.stats.malformed += 1;
                return;
            }
        };
        let src_lan = self.is_lan(&p.src);
        let table = self
            .addr_macs
            .get_or_insert_with(|| Box::new(LruCache::new(NonZeroUsize::new(4096).expect("4096"))));
        if macs.src {
            if src_lan {
                if !p.src.is_unspecified() {
                    table.put(p.src, p.src_mac);
                }
            } else {
                self.upstream_mac = Some(p.src_mac);
            }
        } else {
            p.src_mac = if src_lan {
                table
                    .get(&p.src)
                    .copied()
                    .unwrap_or_else(|| address_mac(&p.src))
            } else {
                self.upstream_mac.unwrap_or(UPSTREAM_MAC)
            };
        }
        if !macs.dst {
            p.dst_mac = if is_group_addr(&p.dst) {
                Mac([0xff; 6])
            } else if self.is_lan(&p.dst) {
                let table = self.addr_macs.as_mut().expect("created above");
                table
                    .get(&p.dst)
                    .copied()
                    .unwrap_or_else(|| address_mac(&p.dst))
            } else {
                self.upstream_mac.unwrap_or(UPSTREAM_MAC)
            };
        }
        self.process_packet(p, out);
    }

    // Always inlined: `process`, the hot path, must stay one function as it was before
    // `process_link` shared it.
    #[inline(always)]
    fn process_packet(&mut self, p: Packet<'_>, out: &mut Vec<Output>) {
        self.stats.ip_packets += 1;
        let mut rogue = None;
        if p.fragment == Fragment::Whole {
            if p.proto == UDP && p.sport == 67 && p.dport == 68 {
                rogue = self.dhcp_server_reply(&p, out);
            } else if p.proto == UDP && p.sport == 547 && p.dport == 546 {
                rogue = self.dhcpv6_server_message(&p);
            } else if p.proto == ICMPV6 && p.payload.first() == Some(&ROUTER_ADVERTISEMENT) {
                rogue = self.router_advertisement(&p, out);
            }
        } else if p.fragment == Fragment::Later {
            self.stats.fragments += 1;
        }
        let dst_lan = self.is_lan(&p.dst);
        let src_lan = self.is_lan(&p.src);
        // Internet-bound frames go to the router's MAC: that is the gateway (learned only
        // when the gateway's MACs are not configured).
        if !dst_lan && !is_group_addr(&p.dst) && !p.dst_mac.is_group() {
            self.learn_gateway(p.dst_mac);
        } else if !src_lan
            && self.gateways.is_empty()
            && !is_group_addr(&p.src)
            && !p.src_mac.is_group()
        {
            // Internet-sourced frames to the LAN arrive from the router: with no gateway
            // known yet (a capture starting with an attack from outside), their sender is it.
            // Once one is known, another MAC doing this forges internet addresses and stays a
            // device.
            self.learn_gateway(p.src_mac);
        }
        if !p.src_mac.is_group() && !self.is_gateway(&p.src_mac) {
            self.sent_by_device(&p, src_lan, dst_lan, out);
            if let Some(r) = rogue {
                self.report_rogue(&p, r, out);
            }
        }
        if !p.dst_mac.is_group()
            && !self.is_gateway(&p.dst_mac)
            && self.devices.contains(&p.dst_mac)
        {
            self.received_by_device(&p, src_lan, out);
        }
    }

    /// A DHCPv4 BOOTREPLY. Only an allowed server's reply is believed: its DNS servers and
    /// its own address become resolvers, and (configured servers only) the address it
    /// acknowledged for a client is added to that client's facts. Anyone else's is a
    /// [`EventKind::RogueDhcp`], and changes nothing about the device it names.
    fn dhcp_server_reply(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) -> Option<Rogue> {
        let f = parse_dhcpv4(p.payload)?;
        if !f.is_server_reply {
            return None;
        }
        if !self.dhcp_server_allowed(p.src_mac) {
            self.stats.rogue_dhcp += 1;
            let victim = f.client_mac.map_or(Who::Another, |m| self.who_of(&m));
            return Some(Rogue {
                kind: EventKind::RogueDhcp,
                quarantine: true,
                said: Said::RogueDhcp { victim },
            });
        }
        self.learn_gateway(p.src_mac);
        for a in f.dns_servers.iter().chain(f.server.iter()) {
            if !self.dhcp_resolvers.contains(a) && self.dhcp_resolvers.len() < MAX_DHCP_RESOLVERS {
                self.dhcp_resolvers.push(*a);
            }
        }
        // A lease is the gateway's own word only when its server is configured: a learned
        // server (replay) may be anyone who answered first.
        let configured = self.config.gateway_macs.contains(&p.src_mac)
            || self.config.dhcp_servers.contains(&p.src_mac);
        if let (true, true, Some(mac), Some(addr)) =
            (configured, f.is_ack, f.client_mac, f.assigned)
        {
            let now = self.now;
            if let Some(d) = self.devices.peek_mut(&mac) {
                let (added, first) = d.note_addr(addr, now, &mut self.stats);
                d.flush_facts(added, first, now, out);
            }
        }
        None
    }

    /// A DHCPv6 server message (Advertise, Reply, Reconfigure): from anyone but an allowed
    /// DHCP server it is a [`EventKind::RogueDhcp`].
    fn dhcpv6_server_message(&mut self, p: &Packet<'_>) -> Option<Rogue> {
        let f = parse_dhcpv6(p.payload)?;
        if !f.is_server_reply || self.dhcp_server_allowed(p.src_mac) {
            return None;
        }
        self.stats.rogue_dhcp += 1;
        Some(Rogue {
            kind: EventKind::RogueDhcp,
            quarantine: true,
            said: Said::RogueDhcpV6,
        })
    }

    /// An ICMPv6 router advertisement (RFC 4861 §4.2). Hosts accept only those with hop limit
    /// 255 from a link-local address (§6.1.2), so others are ignored. From the gateway, its
    /// Prefix Information options (§4.6.2) with the on-link or autonomous flag teach LAN
    /// prefixes; from anyone else it is a [`EventKind::RogueRouterAdvertisement`].
    fn router_advertisement(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) -> Option<Rogue> {
        let ra = p.payload;
        let from_link_local =
            matches!(p.src, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80);
        if p.hop_limit != 255 || !from_link_local || ra.len() < 16 || ra[1] != 0 {
            return None;
        }
        let router_lifetime = u16::from_be_bytes([ra[6], ra[7]]);
        if !self.router_allowed(&p.src_mac) {
            self.stats.rogue_router_advertisements += 1;
            return Some(Rogue {
                kind: EventKind::RogueRouterAdvertisement,
                quarantine: router_lifetime > 0,
                said: if router_lifetime > 0 {
                    Said::RogueRouter
                } else {
                    Said::RogueRoutes
                },
            });
        }
        self.learn_gateway(p.src_mac);
        for (net, valid_s) in prefix_information(&ra[16..]) {
            self.learn_prefix(net, valid_s, p.src_mac, out);
        }
        None
    }

    fn learn_prefix(&mut self, net: Ipv6Net, valid_s: u32, router: Mac, out: &mut Vec<Output>) {
        let now = self.now;
        let expires = if valid_s == u32::MAX {
            u64::MAX // infinity (RFC 4861 §4.6.2)
        } else {
            now.saturating_add(u64::from(valid_s) * NS)
        };
        if let Some(e) = self.learned_prefixes.iter_mut().find(|(n, _)| *n == net) {
            e.1 = expires;
            return;
        }
        if self.lan_v6.contains(&net) {
            return; // configured
        }
        if self.learned_prefixes.len() >= MAX_LEARNED_PREFIXES {
            // An expired one, else the one expiring soonest.
            let (i, _) = self
                .learned_prefixes
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, exp))| *exp)
                .expect("full");
            let (gone, _) = self.learned_prefixes.remove(i);
            self.lan_v6.retain(|n| *n != gone);
        }
        self.learned_prefixes.push((net, expires));
        self.lan_v6.push(net);
        self.stats.lan_prefixes_learned += 1;
        out.push(Output::LanPrefix(LanPrefix {
            prefix: IpNet::V6(net),
            router,
        }));
    }

    /// How events name a device not necessarily known yet.
    fn who_of(&self, mac: &Mac) -> Who {
        self.devices
            .peek(mac)
            .map_or(Who::Mac(*mac), DeviceState::who)
    }

    fn report_rogue(&mut self, p: &Packet<'_>, r: Rogue, out: &mut Vec<Output>) {
        let now = self.now;
        let t = &self.config.thresholds;
        let Some(dev) = self.devices.peek_mut(&p.src_mac) else {
            return;
        };
        dev.evidence.clear(&[r.kind]);
        dev.evidence.note(
            r.kind,
            Tuple {
                time_ns: now,
                src: p.src,
                dst: p.dst,
                proto: p.proto,
                sport: p.sport,
                dport: p.dport,
            },
        );
        let fire = Fire {
            kind: r.kind,
            said: r.said,
            quarantine: r.quarantine,
        };
        dev.emit(fire, now, t, &mut self.stats, out);
    }

    /// Create the device's state if it is new; true when it was.
    fn ensure_device(&mut self, mac: Mac) -> bool {
        if self.devices.contains(&mac) {
            return false;
        }
        let mut facts = DeviceFacts::new(mac, self.now);
        facts.vendor = self.oui.vendor(&mac).map(str::to_string);
        let mut state = DeviceState::new(facts, self.now);
        state.named_by_address = self.addr_macs.is_some() && is_address_mac(&mac);
        if let Some((_, evicted)) = self.devices.push(mac, state) {
            if evicted.facts.mac != mac {
                self.stats.devices_evicted += 1;
            }
        }
        self.stats.devices += 1;
        true
    }

    fn sent_by_device(
        &mut self,
        p: &Packet<'_>,
        src_lan: bool,
        dst_lan: bool,
        out: &mut Vec<Output>,
    ) {
        let now = self.now;
        let tuple = Tuple {
            time_ns: now,
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            sport: p.sport,
            dport: p.dport,
        };
        let resolver_ok = self.is_resolver(&p.dst);
        let resolvers_known = !self.config.resolvers.is_empty() || !self.dhcp_resolvers.is_empty();
        let owner_allowed = !self.config.allowed_resolvers.is_empty()
            && self
                .config
                .allowed_resolvers
                .iter()
                .any(|a| a.resolver == p.dst && a.device.is_none_or(|m| m == p.src_mac));
        let is_new = self.ensure_device(p.src_mac);
        // Peek (no LRU reordering) and promote at most once per second of packet time: moving
        // the entry to the front on every packet costs cache misses on its neighbours.
        let dev = self.devices.peek_mut(&p.src_mac).expect("ensured");
        if now >= dev.promoted_ns.saturating_add(NS) {
            dev.promoted_ns = now;
            self.devices.promote(&p.src_mac);
        }
        let dev = self.devices.peek_mut(&p.src_mac).expect("ensured");
        let t = &self.config.thresholds;
        dev.facts.last_seen_ns = now;
        let mut changed = is_new;
        let mut urgent = is_new;
        if src_lan {
            let (added, first) = dev.note_addr(p.src, now, &mut self.stats);
            changed |= added;
            urgent |= first;
        }
        dev.roll(now, t);
        let mut fired: Vec<(EventKind, Said)> = Vec::new();

        if p.fragment == Fragment::Later {
            // No ports: a flood evidence count, unless the datagram's first fragment belonged
            // to a flow somebody answered.
            dev.flush_facts(changed, urgent, now, out);
            let h = frag_key(&p.dst, p.ip_id);
            if is_group_addr(&p.dst) || dev.flow_frags.as_ref().is_some_and(|f| f.0.contains(&h)) {
                return;
            }
            dev.evidence.note(EventKind::FragmentFlood, tuple);
            let ready = Ready {
                cooldowns: &dev.cooldowns,
                now,
                t,
            };
            if let Some(said) = dev.windows.second.fragment(ready, p.dst) {
                dev.emit(
                    Fire::new(EventKind::FragmentFlood, said),
                    now,
                    t,
                    &mut self.stats,
                    out,
                );
            }
            return;
        }

        if p.proto == UDP && p.fragment == Fragment::Whole {
            let (c, u) = identity_from(dev, p, &mut fired);
            changed |= c;
            urgent |= u;
        }
        dev.flush_facts(changed, urgent, now, out);

        // DNS sent past the gateway's resolver.
        // A SYN to port 53 while the device tries many ports this second is part of a port
        // scan, reported as such.
        let dns_query = p.dport == 53
            && (p.proto == UDP
                || (p.tcp.is_some_and(|tc| tc.syn && !tc.ack) && !dev.windows.second.many_ports()));
        // UDP to port 53 counts when it is a DNS query (a UDP flood's random ports hit 53 too).
        if dns_query
            && resolvers_known
            && !resolver_ok
            && !owner_allowed
            && !is_group_addr(&p.dst)
            && (p.proto != UDP || is_dns_query(p.payload))
        {
            dev.evidence.note(EventKind::DnsBypass, tuple);
            if dev.cooldowns.may_fire(EventKind::DnsBypass, now, t) {
                // Weigh it: the same name answered by the router moments ago is a fallback
                // resolver (or a device checking its answers), not a way around the router.
                let fallback = (p.proto == UDP)
                    .then(|| parse_query(p.payload))
                    .flatten()
                    .and_then(|q| {
                        let h = hash_name(&self.name_hasher, &q.name);
                        dev.answered_names
                            .iter()
                            .any(|(n, at)| *n == h && now < at.saturating_add(FALLBACK_WINDOW_NS))
                            .then_some(q.name)
                    });
                let said = match fallback {
                    Some(name) => Said::DnsFallback {
                        resolver: p.dst,
                        name,
                    },
                    None => Said::DnsBypass { resolver: p.dst },
                };
                fired.push((EventKind::DnsBypass, said));
            }
        }
        if dns_query && p.proto == UDP && p.fragment == Fragment::Whole {
            let query = parse_query(p.payload);
            if let (Some(q), true) = (&query, resolver_ok) {
                // Remember it: only an answer to this exact question counts.
                dev.pending_dns
                    .retain(|pq| now < pq.sent_ns.saturating_add(DNS_QUERY_TIMEOUT_NS));
                if dev.pending_dns.len() >= MAX_PENDING_DNS {
                    dev.pending_dns.remove(0);
                }
                dev.pending_dns.push(PendingQuery {
                    id: q.id,
                    sport: p.sport,
                    src: p.src,
                    resolver: p.dst,
                    name: hash_name(&self.name_hasher, &q.name),
                    sent_ns: now,
                });
            }
            if let Some(parent) = query.and_then(|q| q.parent) {
                let ready = Ready {
                    cooldowns: &dev.cooldowns,
                    now,
                    t,
                };
                if let Some(said) =
                    dev.windows
                        .torture
                        .query(ready, &mut dev.evidence, tuple, parent)
                {
                    fired.push((EventKind::DnsWaterTorture, said));
                }
            }
        }

        // New destinations (internet only; the LAN is local business). Answers (SYN-ACK, RST,
        // ICMP errors) go where others came from: a device under attack answering forged
        // addresses does not contact them.
        let remote_dst = !dst_lan && !is_group_addr(&p.dst);
        let answer = match p.tcp {
            Some(tc) => tc.rst || (tc.syn && tc.ack),
            None => match (p.proto, p.payload.first()) {
                (1, Some(3 | 11 | 12)) => true,
                (ICMPV6, Some(ty)) => *ty < 128,
                _ => false,
            },
        };
        if remote_dst
            && !answer
            && dev.windows.new_dsts.learn(&p.dst)
            && now
                >= dev
                    .facts
                    .first_seen_ns
                    .saturating_add(t.learn_s.saturating_mul(NS))
        {
            let ready = Ready {
                cooldowns: &dev.cooldowns,
                now,
                t,
            };
            if let Some(said) = dev
                .windows
                .new_dsts
                .new_one(ready, &mut dev.evidence, tuple)
            {
                fired.push((EventKind::NewDestinations, said));
            }
        }

        let key = FlowKey {
            local: ip_bits(&p.src),
            remote: ip_bits(&p.dst),
            lport: p.sport,
            rport: p.dport,
            proto: p.proto,
        };
        let mut promote = false;
        // A TCP first fragment cut inside its header (RFC 1858) shows ports and sequence number
        // but no flags: no stack sends that, so it counts as a connection attempt (a SYN whose
        // options are unknown, so not the Mirai fingerprint).
        let tcp = p.tcp.or_else(|| {
            (p.proto == TCP && p.fragment == Fragment::First).then(|| crate::packet::Tcp {
                seq: p
                    .payload
                    .get(4..8)
                    .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                syn: true,
                options_len: usize::MAX,
                ..Default::default()
            })
        });
        let ready = Ready {
            cooldowns: &dev.cooldowns,
            now,
            t,
        };
        if let Some(tc) = tcp {
            if tc.syn && !tc.ack {
                let keys = (addr_key(&p.dst), port_hash(p.dport));
                // Mirai's scanner sets the ISN to the target address and sends no options.
                let mirai =
                    matches!(p.dst, IpAddr::V4(d) if tc.seq == u32::from(d) && tc.options_len == 0);
                let w = &mut dev.windows;
                w.fanout.syn(
                    ready,
                    &mut dev.evidence,
                    tuple,
                    keys,
                    (mirai, self.port_scan_bits),
                    &mut fired,
                );
                let group = is_group_addr(&p.dst);
                if let Some(said) = w.second.syn(ready, &mut dev.evidence, tuple, group, keys) {
                    fired.push((EventKind::SynFlood, said));
                }
            } else if touch_flow(&mut self.flows, &key, now) {
                if p.fragment == Fragment::First {
                    dev.note_flow_fragment(frag_key(&p.dst, p.ip_id));
                }
            } else if !(tc.rst || (tc.syn && dev.windows.second.syns_arriving())) {
                // A non-SYN packet of no known flow: an ACK flood sends nothing else. SYN-ACKs
                // while SYNs arrive from the internet are the device answering them. A flow
                // that keeps going (it began before the capture) becomes a real flow after three
                // packets — unless the device is flooding right now, when a full sketch would
                // promote flood packets too.
                dev.evidence.note(EventKind::AckFlood, tuple);
                let (acks, said) = dev.windows.second.ack(ready, p.dst);
                let c = dev.unsolicited.add(key.hash64());
                if c >= 3 && acks < t.flood_pps / 4 {
                    promote = true;
                }
                if let Some(said) = said {
                    fired.push((EventKind::AckFlood, said));
                }
            }
        } else if p.proto == UDP && p.dport == 53 && !is_group_addr(&p.dst) {
            // A query: its answer is solicited (see `received_by_device`).
            dev.unsolicited.add(key.hash64());
        } else if p.proto == UDP && !is_group_addr(&p.dst) {
            if touch_flow(&mut self.flows, &key, now) {
                if p.fragment == Fragment::First {
                    dev.note_flow_fragment(frag_key(&p.dst, p.ip_id));
                }
            } else {
                // Remembered so that the answer makes a flow and an unrequested datagram
                // from the internet does not.
                dev.unsolicited.add(key.hash64());
                dev.evidence.note(EventKind::UdpFlood, tuple);
                if let Some(said) = dev.windows.second.udp(ready, p.dst) {
                    fired.push((EventKind::UdpFlood, said));
                }
            }
        }

        if !self.config.policies.is_empty() {
            let mut resolvers = self.dhcp_resolvers.clone();
            resolvers.extend_from_slice(&self.config.resolvers);
            if let Some(said) = crate::conformance::violation(
                &self.config.policies,
                dev.facts.mud_url.as_deref(),
                &dev.learned,
                p,
                &resolvers,
                dst_lan,
            ) {
                dev.evidence.note(EventKind::MudViolation, tuple);
                if dev.cooldowns.may_fire(EventKind::MudViolation, now, t) {
                    fired.push((EventKind::MudViolation, said));
                }
            }
        }

        for (kind, said) in fired {
            dev.emit(Fire::new(kind, said), now, t, &mut self.stats, out);
        }
        if promote {
            self.insert_flow(key, p.src_mac);
        }
    }

    fn received_by_device(&mut self, p: &Packet<'_>, src_lan: bool, out: &mut Vec<Output>) {
        let now = self.now;
        let key = FlowKey {
            local: ip_bits(&p.dst),
            remote: ip_bits(&p.src),
            lport: p.dport,
            rport: p.sport,
            proto: p.proto,
        };
        if p.fragment == Fragment::Later {
            return; // no ports: neither an answer nor a flow
        }
        if p.proto == UDP && p.sport == 53 {
            if p.fragment == Fragment::Whole {
                self.dns_answers(p, out);
            } else {
                // A fragmented answer is not reassembled: not passed on (fail closed).
                self.stats.dns_answers_unsolicited += 1;
            }
        }
        if touch_flow(&mut self.flows, &key, now) {
            return;
        }
        if !src_lan && !is_group_addr(&p.src) {
            // A datagram from the internet answers one the device sent (remembered in its
            // sketch), or nobody asked for it: then it makes no flow (a reflection flood
            // would fill the table) until the device answers it.
            let solicited = p.proto == UDP
                && self
                    .devices
                    .peek(&p.dst_mac)
                    .is_some_and(|d| d.unsolicited.estimate(key.hash64()) > 0);
            if !solicited && self.inbound_unsolicited(p, out) {
                return;
            }
        }
        let answered = match p.tcp {
            Some(tc) => tc.syn && tc.ack,
            None => p.proto == UDP,
        };
        if answered {
            if let Some(d) = self.devices.peek_mut(&p.dst_mac) {
                if p.tcp.is_some() {
                    d.windows.fanout.answered();
                    // Brute force counts connections the login service accepted: guessing
                    // passwords needs an open port.
                    if AUTH_PORTS.contains(&p.sport) {
                        let t = &self.config.thresholds;
                        d.roll(now, t);
                        let said = d.windows.logins.accepted(t, p.src, p.sport);
                        d.evidence.note(
                            EventKind::BruteForce,
                            Tuple {
                                time_ns: now,
                                src: p.dst,
                                dst: p.src,
                                proto: p.proto,
                                sport: p.dport,
                                dport: p.sport,
                            },
                        );
                        if let Some(said) = said {
                            let fire = Fire::new(EventKind::BruteForce, said);
                            d.emit(fire, now, t, &mut self.stats, out);
                        }
                    }
                }
            }
            self.insert_flow(key, p.dst_mac);
        }
    }

    /// A packet from the internet to a device, of no known flow: SYNs and datagrams are
    /// counted against the device as the *target* (inbound floods, reflection), SYNs also
    /// against their source (inbound port scans and sweeps). Returns true for a datagram (it
    /// makes no flow).
    fn inbound_unsolicited(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) -> bool {
        let syn = p.tcp.is_some_and(|tc| tc.syn && !tc.ack);
        let udp = p.proto == UDP && p.fragment == Fragment::Whole;
        if !syn && !udp {
            return false;
        }
        let now = self.now;
        let t = &self.config.thresholds;
        let fan_ns = t.fanout_window_s * NS;
        // The source: how many hosts and ports it tried.
        let mut scan = None;
        let mut scanner = false;
        if syn {
            let sources = self.inbound_sources.get_or_insert_with(|| {
                Box::new(LruCache::new(
                    NonZeroUsize::new(MAX_INBOUND_SOURCES).expect("non-zero"),
                ))
            });
            let s = sources.get_or_insert_mut(p.src, || InboundSource {
                start: now,
                dsts: HyperLogLog::default(),
                ports: HyperLogLog::default(),
                reported: false,
            });
            if now >= s.start.saturating_add(fan_ns) {
                s.start = now;
                s.dsts.clear();
                s.ports.clear();
                s.reported = false;
            }
            s.dsts.insert(addr_key(&p.dst));
            s.ports.insert(port_hash(p.dport));
            let (hosts, ports) = (s.dsts.estimate(), s.ports.estimate());
            scanner = hosts >= 4.0 || ports >= 4.0;
            if !s.reported && (hosts >= t.scan_fanout as f64 || ports >= t.port_scan_ports as f64) {
                s.reported = true;
                scan = Some((hosts, ports));
            }
        }
        let Some(dev) = self.devices.peek_mut(&p.dst_mac) else {
            return false;
        };
        dev.roll(now, t);
        let tuple = Tuple {
            time_ns: now,
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            sport: p.sport,
            dport: p.dport,
        };
        let mut fired: Vec<(EventKind, Said)> = Vec::new();
        if let Some((hosts, ports)) = scan {
            dev.evidence.note(EventKind::InboundScan, tuple);
            let said = if ports >= t.port_scan_ports as f64 {
                Said::InboundPortScan {
                    src: p.src,
                    ports,
                    window_s: t.fanout_window_s,
                }
            } else {
                Said::InboundSweep {
                    src: p.src,
                    port: p.dport,
                    hosts,
                    window_s: t.fanout_window_s,
                }
            };
            fired.push((EventKind::InboundScan, said));
        } else if syn {
            dev.evidence.note(EventKind::InboundScan, tuple);
        }
        let ready = Ready {
            cooldowns: &dev.cooldowns,
            now,
            t,
        };
        if syn {
            dev.evidence.note(EventKind::InboundFlood, tuple);
            if let Some(said) = dev
                .windows
                .second
                .inbound_syn(ready, p.src, p.dport, scanner)
            {
                fired.push((EventKind::InboundFlood, said));
            }
        } else if let Some(f) = dev
            .windows
            .second
            .inbound_udp(ready, &mut dev.evidence, tuple)
        {
            fired.push(f);
        }
        for (kind, said) in fired {
            dev.emit(Fire::new(kind, said), now, t, &mut self.stats, out);
        }
        udp
    }

    fn insert_flow(&mut self, key: FlowKey, device: Mac) {
        let quota = self.config.max_flows_per_device;
        let Some(d) = self.devices.peek_mut(&device) else {
            return;
        };
        if d.flows >= quota {
            self.stats.flows_over_quota += 1;
            return;
        }
        d.flows += 1;
        self.stats.flows_created += 1;
        // Idle flows leave first (Zeek's defaults: TCP 5 min, UDP 1 min of inactivity), so the
        // table holds what is alive rather than filling to its cap and staying there.
        for _ in 0..2 {
            let Some((_, oldest)) = self.flows.peek_oldest() else {
                break;
            };
            let idle = if oldest.proto == crate::packet::TCP {
                300
            } else {
                60
            };
            if oldest.last_ns.saturating_add(idle * NS) >= self.now {
                break;
            }
            if let Some((_, gone)) = self.flows.pop_oldest() {
                self.stats.flows_expired += 1;
                if let Some(owner) = self.devices.peek_mut(&gone.device) {
                    owner.flows = owner.flows.saturating_sub(1);
                }
            }
        }
        let flow = Flow {
            device,
            proto: key.proto,
            last_ns: self.now,
            packets: 1,
        };
        // At the cap the least recently used flow makes room (evicted here, not inside the
        // map, so its device's count goes down with it).
        if self.flows.len() >= self.config.max_flows.max(1) && self.flows.peek(&key).is_none() {
            if let Some((_, old)) = self.flows.pop_oldest() {
                self.stats.flows_evicted += 1;
                if let Some(owner) = self.devices.peek_mut(&old.device) {
                    owner.flows = owner.flows.saturating_sub(1);
                }
            }
        }
        self.flows.insert(key, flow);
    }

    /// A UDP datagram from port 53 to a device. Passed on only when it comes from an allowed
    /// resolver and answers a query the device sent that resolver (same id, name, port and
    /// addresses, within [`DNS_QUERY_TIMEOUT_NS`]); each query is answered once.
    fn dns_answers(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) {
        if !self.is_resolver(&p.src) {
            self.stats.dns_answers_foreign += 1;
            return;
        }
        let now = self.now;
        let Ok(msg) = simple_dns::Packet::parse(p.payload) else {
            self.stats.dns_answers_unsolicited += 1;
            return;
        };
        let Some(q) = msg.questions.first() else {
            self.stats.dns_answers_unsolicited += 1;
            return;
        };
        let name = q
            .qname
            .to_string()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let name_hash = hash_name(&self.name_hasher, &name);
        let matched = msg.has_flags(simple_dns::PacketFlag::RESPONSE)
            && self.devices.peek_mut(&p.dst_mac).is_some_and(|d| {
                let found = d.pending_dns.iter().position(|pq| {
                    pq.id == msg.id()
                        && pq.sport == p.dport
                        && pq.resolver == p.src
                        && pq.src == p.dst
                        && pq.name == name_hash
                        && now < pq.sent_ns.saturating_add(DNS_QUERY_TIMEOUT_NS)
                });
                let hit = found.map(|i| d.pending_dns.remove(i)).is_some();
                if hit {
                    d.answered_names.retain(|(n, _)| *n != name_hash);
                    if d.answered_names.len() >= MAX_ANSWERED_NAMES {
                        d.answered_names.remove(0);
                    }
                    d.answered_names.push((name_hash, now));
                }
                hit
            });
        if !matched {
            self.stats.dns_answers_unsolicited += 1;
            return;
        }
        let cap = self.config.max_dns_ttl_s;
        for rr in msg.answers.iter().take(MAX_ANSWERS_PER_PACKET) {
            let addr = match &rr.rdata {
                simple_dns::rdata::RData::A(a) => IpAddr::from(a.address.to_be_bytes()),
                simple_dns::rdata::RData::AAAA(a) => IpAddr::from(a.address.to_be_bytes()),
                _ => continue,
            };
            if rr.ttl > cap {
                self.stats.dns_ttl_capped += 1;
            }
            self.stats.dns_answers += 1;
            if !self.config.policies.is_empty() {
                if let Some(d) = self.devices.peek_mut(&p.dst_mac) {
                    if d.learned.len() == crate::conformance::MAX_LEARNED_NAMES {
                        d.learned.remove(0);
                    }
                    d.learned.push((name.clone(), addr));
                }
            }
            out.push(Output::Dns(DnsAnswer {
                device: p.dst_mac,
                name: name.clone(),
                addr,
                ttl_s: rr.ttl.min(cap),
            }));
        }
    }
}

/// Count a packet of a known flow; false if the flow is unknown. The LRU position is refreshed
/// at most once per second of packet time (see `sent_by_device`).
type FlowTable = schnellru::LruMap<FlowKey, Flow, schnellru::ByLength, foldhash::fast::RandomState>;

#[inline]
fn touch_flow(flows: &mut FlowTable, key: &FlowKey, now: u64) -> bool {
    match flows.peek_mut(key) {
        Some(f) => {
            f.packets += 1;
            if now >= f.last_ns.saturating_add(NS) {
                f.last_ns = now;
                // `get` moves it to the front of the recency order.
                flows.get(key);
            }
            true
        }
        None => false,
    }
}

/// An event about to be emitted.
struct Fire {
    kind: EventKind,
    said: Said,
    /// Whether the gateway may isolate the device for it; usually
    /// [`EventKind::is_bot_behaviour`] (a rogue router advertisement's depends on it).
    quarantine: bool,
}

impl Fire {
    fn new(kind: EventKind, said: Said) -> Self {
        Fire {
            kind,
            said,
            quarantine: kind.is_bot_behaviour(),
        }
    }
}

impl DeviceState {
    /// Emit an event unless the same kind fired for this device within the cooldown: its
    /// sentence in both languages, its evidence.
    fn emit(
        &mut self,
        f: Fire,
        now: u64,
        t: &Thresholds,
        stats: &mut Stats,
        out: &mut Vec<Output>,
    ) {
        if !self.cooldowns.may_fire(f.kind, now, t) {
            return;
        }
        self.cooldowns.fired(f.kind, now);
        stats.events += 1;
        let who = self.who();
        out.push(Output::Event(Event {
            device: self.facts.mac,
            kind: f.kind,
            time_ns: now,
            time: rfc3339(now),
            evidence: self
                .evidence
                .of(f.kind)
                .iter()
                .map(Tuple::evidence)
                .collect(),
            explanation: f.said.render(&who, Lang::En),
            explanation_fr: f.said.render(&who, Lang::Fr),
            quarantine: f.quarantine,
        }));
    }
}

/// What a device's own UDP says about it: DHCPv4/v6 requests, mDNS names. Returns (facts
/// changed, emit them now).
fn identity_from(
    dev: &mut DeviceState,
    p: &Packet<'_>,
    fired: &mut Vec<(EventKind, Said)>,
) -> (bool, bool) {
    if p.sport == 68 && p.dport == 67 {
        if let Some(f) = parse_dhcpv4(p.payload) {
            return merge_dhcp(dev, f, fired);
        }
    } else if p.dport == 547 {
        if let Some(f) = parse_dhcpv6(p.payload) {
            if !f.is_server_reply {
                return merge_dhcp(dev, f, fired);
            }
        }
    } else if p.sport == 5353 && p.dport == 5353 {
        let mut changed = false;
        for n in parse_mdns_names(p.payload) {
            if dev.facts.mdns_names.len() < crate::identity::MAX_MDNS_NAMES {
                changed |= dev.facts.mdns_names.insert(n);
            }
        }
        return (changed, false);
    }
    (false, false)
}

/// Merge what a device's own DHCP message says about it. Returns (facts changed, emit them
/// now). The first valid MUD URL is kept: a different later one is an event and
/// `mud_url_changed_to`; an invalid one is an event and is not recorded.
fn merge_dhcp(
    dev: &mut DeviceState,
    f: crate::identity::DhcpFacts,
    fired: &mut Vec<(EventKind, Said)>,
) -> (bool, bool) {
    let facts = &mut dev.facts;
    let before = facts.clone();
    let mut urgent = false;
    if f.hostname.is_some() {
        facts.hostname = f.hostname;
    }
    if f.vendor_class.is_some() {
        facts.vendor_class = f.vendor_class;
    }
    if !f.parameter_list.is_empty() {
        facts.parameter_list = f.parameter_list;
    }
    match f.mud_url {
        None => {}
        Some(MudUrlOption::Valid(url)) => match &facts.mud_url {
            None => {
                facts.mud_url = Some(url);
                urgent = true;
            }
            Some(first) if *first == url => {}
            Some(first) => {
                if facts.mud_url_changed_to.as_deref() != Some(url.as_str()) {
                    urgent = facts.mud_url_changed_to.is_none();
                    let first = first.clone();
                    facts.mud_url_changed_to = Some(url.clone());
                    fired.push((EventKind::MudUrlChanged, Said::MudUrlChanged { url, first }));
                }
            }
        },
        Some(MudUrlOption::Refused { why, shown }) => {
            fired.push((EventKind::MudUrlInvalid, Said::MudUrlInvalid { why, shown }))
        }
    }
    (*facts != before, urgent)
}

/// The MUD URL an LLDP frame carries (IEEE 802.1AB §8: TLVs of a 7-bit type and 9-bit length
/// after the Ethernet header; RFC 8520 §10: type 127, OUI 00-00-5E, subtype 1, the URL).
/// `None`: not LLDP, or no MUD URL TLV. At most 64 TLVs are read.
fn lldp_mud_url(frame: &[u8]) -> Option<MudUrlOption> {
    /// IEEE 802.1AB EtherType.
    const LLDP: [u8; 2] = [0x88, 0xcc];
    /// IEEE 802.1AB §8.6: organizationally specific TLV.
    const ORG_SPECIFIC: u16 = 127;
    /// RFC 8520 §10: IANA's OUI and the MUD subtype.
    const MUD_OUI_SUBTYPE: [u8; 4] = [0x00, 0x00, 0x5e, 0x01];
    if frame.get(12..14)? != LLDP {
        return None;
    }
    let mut rest = frame.get(14..)?;
    for _ in 0..64 {
        let head = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
        let (kind, len) = (head >> 9, usize::from(head & 0x1ff));
        let value = rest.get(2..2 + len)?;
        if kind == 0 {
            return None; // End of LLDPDU
        }
        if kind == ORG_SPECIFIC && value.len() > 4 && value[..4] == MUD_OUI_SUBTYPE {
            return Some(crate::identity::check_mud_url(&value[4..]));
        }
        rest = &rest[2 + len..];
    }
    None
}

/// Hash of a DNS name (lower case, no trailing dot) under the monitor's random seed.
fn hash_name(h: &foldhash::quality::RandomState, name: &str) -> u64 {
    use std::hash::BuildHasher;
    h.hash_one(name)
}

/// Key of a datagram's fragments: destination and IPv4 identification.
fn frag_key(dst: &IpAddr, id: u16) -> u64 {
    mix64(
        (ip_bits(dst) as u64)
            ^ ((ip_bits(dst) >> 64) as u64).rotate_left(7)
            ^ (u64::from(id) << 48),
    ) | 1
}

/// Prefix Information options (RFC 4861 §4.6.2) of a router advertisement's options: prefixes
/// with the on-link (L) or autonomous (A) flag, a non-zero valid lifetime, length 32 to 128,
/// and not link-local, multicast, loopback or unspecified. At most 16 options are read.
fn prefix_information(mut opts: &[u8]) -> Vec<(Ipv6Net, u32)> {
    let mut found = Vec::new();
    for _ in 0..16 {
        if opts.len() < 8 {
            break;
        }
        let len = opts[1] as usize * 8;
        if len == 0 || len > opts.len() {
            break; // RFC 4861 §4.6: a zero length is invalid, and so is the rest
        }
        let (o, rest) = opts.split_at(len);
        opts = rest;
        if o[0] != 3 || len != 32 {
            continue;
        }
        let (plen, flags) = (o[2], o[3]);
        let valid = u32::from_be_bytes([o[4], o[5], o[6], o[7]]);
        let mut a = [0u8; 16];
        a.copy_from_slice(&o[16..32]);
        let addr = Ipv6Addr::from(a);
        let usable = flags & 0xc0 != 0
            && valid > 0
            && (32..=128).contains(&plen)
            && !addr.is_multicast()
            && !addr.is_loopback()
            && !addr.is_unspecified()
            && (addr.segments()[0] & 0xffc0) != 0xfe80;
        if let (true, Ok(net)) = (usable, Ipv6Net::new(addr, plen)) {
            found.push((net.trunc(), valid));
        }
    }
    found
}

fn is_dns_query(payload: &[u8]) -> bool {
    simple_dns::Packet::parse(payload)
        .is_ok_and(|m| !m.has_flags(simple_dns::PacketFlag::RESPONSE) && !m.questions.is_empty())
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(7).build_hasher();
    h.write(b);
    h.finish()
}

/// A DNS query's id and name, and its parent domain for the water-torture detector.
struct QueryInfo {
    id: u16,
    /// Lower case, no trailing dot.
    name: String,
    /// The parent's hash and name, and the full name's hash (names of at least 3 labels).
    parent: Option<(u64, String, u64)>,
}

/// Parse a DNS query. The parent domain is the name's last two labels (no public-suffix list,
/// so `example.co.uk` counts as `co.uk`; good enough to see thousands of random names under
/// one parent).
fn parse_query(payload: &[u8]) -> Option<QueryInfo> {
    let msg = simple_dns::Packet::parse(payload).ok()?;
    if msg.has_flags(simple_dns::PacketFlag::RESPONSE) {
        return None;
    }
    let q = msg.questions.first()?;
    let labels = q.qname.get_labels();
    let full = q.qname.to_string().to_ascii_lowercase();
    let parent = (labels.len() >= 3).then(|| {
        let parent = labels[labels.len() - 2..]
            .iter()
            .map(|l| l.to_string().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(".");
        (
            hash_bytes(parent.as_bytes()),
            parent,
            hash_bytes(full.as_bytes()),
        )
    });
    Some(QueryInfo {
        id: msg.id(),
        name: full.trim_end_matches('.').to_string(),
        parent,
    })
}

#[cfg(test)]
mod port_map_tests {
    use crate::windows::{distinct_ports, port_hash, port_scan_bits};

    #[test]
    fn the_port_map_counts_tens_of_ports_and_tells_them_from_a_few() {
        let map = |ports: std::ops::Range<u64>| {
            ports.fold(0u128, |m, p| m | 1 << (port_hash(p as u16) >> 57))
        };
        for n in [16u64, 64, 100, 200] {
            let est = distinct_ports(map(1..n + 1));
            assert!((est - n as f64).abs() < 0.3 * n as f64, "{n}: {est}");
        }
        // nmap's first 64 ports cross the default threshold; 8 ports (a flood's few) do not.
        assert!(map(1..80).count_ones() >= port_scan_bits(64));
        assert!(map(1..9).count_ones() < port_scan_bits(64));
        assert_eq!(port_scan_bits(64), 51);
    }
}
