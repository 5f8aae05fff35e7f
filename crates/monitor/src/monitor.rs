//! The monitor: one `process(time, frame)` entry point shared by replay and live capture, a
//! clock driven by packet timestamps, bounded per-device state and the detectors.
//!
//! Memory is bounded whatever arrives: devices live in an LRU of `max_devices`, flows in an LRU
//! of `max_flows` with a per-device quota, and traffic nobody answered (SYNs, unsolicited ACKs,
//! UDP without replies) is only counted in fixed-size per-device sketches — a flow is created
//! when the other side answers. A spoofed flood therefore costs a few counters, not a flow each.

use crate::event::{rfc3339, DnsAnswer, Event, EventKind, Output, Tuple};
use crate::identity::{parse_dhcpv4, parse_dhcpv6, parse_mdns_names, DeviceFacts, OuiTable};
use crate::packet::{decode, is_group_addr, is_local, Mac, Packet, Skip, UDP};
use crate::sketch::{mix64, CountMin, HyperLogLog};
use lru::LruCache;
use serde::Serialize;
use std::net::IpAddr;
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

/// Monitor configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Resolvers devices may use besides the DNS servers DHCP hands out (normally the gateway).
    pub resolvers: Vec<IpAddr>,
    /// The gateway's own MACs (live capture knows its interface's); others are learned from
    /// DHCP server replies and from where devices send internet-bound frames.
    pub gateway_macs: Vec<Mac>,
    pub max_devices: usize,
    pub max_flows: usize,
    pub max_flows_per_device: u32,
    pub thresholds: Thresholds,
    /// MUD policies by MUD URL, for the conformance detector.
    pub policies: Vec<mud::DevicePolicy>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resolvers: vec![],
            gateway_macs: vec![],
            max_devices: 4096,
            max_flows: 131_072,
            max_flows_per_device: 8192,
            thresholds: Thresholds::default(),
            policies: vec![],
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
    // Fan-out window (scans).
    fan_start: u64,
    syn_dsts: HyperLogLog,
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
    new_start: u64,
    new_dsts: u32,
    evidence: [Evidence; KINDS],
    last_fired: [Option<u64>; KINDS],
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
            fan_start: now,
            syn_dsts: HyperLogLog::default(),
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
            new_start: now,
            new_dsts: 0,
            evidence: Default::default(),
            last_fired: [None; KINDS],
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
            for k in [
                EventKind::SynFlood,
                EventKind::UdpFlood,
                EventKind::AckFlood,
            ] {
                self.evidence[k as usize].tuples.clear();
            }
        }
        if now >= self.fan_start + t.fanout_window_s * NS {
            self.fan_start = now;
            self.syn_dsts.clear();
            self.telnet_dsts.clear();
            self.syns = 0;
            self.answered = 0;
            self.mirai = 0;
            for k in [EventKind::Scan, EventKind::TelnetScan, EventKind::MiraiScan] {
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
        self.last_fired[kind as usize].is_none_or(|last| now >= last + t.cooldown_s * NS)
    }

    fn display_name(&self) -> String {
        let who = self
            .facts
            .hostname
            .clone()
            .or_else(|| self.facts.mdns_names.iter().next().cloned())
            .or_else(|| self.facts.vendor.as_ref().map(|v| format!("A {v} device")));
        match who {
            Some(w) => format!("{w} ({})", self.facts.mac),
            None => format!("The device {}", self.facts.mac),
        }
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

/// The monitor. Feed it frames in time order with [`Monitor::process`].
pub struct Monitor {
    config: Config,
    oui: OuiTable,
    now: u64,
    gateways: Vec<Mac>,
    dhcp_resolvers: Vec<IpAddr>,
    devices: LruCache<Mac, DeviceState, foldhash::fast::RandomState>,
    flows: LruCache<FlowKey, Flow, foldhash::fast::RandomState>,
    stats: Stats,
}

const MAX_GATEWAYS: usize = 8;
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
        let mut gateways = config.gateway_macs.clone();
        gateways.truncate(MAX_GATEWAYS);
        Monitor {
            config,
            oui,
            now: 0,
            gateways,
            dhcp_resolvers: vec![],
            devices,
            flows,
            stats: Stats::default(),
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

    fn is_gateway(&self, mac: &Mac) -> bool {
        self.gateways.contains(mac)
    }

    fn learn_gateway(&mut self, mac: Mac) {
        if mac.is_group() || self.is_gateway(&mac) || self.gateways.len() >= MAX_GATEWAYS {
            return;
        }
        self.gateways.push(mac);
        // It may have been taken for a device before we knew (e.g. its DNS replies came first).
        self.devices.pop(&mac);
    }

    fn is_resolver(&self, a: &IpAddr) -> bool {
        self.config.resolvers.contains(a) || self.dhcp_resolvers.contains(a)
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
        self.stats.ip_packets += 1;
        if p.proto == UDP && p.sport == 67 && p.dport == 68 {
            self.dhcp_server_reply(&p, out);
        }
        // Internet-bound frames go to the router's MAC: that is the gateway.
        if !is_local(&p.dst) && !is_group_addr(&p.dst) && !p.dst_mac.is_group() {
            self.learn_gateway(p.dst_mac);
        }
        if !p.src_mac.is_group() && !self.is_gateway(&p.src_mac) {
            self.sent_by_device(&p, out);
        }
        if !p.dst_mac.is_group()
            && !self.is_gateway(&p.dst_mac)
            && self.devices.contains(&p.dst_mac)
        {
            self.received_by_device(&p, out);
        }
    }

    fn dhcp_server_reply(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) {
        let Some(f) = parse_dhcpv4(p.payload) else {
            return;
        };
        if !f.is_server_reply {
            return;
        }
        self.learn_gateway(p.src_mac);
        for a in f.dns_servers.iter().chain(f.server.iter()) {
            if !self.dhcp_resolvers.contains(a) && self.dhcp_resolvers.len() < MAX_DHCP_RESOLVERS {
                self.dhcp_resolvers.push(*a);
            }
        }
        if let (Some(mac), Some(addr)) = (f.client_mac, f.assigned) {
            if let Some(d) = self.devices.peek_mut(&mac) {
                if d.facts.add_addr(addr) {
                    out.push(Output::Device(d.facts.clone()));
                }
            }
        }
    }

    /// Create the device's state if it is new; true when it was.
    fn ensure_device(&mut self, mac: Mac) -> bool {
        if self.devices.contains(&mac) {
            return false;
        }
        let mut facts = DeviceFacts::new(mac, self.now);
        facts.vendor = self.oui.vendor(&mac).map(str::to_string);
        if let Some((_, evicted)) = self.devices.push(mac, DeviceState::new(facts, self.now)) {
            if evicted.facts.mac != mac {
                self.stats.devices_evicted += 1;
            }
        }
        self.stats.devices += 1;
        true
    }

    fn sent_by_device(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) {
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
        if is_local(&p.src) {
            changed |= dev.facts.add_addr(p.src);
        }
        dev.roll(now, t);
        let mut fired: Vec<(EventKind, String)> = Vec::new();

        if p.proto == UDP {
            if p.sport == 68 && p.dport == 67 {
                if let Some(f) = parse_dhcpv4(p.payload) {
                    changed |= merge_dhcp(&mut dev.facts, f);
                }
            } else if p.dport == 547 {
                if let Some(f) = parse_dhcpv6(p.payload) {
                    changed |= merge_dhcp(&mut dev.facts, f);
                }
            } else if p.sport == 5353 && p.dport == 5353 {
                for n in parse_mdns_names(p.payload) {
                    if dev.facts.mdns_names.len() < crate::identity::MAX_MDNS_NAMES {
                        changed |= dev.facts.mdns_names.insert(n);
                    }
                }
            }
        }
        if changed {
            out.push(Output::Device(dev.facts.clone()));
        }

        // DNS sent past the gateway's resolver.
        let dns_query =
            p.dport == 53 && (p.proto == UDP || p.tcp.is_some_and(|tc| tc.syn && !tc.ack));
        // UDP to port 53 counts when it is a DNS query (a UDP flood's random ports hit 53 too).
        if dns_query
            && resolvers_known
            && !resolver_ok
            && !is_group_addr(&p.dst)
            && (p.proto != UDP || is_dns_query(p.payload))
        {
            dev.evidence[EventKind::DnsBypass as usize].note(tuple);
            if dev.can_fire(EventKind::DnsBypass, now, t) {
                fired.push((
                    EventKind::DnsBypass,
                format!(
                    "{} asked {} instead of your router to look up names; malware does this to avoid your router's protections.",
                    dev.display_name(),
                    p.dst
                ),
            ));
            }
        }
        if dns_query && p.proto == UDP {
            if let Some((parent, parent_name, name_hash)) = query_parent(p.payload) {
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

        // New destinations (internet only; the LAN is local business).
        let remote_dst = !is_local(&p.dst) && !is_group_addr(&p.dst);
        if remote_dst && dev.learn_dst(&p.dst) && now >= dev.facts.first_seen_ns + t.learn_s * NS {
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
        if let Some(tc) = p.tcp {
            if tc.syn && !tc.ack {
                dev.syns += 1;
                dev.syn += 1;
                let dst_key = ip_bits(&p.dst) as u64 ^ (ip_bits(&p.dst) >> 64) as u64;
                dev.syn_dsts.insert(dst_key);
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
                if dev.syn >= t.flood_pps
                    && !is_group_addr(&p.dst)
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
            } else if !tc.rst {
                // A non-SYN packet of no known flow: an ACK flood sends nothing else. A flow
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
        } else if p.proto == UDP && p.dport != 53 && !is_group_addr(&p.dst) {
            if touch_flow(&mut self.flows, &key, now) {
            } else {
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

    fn received_by_device(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) {
        let now = self.now;
        let key = FlowKey {
            local: ip_bits(&p.dst),
            remote: ip_bits(&p.src),
            lport: p.dport,
            rport: p.sport,
            proto: p.proto,
        };
        if p.proto == UDP && p.sport == 53 {
            self.dns_answers(p, out);
        }
        if touch_flow(&mut self.flows, &key, now) {
            return;
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

    fn dns_answers(&mut self, p: &Packet<'_>, out: &mut Vec<Output>) {
        let Ok(msg) = simple_dns::Packet::parse(p.payload) else {
            return;
        };
        let Some(q) = msg.questions.first() else {
            return;
        };
        let name = q
            .qname
            .to_string()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        for rr in msg.answers.iter().take(MAX_ANSWERS_PER_PACKET) {
            let addr = match &rr.rdata {
                simple_dns::rdata::RData::A(a) => IpAddr::from(a.address.to_be_bytes()),
                simple_dns::rdata::RData::AAAA(a) => IpAddr::from(a.address.to_be_bytes()),
                _ => continue,
            };
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
                ttl_s: rr.ttl,
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
    let k = kind as usize;
    if dev.last_fired[k].is_some_and(|last| now < last + t.cooldown_s * NS) {
        return;
    }
    dev.last_fired[k] = Some(now);
    stats.events += 1;
    out.push(Output::Event(Event {
        device: dev.facts.mac,
        kind,
        time_ns: now,
        time: rfc3339(now),
        evidence: dev.evidence[k].tuples.iter().map(Tuple::evidence).collect(),
        explanation,
        quarantine: kind.is_bot_behaviour(),
    }));
}

fn merge_dhcp(facts: &mut DeviceFacts, f: crate::identity::DhcpFacts) -> bool {
    let before = facts.clone();
    if f.hostname.is_some() {
        facts.hostname = f.hostname;
    }
    if f.vendor_class.is_some() {
        facts.vendor_class = f.vendor_class;
    }
    if !f.parameter_list.is_empty() {
        facts.parameter_list = f.parameter_list;
    }
    if f.mud_url.is_some() {
        facts.mud_url = f.mud_url;
    }
    *facts != before
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

/// The parent domain of a DNS query's name: its last two labels (no public-suffix list, so
/// `example.co.uk` counts as `co.uk`; good enough to see thousands of random names under one
/// parent). Returns the parent's hash and name, and the full name's hash.
fn query_parent(payload: &[u8]) -> Option<(u64, String, u64)> {
    let msg = simple_dns::Packet::parse(payload).ok()?;
    if msg.has_flags(simple_dns::PacketFlag::RESPONSE) {
        return None;
    }
    let q = msg.questions.first()?;
    let labels = q.qname.get_labels();
    if labels.len() < 3 {
        return None;
    }
    let parent = labels[labels.len() - 2..]
        .iter()
        .map(|l| l.to_string().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".");
    let full = q.qname.to_string().to_ascii_lowercase();
    Some((
        hash_bytes(parent.as_bytes()),
        parent,
        hash_bytes(full.as_bytes()),
    ))
}
