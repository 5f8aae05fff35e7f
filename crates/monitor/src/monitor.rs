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
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use lru::LruCache;
use serde::Serialize;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;

const NS: u64 = 1_000_000_000;
/// Packets kept as evidence per detector and window.
pub const EVIDENCE_PACKETS: usize = 5;
const KINDS: usize = EventKind::ALL.len();

/// Detector thresholds. The defaults are tuned so that the false-positive traps of the
/// scenario generator (legitimate telnet, NTP burst at boot, firmware download, mDNS storm,
/// DHCP renumbering) stay quiet; see `scenarios.rs`.
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
    pub brute_window_s: u64,
    /// Packets per second toward one device's unanswered targets for a flood.
    pub flood_pps: u32,
    /// Distinct names under one domain within `torture_window_s`.
    pub torture_names: u32,
    pub torture_window_s: u64,
    /// New destinations per minute, after `learn_s` seconds of learning, for an event.
    pub new_destinations: u32,
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
    pub max_devices: usize,
    pub max_flows: usize,
    pub max_flows_per_device: u32,
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
    pub device: Option<Mac>,
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
            max_flows: 131_072,
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
    pub frames: u64,
    pub ip_packets: u64,
    pub not_ip: u64,
    pub malformed: u64,
    pub devices: u64,
    pub devices_evicted: u64,
    pub flows_created: u64,
    pub flows_evicted: u64,
    /// Flows removed after their idle timeout.
    pub flows_expired: u64,
    /// Flows not created because the device was at its quota (counted in sketches instead).
    pub flows_over_quota: u64,
    pub events: u64,
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

#[derive(Default)]
struct Evidence {
    tuples: Vec<Tuple>,
}

impl Evidence {
    #[inline]
    fn note(&mut self, t: Tuple) {
        if self.tuples.len() < EVIDENCE_PACKETS {
            self.tuples.push(t);
        }
    }
}

struct DomainCount {
    parent: u64,
    parent_name: String,
    names: HyperLogLog,
}

/// Longest-lived per-device state: facts plus fixed-size detector state.
struct DeviceState {
    facts: DeviceFacts,
    /// Packet time of the last LRU promotion.
    promoted_ns: u64,
    flows: u32,
    // 1-second rate window (floods).
    rate_start: u64,
    syn: u32,
    udp_out: u32,
    ack_unsolicited: u32,
    /// One bit per hashed destination / destination port of this second's SYNs: a flood
    /// hits few of each; a sweep or port scan sets many.
    syn_dst_bits: u64,
    syn_port_bits: u64,
    /// Unsolicited from the internet this second: SYNs, UDP datagrams, and of those, UDP
    /// from amplifier ports (reflection).
    in_syn: u32,
    in_udp: u32,
    in_reflect: u32,
    // Fan-out window (scans).
    fan_start: u64,
    syn_dsts: HyperLogLog,
    /// Destination ports of SYNs in the fan-out window (port scans): a 128-bit linear
    /// counting bitmap (distinct ports ≈ -128 ln(1 - set/128)), enough to tell tens of ports
    /// from a few, in two words next to the other counters.
    syn_port_map: u128,
    telnet_dsts: HyperLogLog,
    syns: u32,
    answered: u32,
    mirai: u32,
    // Brute force window.
    brute_start: u64,
    /// Current and previous window, summed: attempts straddling a window boundary still add up.
    auth_attempts: CountMin,
    auth_attempts_prev: CountMin,
    // First packets of flows nobody answered yet; reset with the brute-force window.
    unsolicited: CountMin,
    // Water torture window: a few parent domains.
    dns_start: u64,
    domains: Vec<DomainCount>,
    // New destinations: known destinations as a Bloom filter (4096 bits, 2 hashes).
    known_dsts: Box<[u64; 64]>,
    /// DNS answers received (name, address), newest last, for MUD `dst-dnsname` checks.
    learned: Vec<(String, IpAddr)>,
    /// DNS queries the device sent to an allowed resolver, waiting for their answer.
    pending_dns: Vec<PendingQuery>,
    /// Names (hashes) the gateway's resolver answered for the device, with the time:
    /// a query for one of them elsewhere soon after is a fallback resolver at work.
    answered_names: Vec<(u64, u64)>,
    /// Non-first fragments in the 1-second rate window.
    frag_out: u32,
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
    new_start: u64,
    new_dsts: u32,
    evidence: [Evidence; KINDS],
    /// Packet time + 1 of the last event of each kind; 0: never (half the size of
    /// `Option<u64>`, and the device table is the memory worst case).
    last_fired: [u64; KINDS],
    /// Its MAC is [`address_mac`] of its address (a capture without MACs).
    named_by_address: bool,
}

impl DeviceState {
    fn new(facts: DeviceFacts, now: u64) -> Self {
        DeviceState {
            facts,
            promoted_ns: now,
            flows: 0,
            rate_start: now,
            syn: 0,
            udp_out: 0,
            ack_unsolicited: 0,
            syn_dst_bits: 0,
            syn_port_bits: 0,
            in_syn: 0,
            in_udp: 0,
            in_reflect: 0,
            fan_start: now,
            syn_dsts: HyperLogLog::default(),
            syn_port_map: 0,
            telnet_dsts: HyperLogLog::default(),
            syns: 0,
            answered: 0,
            mirai: 0,
            brute_start: now,
            auth_attempts: CountMin::default(),
            auth_attempts_prev: CountMin::default(),
            unsolicited: CountMin::default(),
            dns_start: now,
            domains: Vec::new(),
            known_dsts: Box::new([0; 64]),
            learned: Vec::new(),
            pending_dns: Vec::new(),
            answered_names: Vec::new(),
            frag_out: 0,
            flow_frags: None,
            addr_start: now,
            addr_new: 0,
            facts_pending: false,
            last_facts_out_ns: now,
            new_start: now,
            new_dsts: 0,
            evidence: Default::default(),
            last_fired: [0; KINDS],
            named_by_address: false,
        }
    }

    /// Advance the tumbling windows to `now` (packet time).
    #[inline]
    fn roll(&mut self, now: u64, t: &Thresholds) {
        if now >= self.rate_start + NS {
            self.rate_start = now;
            self.syn = 0;
            self.udp_out = 0;
            self.ack_unsolicited = 0;
            self.frag_out = 0;
            self.syn_dst_bits = 0;
            self.syn_port_bits = 0;
            self.in_syn = 0;
            self.in_udp = 0;
            self.in_reflect = 0;
            for k in [
                EventKind::SynFlood,
                EventKind::UdpFlood,
                EventKind::AckFlood,
                EventKind::FragmentFlood,
                EventKind::InboundFlood,
                EventKind::ReflectionFlood,
            ] {
                self.evidence[k as usize].tuples.clear();
            }
        }
        if now >= self.fan_start + t.fanout_window_s * NS {
            self.fan_start = now;
            self.syn_dsts.clear();
            self.syn_port_map = 0;
            self.telnet_dsts.clear();
            self.syns = 0;
            self.answered = 0;
            self.mirai = 0;
            for k in [
                EventKind::Scan,
                EventKind::TelnetScan,
                EventKind::MiraiScan,
                EventKind::PortScan,
                EventKind::InboundScan,
            ] {
                self.evidence[k as usize].tuples.clear();
            }
        }
        if now >= self.brute_start + t.brute_window_s * NS {
            self.brute_start = now;
            std::mem::swap(&mut self.auth_attempts, &mut self.auth_attempts_prev);
            self.auth_attempts.clear();
            self.unsolicited.clear();
            self.evidence[EventKind::BruteForce as usize].tuples.clear();
        }
        if now >= self.dns_start + t.torture_window_s * NS {
            self.dns_start = now;
            self.domains.clear();
            self.evidence[EventKind::DnsWaterTorture as usize]
                .tuples
                .clear();
        }
        if now >= self.new_start + 60 * NS {
            self.new_start = now;
            self.new_dsts = 0;
            self.evidence[EventKind::NewDestinations as usize]
                .tuples
                .clear();
        }
    }

    /// Whether an event of `kind` may fire now (not within the cooldown of the last one).
    /// Checked before the explanation is formatted: a flood crosses its threshold on every
    /// packet after the first thousand.
    #[inline]
    fn can_fire(&self, kind: EventKind, now: u64, t: &Thresholds) -> bool {
        last_fired(self.last_fired[kind as usize])
            .is_none_or(|last| now >= last + t.cooldown_s * NS)
    }

    fn display_name(&self) -> String {
        let who = self
            .facts
            .hostname
            .clone()
            .or_else(|| self.facts.mdns_names.iter().next().cloned())
            .or_else(|| self.facts.vendor.as_ref().map(|v| format!("A {v} device")));
        match (who, self.named_by_address, self.facts.addrs.first()) {
            (Some(w), _, _) => format!("{w} ({})", self.facts.mac),
            (None, true, Some(a)) => format!("The device at {a}"),
            (None, _, _) => format!("The device {}", self.facts.mac),
        }
    }

    /// Record a source address the device used, within its budget of new addresses per
    /// minute. Returns (recorded, it is the device's first of its family: the gateway needs it
    /// at once to contain the device, so it is not coalesced).
    fn note_addr(&mut self, addr: IpAddr, now: u64, stats: &mut Stats) -> (bool, bool) {
        if self.facts.addrs.contains(&addr) || addr.is_unspecified() {
            return (false, false);
        }
        if now >= self.addr_start + 60 * NS {
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
        if self.facts_pending && (now_anyway || now >= self.last_facts_out_ns + NS) {
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

    /// Insert `dst` into the known-destination filter; true if it was not there.
    fn learn_dst(&mut self, dst: &IpAddr) -> bool {
        let h = mix64(ip_bits(dst) as u64 ^ (ip_bits(dst) >> 64) as u64);
        let mut new = false;
        for bit in [h & 4095, (h >> 32) & 4095] {
            let (w, b) = ((bit / 64) as usize, bit % 64);
            if self.known_dsts[w] & (1 << b) == 0 {
                new = true;
                self.known_dsts[w] |= 1 << b;
            }
        }
        new
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
    explanation: String,
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
    flows: LruCache<FlowKey, Flow, foldhash::fast::RandomState>,
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

/// UDP source ports of services abused for reflection/amplification (CISA TA14-017A):
/// chargen, DNS, NTP, SNMP, NetBIOS, LDAP/CLDAP, SSDP, WS-Discovery, memcached, and others.
const AMPLIFIER_PORTS: [u16; 14] = [
    17, 19, 53, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353, 11211, 27015,
];

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
pub const MAX_LEARNED_PREFIXES: usize = 8;
/// Pending DNS queries per device (the oldest is dropped) and how long one waits.
pub const MAX_PENDING_DNS: usize = 16;
pub const DNS_QUERY_TIMEOUT_NS: u64 = 10 * NS;
/// New source addresses recorded per device and minute; more are refused (fail closed: the
/// gateway's anti-spoofing keeps dropping them) and counted in `Stats::addrs_refused`.
pub const MAX_NEW_ADDRS_PER_MINUTE: u32 = 8;
const FLOW_FRAG_SLOTS: usize = 32;
/// Names the gateway answered remembered per device, for the fallback-resolver check.
const MAX_ANSWERED_NAMES: usize = 8;
/// How long after the gateway's resolver answered a name a query for it elsewhere counts as
/// a fallback resolver.
const FALLBACK_WINDOW_NS: u64 = 60 * NS;
/// Most bits (of 64) a SYN flood sets in a second's destination and port bitmaps.
const FLOOD_MAX_BITS: u32 = 16;
/// 2^64 / φ, for Fibonacci hashing.
const FIB: u64 = 0x9e37_79b9_7f4a_7c15;

/// Bits of the 128-bit port map that `ports` distinct ports set on average (linear counting:
/// 128 (1 - e^(-ports/128))), capped below all 128.
fn port_scan_bits(ports: u32) -> u32 {
    let bits = 128.0 * (1.0 - (-(ports as f64) / 128.0).exp());
    (bits.ceil() as u32).clamp(1, 127)
}

/// A destination port's hash: bit `>> 57` in the port map, `>> 58` in the second's bitmap.
#[inline]
fn port_hash(port: u16) -> u64 {
    mix64(u64::from(port) ^ 0x5bd1_e995)
}

/// Distinct ports estimated from the port map (linear counting).
fn distinct_ports(map: u128) -> f64 {
    let set = map.count_ones().min(127) as f64;
    -128.0 * (1.0 - set / 128.0).ln()
}
const ICMPV6: u8 = 58;
/// ICMPv6 router advertisement (RFC 4861 §4.2).
const ROUTER_ADVERTISEMENT: u8 = 134;
const MAX_DHCP_RESOLVERS: usize = 8;
const MAX_DOMAINS_PER_DEVICE: usize = 8;
const MAX_ANSWERS_PER_PACKET: usize = 16;
/// Login services brute-forced by IoT malware: SSH and telnet (Mirai uses 23 and 2323).
const AUTH_PORTS: [u16; 3] = [22, 23, 2323];

impl Monitor {
    pub fn new(config: Config, oui: OuiTable) -> Self {
        let devices = LruCache::with_hasher(
            NonZeroUsize::new(config.max_devices.max(1)).expect("non-zero"),
            foldhash::fast::RandomState::default(),
        );
        let flows = LruCache::with_hasher(
            NonZeroUsize::new(config.max_flows.max(1)).expect("non-zero"),
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

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Current number of flows held (never above `max_flows`).
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    pub fn device(&self, mac: &Mac) -> Option<&DeviceFacts> {
        self.devices.peek(mac).map(|d| &d.facts)
    }

    pub fn devices(&self) -> impl Iterator<Item = &DeviceFacts> {
        self.devices.iter().map(|(_, d)| &d.facts)
    }

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
                return;
            }
            Err(Skip::Malformed) => {
                self.stats.malformed += 1;
                return;
            }
        };
        self.process_packet(p, out);
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
            let victim = f
                .client_mac
                .map(|m| self.display_name_of(&m))
                .unwrap_or_else(|| "another device".into());
            return Some(Rogue {
                kind: EventKind::RogueDhcp,
                quarantine: true,
                explanation: format!(
                    "offered {victim} a network address as if it were your router; a device doing this can pass other devices' internet traffic through itself to spy on it or change it.",
                ),
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
            explanation: "answered other devices' requests for IPv6 network settings as if it were your router; a device doing this can pass their internet traffic through itself to spy on it or change it.".into(),
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
            let explanation = if router_lifetime > 0 {
                "announced itself as your network's router for IPv6; a device doing this can pass other devices' internet traffic through itself to spy on it or change it."
            } else {
                "announced IPv6 network routes although it is not your router; they were not taken into account (smart-home hubs do this for their own radio network)."
            };
            return Some(Rogue {
                kind: EventKind::RogueRouterAdvertisement,
                quarantine: router_lifetime > 0,
                explanation: explanation.into(),
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
    fn display_name_of(&self, mac: &Mac) -> String {
        match self.devices.peek(mac) {
            // Mid-sentence: "The device …" / "A … device" start lower case.
            Some(d) => {
                let name = d.display_name();
                match name.strip_prefix("The device ") {
                    Some(rest) => format!("the device {rest}"),
                    None => match name.strip_prefix("A ") {
                        Some(rest) if name.ends_with(&format!("({mac})")) => format!("a {rest}"),
                        _ => name,
                    },
                }
            }
            None => format!("the device {mac}"),
        }
    }

    fn report_rogue(&mut self, p: &Packet<'_>, r: Rogue, out: &mut Vec<Output>) {
        let now = self.now;
        let t = &self.config.thresholds;
        let Some(dev) = self.devices.peek_mut(&p.src_mac) else {
            return;
        };
        dev.evidence[r.kind as usize].tuples.clear();
        dev.evidence[r.kind as usize].note(Tuple {
            time_ns: now,
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            sport: p.sport,
            dport: p.dport,
        });
        let explanation = format!("{} {}", dev.display_name(), r.explanation);
        emit_with(
            dev,
            &mut self.stats,
            r.kind,
            explanation,
            r.quarantine,
            now,
            t,
            out,
        );
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
        if now >= dev.promoted_ns + NS {
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
        let mut fired: Vec<(EventKind, String)> = Vec::new();

        if p.fragment == Fragment::Later {
            // No ports: a flood evidence count, unless the datagram's first fragment belonged
            // to a flow somebody answered.
            dev.flush_facts(changed, urgent, now, out);
            let h = frag_key(&p.dst, p.ip_id);
            if is_group_addr(&p.dst) || dev.flow_frags.as_ref().is_some_and(|f| f.0.contains(&h)) {
                return;
            }
            dev.frag_out += 1;
            dev.evidence[EventKind::FragmentFlood as usize].note(tuple);
            if dev.frag_out >= t.flood_pps && dev.can_fire(EventKind::FragmentFlood, now, t) {
                let explanation = format!(
                    "{} sent {} packet fragments in one second (to {} and others): it is taking part in an attack that floods a service.",
                    dev.display_name(), dev.frag_out, p.dst
                );
                emit(
                    dev,
                    &mut self.stats,
                    EventKind::FragmentFlood,
                    explanation,
                    now,
                    t,
                    out,
                );
            }
            return;
        }

        if p.proto == UDP && p.fragment == Fragment::Whole {
            if p.sport == 68 && p.dport == 67 {
                if let Some(f) = parse_dhcpv4(p.payload) {
                    let (c, u) = merge_dhcp(dev, f, &mut fired);
                    changed |= c;
                    urgent |= u;
                }
            } else if p.dport == 547 {
                if let Some(f) = parse_dhcpv6(p.payload) {
                    if !f.is_server_reply {
                        let (c, u) = merge_dhcp(dev, f, &mut fired);
                        changed |= c;
                        urgent |= u;
                    }
                }
            } else if p.sport == 5353 && p.dport == 5353 {
                for n in parse_mdns_names(p.payload) {
                    if dev.facts.mdns_names.len() < crate::identity::MAX_MDNS_NAMES {
                        changed |= dev.facts.mdns_names.insert(n);
                    }
                }
            }
        }
        dev.flush_facts(changed, urgent, now, out);

        // DNS sent past the gateway's resolver.
        // A SYN to port 53 while the device tries many ports this second is part of a port
        // scan, reported as such.
        let dns_query = p.dport == 53
            && (p.proto == UDP
                || (p.tcp.is_some_and(|tc| tc.syn && !tc.ack)
                    && dev.syn_port_bits.count_ones() <= FLOOD_MAX_BITS));
        // UDP to port 53 counts when it is a DNS query (a UDP flood's random ports hit 53 too).
        if dns_query
            && resolvers_known
            && !resolver_ok
            && !owner_allowed
            && !is_group_addr(&p.dst)
            && (p.proto != UDP || is_dns_query(p.payload))
        {
            dev.evidence[EventKind::DnsBypass as usize].note(tuple);
            if dev.can_fire(EventKind::DnsBypass, now, t) {
                // Weigh it: the same name answered by the router moments ago is a fallback
                // resolver (or a device checking its answers), not a way around the router.
                let fallback = (p.proto == UDP)
                    .then(|| parse_query(p.payload))
                    .flatten()
                    .and_then(|q| {
                        let h = hash_name(&self.name_hasher, &q.name);
                        dev.answered_names
                            .iter()
                            .any(|(n, at)| *n == h && now < at + FALLBACK_WINDOW_NS)
                            .then_some(q.name)
                    });
                let explanation = match fallback {
                    Some(name) => format!(
                        "{} also asked {} for {name}, which your router had just answered: devices do this with a second, fallback resolver. On its own this is not a sign of malware and the device is not isolated for it; if you trust this resolver for the device, allow it.",
                        dev.display_name(),
                        p.dst
                    ),
                    None => format!(
                        "{} asked {} instead of your router to look up names. Some devices do this by design, and malware does it to avoid your router's protections; on its own it is not proof of either, and the device is not isolated for it; if you trust this resolver for the device, allow it.",
                        dev.display_name(),
                        p.dst
                    ),
                };
                fired.push((EventKind::DnsBypass, explanation));
            }
        }
        if dns_query && p.proto == UDP && p.fragment == Fragment::Whole {
            let query = parse_query(p.payload);
            if let (Some(q), true) = (&query, resolver_ok) {
                // Remember it: only an answer to this exact question counts.
                dev.pending_dns
                    .retain(|pq| now < pq.sent_ns + DNS_QUERY_TIMEOUT_NS);
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
            if let Some((parent, parent_name, name_hash)) = query.and_then(|q| q.parent) {
                let idx = match dev.domains.iter().position(|d| d.parent == parent) {
                    Some(i) => Some(i),
                    None if dev.domains.len() < MAX_DOMAINS_PER_DEVICE => {
                        dev.domains.push(DomainCount {
                            parent,
                            parent_name,
                            names: HyperLogLog::default(),
                        });
                        Some(dev.domains.len() - 1)
                    }
                    None => None,
                };
                if let Some(i) = idx {
                    dev.domains[i].names.insert(name_hash);
                    dev.evidence[EventKind::DnsWaterTorture as usize].note(tuple);
                    let n = dev.domains[i].names.estimate();
                    if n >= t.torture_names as f64
                        && dev.can_fire(EventKind::DnsWaterTorture, now, t)
                    {
                        fired.push((
                                EventKind::DnsWaterTorture,
                            format!(
                                "{} asked for about {} made-up names under {} in {} seconds: it is attacking that domain's name servers.",
                                dev.display_name(), n.round(), dev.domains[i].parent_name, t.torture_window_s
                            ),
                        ));
                    }
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
            && dev.learn_dst(&p.dst)
            && now >= dev.facts.first_seen_ns + t.learn_s * NS
        {
            dev.new_dsts += 1;
            dev.evidence[EventKind::NewDestinations as usize].note(tuple);
            if dev.new_dsts >= t.new_destinations
                && dev.can_fire(EventKind::NewDestinations, now, t)
            {
                fired.push((
                        EventKind::NewDestinations,
                    format!(
                        "{} suddenly contacted {} internet addresses it never used before within a minute.",
                        dev.display_name(),
                        dev.new_dsts
                    ),
                ));
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
        if let Some(tc) = tcp {
            if tc.syn && !tc.ack {
                dev.syns += 1;
                dev.syn += 1;
                let dst_key = ip_bits(&p.dst) as u64 ^ (ip_bits(&p.dst) >> 64) as u64;
                dev.syn_dsts.insert(dst_key);
                // Ports mixed (consecutive ports must collide like random ones for linear
                // counting); addresses by Fibonacci hashing (one multiply; only counted).
                let port_hash = port_hash(p.dport);
                dev.syn_port_map |= 1 << (port_hash >> 57);
                dev.syn_dst_bits |= 1 << (dst_key.wrapping_mul(FIB) >> 58);
                dev.syn_port_bits |= 1 << (port_hash >> 58);
                // Evidence once several ports were tried (a cache line fewer per SYN of the
                // common one-port case).
                if dev.syn_port_map.count_ones() > 8 {
                    dev.evidence[EventKind::PortScan as usize].note(tuple);
                }
                dev.evidence[EventKind::Scan as usize].note(tuple);
                dev.evidence[EventKind::SynFlood as usize].note(tuple);
                // Mirai's scanner sets the ISN to the target address and sends no options.
                if let IpAddr::V4(d) = p.dst {
                    if tc.seq == u32::from(d) && tc.options_len == 0 {
                        dev.mirai += 1;
                        dev.evidence[EventKind::MiraiScan as usize].note(tuple);
                        if dev.mirai >= t.mirai_syns && dev.can_fire(EventKind::MiraiScan, now, t) {
                            fired.push((
                                    EventKind::MiraiScan,
                                format!(
                                    "{} is probing other computers for weak passwords the way the Mirai botnet does; it is almost certainly infected.",
                                    dev.display_name()
                                ),
                            ));
                        }
                    }
                }
                if p.dport == 23 || p.dport == 2323 {
                    {
                        dev.telnet_dsts.insert(dst_key);
                        dev.evidence[EventKind::TelnetScan as usize].note(tuple);
                        let n = dev.telnet_dsts.estimate();
                        if n >= t.telnet_fanout as f64
                            && dev.can_fire(EventKind::TelnetScan, now, t)
                        {
                            fired.push((
                                    EventKind::TelnetScan,
                                format!(
                                    "{} tried the remote-login (telnet) service of about {} different addresses in {} seconds: it is looking for devices to break into.",
                                    dev.display_name(), n.round(), t.fanout_window_s
                                ),
                            ));
                        }
                    }
                }
                let n = dev.syn_dsts.estimate();
                if n >= t.scan_fanout as f64
                    && (dev.answered as f64) <= t.scan_max_answered * dev.syns as f64
                    && dev.can_fire(EventKind::Scan, now, t)
                {
                    fired.push((
                            EventKind::Scan,
                        format!(
                            "{} tried to connect to about {} different addresses in {} seconds and almost none answered: it is scanning for victims.",
                            dev.display_name(), n.round(), t.fanout_window_s
                        ),
                    ));
                }
                // A port scan: many ports of few hosts.
                if dev.syn_port_map.count_ones() >= self.port_scan_bits
                    && n < t.scan_fanout as f64
                    && (dev.answered as f64) <= t.scan_max_answered * dev.syns as f64
                    && dev.can_fire(EventKind::PortScan, now, t)
                {
                    // The map saturates past a few hundred ports.
                    let ports = if dev.syn_port_map.count_ones() >= 120 {
                        "more than 300".to_string()
                    } else {
                        format!("about {}", distinct_ports(dev.syn_port_map).round())
                    };
                    {
                        fired.push((
                            EventKind::PortScan,
                            format!(
                                "{} tried {ports} different services (ports) of {} and others in {} seconds and almost none answered: it is probing computers for a way in (a port scan).",
                                dev.display_name(), p.dst, t.fanout_window_s
                            ),
                        ));
                    }
                }
                // A flood hits few hosts and ports; many of either is a sweep or port scan.
                if dev.syn >= t.flood_pps
                    && !is_group_addr(&p.dst)
                    && dev.syn_dst_bits.count_ones() <= FLOOD_MAX_BITS
                    && dev.syn_port_bits.count_ones() <= FLOOD_MAX_BITS
                    && dev.can_fire(EventKind::SynFlood, now, t)
                {
                    fired.push((
                            EventKind::SynFlood,
                        format!(
                            "{} sent {} connection requests in one second (to {} and others): it is taking part in an attack that floods a service.",
                            dev.display_name(), dev.syn, p.dst
                        ),
                    ));
                }
            } else if touch_flow(&mut self.flows, &key, now) {
                if p.fragment == Fragment::First {
                    dev.note_flow_fragment(frag_key(&p.dst, p.ip_id));
                }
            } else if !(tc.rst || (tc.syn && dev.in_syn > 0)) {
                // A non-SYN packet of no known flow: an ACK flood sends nothing else. SYN-ACKs
                // while SYNs arrive from the internet are the device answering them. A flow
                // that keeps going (it began before the capture) becomes a real flow after three
                // packets — unless the device is flooding right now, when a full sketch would
                // promote flood packets too.
                dev.ack_unsolicited += 1;
                dev.evidence[EventKind::AckFlood as usize].note(tuple);
                let c = dev.unsolicited.add(key.hash64());
                if c >= 3 && dev.ack_unsolicited < t.flood_pps / 4 {
                    promote = true;
                }
                if dev.ack_unsolicited >= t.flood_pps && dev.can_fire(EventKind::AckFlood, now, t) {
                    fired.push((
                            EventKind::AckFlood,
                        format!(
                            "{} sent {} packets in one second belonging to no connection (to {} and others): it is taking part in an attack that floods a service.",
                            dev.display_name(), dev.ack_unsolicited, p.dst
                        ),
                    ));
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
                dev.udp_out += 1;
                dev.evidence[EventKind::UdpFlood as usize].note(tuple);
                if dev.udp_out >= t.flood_pps && dev.can_fire(EventKind::UdpFlood, now, t) {
                    fired.push((
                            EventKind::UdpFlood,
                        format!(
                            "{} sent {} unanswered packets in one second (to {} and others): it is taking part in an attack that floods a service.",
                            dev.display_name(), dev.udp_out, p.dst
                        ),
                    ));
                }
            }
        }

        if !self.config.policies.is_empty() {
            let mut resolvers = self.dhcp_resolvers.clone();
            resolvers.extend_from_slice(&self.config.resolvers);
            if let Some(reason) = crate::conformance::violation(
                &self.config.policies,
                dev.facts.mud_url.as_deref(),
                &dev.learned,
                p,
                &resolvers,
                dst_lan,
            ) {
                dev.evidence[EventKind::MudViolation as usize].note(tuple);
                if dev.can_fire(EventKind::MudViolation, now, t) {
                    fired.push((
                        EventKind::MudViolation,
                        format!("{} {}", dev.display_name(), reason),
                    ));
                }
            }
        }

        for (kind, explanation) in fired {
            emit(dev, &mut self.stats, kind, explanation, now, t, out);
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
                    d.answered += 1;
                    // Brute force counts connections the login service accepted: guessing
                    // passwords needs an open port, and counting only answered SYNs keeps the
                    // sketch accurate while the same device scans thousands of closed ones.
                    if AUTH_PORTS.contains(&p.sport) {
                        let t = &self.config.thresholds;
                        d.roll(now, t);
                        let victim_key = ip_bits(&p.src) as u64 ^ (ip_bits(&p.src) >> 64) as u64;
                        let k = victim_key ^ p.sport as u64;
                        let attempts = d
                            .auth_attempts
                            .add(k)
                            .saturating_add(d.auth_attempts_prev.estimate(k));
                        d.evidence[EventKind::BruteForce as usize].note(Tuple {
                            time_ns: now,
                            src: p.dst,
                            dst: p.src,
                            proto: p.proto,
                            sport: p.dport,
                            dport: p.sport,
                        });
                        if attempts >= t.brute_attempts {
                            let explanation = format!(
                                "{} opened {} login sessions to {} port {} within {} seconds: it is guessing passwords.",
                                d.display_name(), attempts, p.src, p.sport, 2 * t.brute_window_s
                            );
                            emit(
                                d,
                                &mut self.stats,
                                EventKind::BruteForce,
                                explanation,
                                now,
                                t,
                                out,
                            );
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
            if now >= s.start + fan_ns {
                s.start = now;
                s.dsts.clear();
                s.ports.clear();
                s.reported = false;
            }
            let dst_key = ip_bits(&p.dst) as u64 ^ (ip_bits(&p.dst) >> 64) as u64;
            s.dsts.insert(dst_key);
            s.ports.insert(mix64(u64::from(p.dport) ^ 0x5bd1_e995));
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
        let mut fired: Vec<(EventKind, String)> = Vec::new();
        let name = dev.display_name();
        if let Some((hosts, ports)) = scan {
            dev.evidence[EventKind::InboundScan as usize].note(tuple);
            let what = if ports >= t.port_scan_ports as f64 {
                format!(
                    "tried about {} different services (ports) of {name}",
                    ports.round()
                )
            } else {
                format!(
                    "tried port {} of about {} of your devices, {name} among them",
                    p.dport,
                    hosts.round()
                )
            };
            fired.push((
                EventKind::InboundScan,
                format!(
                    "{} on the internet {what} in {} seconds: it is scanning your network from outside. Your router let it through; the device is the target, not the cause, and is not isolated.",
                    p.src, t.fanout_window_s
                ),
            ));
        } else if syn {
            dev.evidence[EventKind::InboundScan as usize].note(tuple);
        }
        if syn {
            dev.in_syn += 1;
            dev.evidence[EventKind::InboundFlood as usize].note(tuple);
            if dev.in_syn >= t.flood_pps
                && !scanner
                && dev.can_fire(EventKind::InboundFlood, now, t)
            {
                fired.push((
                    EventKind::InboundFlood,
                    format!(
                        "{name} received {} connection requests in one second from internet addresses ({} and others, most likely forged) to its port {}: it is the target of a flood attack from the internet. The device is the victim, not the cause, and is not isolated.",
                        dev.in_syn, p.src, p.dport
                    ),
                ));
            }
        } else {
            dev.in_udp += 1;
            if AMPLIFIER_PORTS.contains(&p.sport) {
                dev.in_reflect += 1;
                dev.evidence[EventKind::ReflectionFlood as usize].note(tuple);
                if dev.in_reflect >= t.flood_pps && dev.can_fire(EventKind::ReflectionFlood, now, t)
                {
                    fired.push((
                        EventKind::ReflectionFlood,
                        format!(
                            "{name} received {} answers in one second it never asked for, from internet servers' port {} ({} and others): someone is using those servers to flood it (a reflection attack). The device is the victim, not the cause, and is not isolated.",
                            dev.in_reflect, p.sport, p.src
                        ),
                    ));
                }
            } else {
                dev.evidence[EventKind::InboundFlood as usize].note(tuple);
                if dev.in_udp - dev.in_reflect >= t.flood_pps
                    && dev.can_fire(EventKind::InboundFlood, now, t)
                {
                    fired.push((
                        EventKind::InboundFlood,
                        format!(
                            "{name} received {} datagrams in one second from internet addresses ({} and others) that belong to no conversation: it is the target of a flood attack from the internet. The device is the victim, not the cause, and is not isolated.",
                            dev.in_udp - dev.in_reflect, p.src
                        ),
                    ));
                }
            }
        }
        for (kind, explanation) in fired {
            emit(dev, &mut self.stats, kind, explanation, now, t, out);
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
            let Some((_, oldest)) = self.flows.peek_lru() else {
                break;
            };
            let idle = if oldest.proto == crate::packet::TCP {
                300
            } else {
                60
            };
            if oldest.last_ns + idle * NS >= self.now {
                break;
            }
            if let Some((_, gone)) = self.flows.pop_lru() {
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
        if let Some((old_key, old)) = self.flows.push(key, flow) {
            if old_key != key {
                self.stats.flows_evicted += 1;
                if let Some(owner) = self.devices.peek_mut(&old.device) {
                    owner.flows = owner.flows.saturating_sub(1);
                }
            }
        }
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
                        && now < pq.sent_ns + DNS_QUERY_TIMEOUT_NS
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
#[inline]
fn touch_flow(
    flows: &mut LruCache<FlowKey, Flow, foldhash::fast::RandomState>,
    key: &FlowKey,
    now: u64,
) -> bool {
    match flows.peek_mut(key) {
        Some(f) => {
            f.packets += 1;
            if now >= f.last_ns + NS {
                f.last_ns = now;
                flows.promote(key);
            }
            true
        }
        None => false,
    }
}

/// Decode a `last_fired` slot.
#[inline]
fn last_fired(slot: u64) -> Option<u64> {
    slot.checked_sub(1)
}

/// Emit an event unless the same kind fired for this device within the cooldown.
fn emit(
    dev: &mut DeviceState,
    stats: &mut Stats,
    kind: EventKind,
    explanation: String,
    now: u64,
    t: &Thresholds,
    out: &mut Vec<Output>,
) {
    emit_with(
        dev,
        stats,
        kind,
        explanation,
        kind.is_bot_behaviour(),
        now,
        t,
        out,
    )
}

/// [`emit`] with the quarantine decision given (a rogue router advertisement's depends on it).
#[allow(clippy::too_many_arguments)]
fn emit_with(
    dev: &mut DeviceState,
    stats: &mut Stats,
    kind: EventKind,
    explanation: String,
    quarantine: bool,
    now: u64,
    t: &Thresholds,
    out: &mut Vec<Output>,
) {
    let k = kind as usize;
    if last_fired(dev.last_fired[k]).is_some_and(|last| now < last + t.cooldown_s * NS) {
        return;
    }
    dev.last_fired[k] = now.saturating_add(1);
    stats.events += 1;
    out.push(Output::Event(Event {
        device: dev.facts.mac,
        kind,
        time_ns: now,
        time: rfc3339(now),
        evidence: dev.evidence[k].tuples.iter().map(Tuple::evidence).collect(),
        explanation,
        quarantine,
    }));
}

/// Merge what a device's own DHCP message says about it. Returns (facts changed, emit them
/// now). The first valid MUD URL is kept: a different later one is an event and
/// `mud_url_changed_to`; an invalid one is an event and is not recorded.
fn merge_dhcp(
    dev: &mut DeviceState,
    f: crate::identity::DhcpFacts,
    fired: &mut Vec<(EventKind, String)>,
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
                    fired.push((
                        EventKind::MudUrlChanged,
                        format!(
                            "now names a different manufacturer network profile ({url}) than it first did ({first}); the first one stays in use and the device is treated more strictly until you check it.",
                        ),
                    ));
                }
            }
        },
        Some(MudUrlOption::Refused { why, shown }) => fired.push((
            EventKind::MudUrlInvalid,
            format!(
                "announced a manufacturer network profile address that {why}, so it was not used: \"{shown}\"."
            ),
        )),
    }
    (*facts != before, urgent)
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
    use super::*;

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
