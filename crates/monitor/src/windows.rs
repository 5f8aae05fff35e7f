//! The detectors' time windows, one struct each: it owns its counters, its roll-over and the
//! detectors that read them (after smoltcp's `RttEstimator`: one concern per type, the source
//! of each constant beside it).
//!
//! Windows are tumbling: the first packet at or after `start + length` (packet time) starts a
//! new one, clears the counters and the evidence of the window's event kinds.
//!
//! | window | length | detectors |
//! |---|---|---|
//! | [`Second`] | 1 s | SYN, UDP, ACK and fragment floods by the device; inbound and reflection floods on it |
//! | [`Fanout`] | `fanout_window_s` | Mirai, telnet scan, scan, port scan |
//! | [`Logins`] | `brute_window_s` | brute force (this window and the previous one, summed) |
//! | [`Torture`] | `torture_window_s` | DNS water torture |
//! | [`NewDestinations`] | 60 s | sudden new internet destinations |
//!
//! A detector returns what it saw as a [`Said`] when its threshold is crossed and the event's
//! cooldown has passed ([`Ready`]); the caller emits it.

use crate::event::{EventKind, Tuple};
use crate::monitor::Thresholds;
use crate::sketch::{mix64, CountMin, HyperLogLog};
use crate::words::Said;
use std::net::IpAddr;

const NS: u64 = 1_000_000_000;
const KINDS: usize = EventKind::ALL.len();
/// Packets kept as evidence per detector and window.
pub const EVIDENCE_PACKETS: usize = 5;

/// Most bits (of 64) a SYN flood sets in a second's destination and port bitmaps: a flood
/// hits few hosts and ports, a sweep or port scan many.
pub(crate) const FLOOD_MAX_BITS: u32 = 16;
/// 2^64 / φ, for Fibonacci hashing (Knuth, TAOCP vol. 3 §6.4).
const FIB: u64 = 0x9e37_79b9_7f4a_7c15;
/// Distinct parent domains followed per device in the water-torture window.
const MAX_DOMAINS_PER_DEVICE: usize = 8;
/// UDP source ports of services abused for reflection/amplification (CISA TA14-017A):
/// chargen, DNS, NTP, SNMP, NetBIOS, LDAP/CLDAP, SSDP, WS-Discovery, memcached, and others.
const AMPLIFIER_PORTS: [u16; 14] = [
    17, 19, 53, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353, 11211, 27015,
];

/// The first few packets of each event kind's current window.
#[derive(Default)]
pub(crate) struct Evidence {
    tuples: [Vec<Tuple>; KINDS],
}

impl Evidence {
    #[inline]
    pub(crate) fn note(&mut self, kind: EventKind, t: Tuple) {
        let v = &mut self.tuples[kind as usize];
        if v.len() < EVIDENCE_PACKETS {
            v.push(t);
        }
    }

    pub(crate) fn clear(&mut self, kinds: &[EventKind]) {
        for k in kinds {
            self.tuples[*k as usize].clear();
        }
    }

    pub(crate) fn of(&self, kind: EventKind) -> &[Tuple] {
        &self.tuples[kind as usize]
    }
}

/// When each kind of event last fired for a device, and whether it may fire again.
pub(crate) struct Cooldowns {
    /// Packet time + 1 of the last event of each kind; 0: never (half the size of
    /// `Option<u64>`, and the device table is the memory worst case).
    last_fired: [u64; KINDS],
}

impl Cooldowns {
    pub(crate) fn new() -> Self {
        Cooldowns {
            last_fired: [0; KINDS],
        }
    }

    /// Whether `kind` may fire at `now` (not within `cooldown_s` of the last one).
    #[inline]
    pub(crate) fn may_fire(&self, kind: EventKind, now: u64, t: &Thresholds) -> bool {
        self.last_fired[kind as usize]
            .checked_sub(1)
            .is_none_or(|last| now >= last.saturating_add(t.cooldown_s.saturating_mul(NS)))
    }

    pub(crate) fn fired(&mut self, kind: EventKind, now: u64) {
        self.last_fired[kind as usize] = now.saturating_add(1);
    }
}

/// What a detector needs to decide whether to speak: the cooldowns, the time, the thresholds.
/// Checked before a sentence's numbers are gathered: a flood crosses its threshold on every
/// packet after the first thousand.
#[derive(Clone, Copy)]
pub(crate) struct Ready<'a> {
    pub(crate) cooldowns: &'a Cooldowns,
    pub(crate) now: u64,
    pub(crate) t: &'a Thresholds,
}

impl Ready<'_> {
    #[inline]
    pub(crate) fn may_fire(&self, kind: EventKind) -> bool {
        self.cooldowns.may_fire(kind, self.now, self.t)
    }
}

/// The key of an address in the sketches.
#[inline]
pub(crate) fn addr_key(a: &IpAddr) -> u64 {
    let b = match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(*v),
    };
    b as u64 ^ (b >> 64) as u64
}

/// A destination port's hash: bit `>> 57` in the port map, `>> 58` in the second's bitmap.
#[inline]
pub(crate) fn port_hash(port: u16) -> u64 {
    mix64(u64::from(port) ^ 0x5bd1_e995)
}

/// The one-second window: packet rates, for floods sent and floods received.
pub(crate) struct Second {
    start: u64,
    /// SYNs sent.
    syn: u32,
    /// UDP datagrams of no known flow sent.
    udp_out: u32,
    /// TCP packets (not SYN) of no known flow sent.
    ack_unsolicited: u32,
    /// Non-first IPv4 fragments sent.
    frag_out: u32,
    /// One bit per hashed destination / destination port of this second's SYNs: a flood
    /// hits few of each; a sweep or port scan sets many.
    syn_dst_bits: u64,
    syn_port_bits: u64,
    /// Unsolicited from the internet: SYNs, UDP datagrams, and of those, UDP from amplifier
    /// ports (reflection).
    in_syn: u32,
    in_udp: u32,
    in_reflect: u32,
}

impl Second {
    const KINDS: [EventKind; 6] = [
        EventKind::SynFlood,
        EventKind::UdpFlood,
        EventKind::AckFlood,
        EventKind::FragmentFlood,
        EventKind::InboundFlood,
        EventKind::ReflectionFlood,
    ];

    pub(crate) fn new(now: u64) -> Self {
        Second {
            start: now,
            syn: 0,
            udp_out: 0,
            ack_unsolicited: 0,
            frag_out: 0,
            syn_dst_bits: 0,
            syn_port_bits: 0,
            in_syn: 0,
            in_udp: 0,
            in_reflect: 0,
        }
    }

    #[inline]
    fn roll(&mut self, now: u64, ev: &mut Evidence) {
        if now >= self.start.saturating_add(NS) {
            *self = Second::new(now);
            ev.clear(&Self::KINDS);
        }
    }

    /// Whether the device tries many ports this second (a port scan's SYN to 53 is no DNS).
    #[inline]
    pub(crate) fn many_ports(&self) -> bool {
        self.syn_port_bits.count_ones() > FLOOD_MAX_BITS
    }

    /// Whether SYNs arrived from the internet this second (the device's SYN-ACKs answer them).
    #[inline]
    pub(crate) fn syns_arriving(&self) -> bool {
        self.in_syn > 0
    }

    /// A non-first fragment sent outside any answered flow.
    pub(crate) fn fragment(&mut self, r: Ready<'_>, dst: IpAddr) -> Option<Said> {
        self.frag_out += 1;
        (self.frag_out >= r.t.flood_pps && r.may_fire(EventKind::FragmentFlood)).then_some(
            Said::FragmentFlood {
                count: self.frag_out,
                dst,
            },
        )
    }

    /// A SYN sent: `dst_key` and `port_hash` as in [`Fanout::syn`].
    #[inline]
    pub(crate) fn syn(
        &mut self,
        r: Ready<'_>,
        ev: &mut Evidence,
        tuple: Tuple,
        group: bool,
        (dst_key, port_hash): (u64, u64),
    ) -> Option<Said> {
        let dst = tuple.dst;
        self.syn += 1;
        ev.note(EventKind::SynFlood, tuple);
        // Addresses by Fibonacci hashing (one multiply; only counted).
        self.syn_dst_bits |= 1 << (dst_key.wrapping_mul(FIB) >> 58);
        self.syn_port_bits |= 1 << (port_hash >> 58);
        // A flood hits few hosts and ports; many of either is a sweep or port scan.
        (self.syn >= r.t.flood_pps
            && !group
            && self.syn_dst_bits.count_ones() <= FLOOD_MAX_BITS
            && self.syn_port_bits.count_ones() <= FLOOD_MAX_BITS
            && r.may_fire(EventKind::SynFlood))
        .then_some(Said::SynFlood {
            count: self.syn,
            dst,
        })
    }

    /// A TCP packet of no known flow, not a SYN: returns the count this second and the event.
    pub(crate) fn ack(&mut self, r: Ready<'_>, dst: IpAddr) -> (u32, Option<Said>) {
        self.ack_unsolicited += 1;
        let n = self.ack_unsolicited;
        let said = (n >= r.t.flood_pps && r.may_fire(EventKind::AckFlood))
            .then_some(Said::AckFlood { count: n, dst });
        (n, said)
    }

    /// A UDP datagram of no known flow sent.
    pub(crate) fn udp(&mut self, r: Ready<'_>, dst: IpAddr) -> Option<Said> {
        self.udp_out += 1;
        (self.udp_out >= r.t.flood_pps && r.may_fire(EventKind::UdpFlood)).then_some(
            Said::UdpFlood {
                count: self.udp_out,
                dst,
            },
        )
    }

    /// A SYN from the internet nobody asked for; `scanner`: its source is sweeping, which is
    /// reported as a scan, not a flood.
    pub(crate) fn inbound_syn(
        &mut self,
        r: Ready<'_>,
        src: IpAddr,
        port: u16,
        scanner: bool,
    ) -> Option<Said> {
        self.in_syn += 1;
        (self.in_syn >= r.t.flood_pps && !scanner && r.may_fire(EventKind::InboundFlood)).then_some(
            Said::InboundSynFlood {
                count: self.in_syn,
                src,
                port,
            },
        )
    }

    /// A datagram from the internet nobody asked for; noted as evidence of the kind it counts
    /// towards.
    pub(crate) fn inbound_udp(
        &mut self,
        r: Ready<'_>,
        ev: &mut Evidence,
        tuple: Tuple,
    ) -> Option<(EventKind, Said)> {
        self.in_udp += 1;
        if AMPLIFIER_PORTS.contains(&tuple.sport) {
            self.in_reflect += 1;
            ev.note(EventKind::ReflectionFlood, tuple);
            let said = Said::ReflectionFlood {
                count: self.in_reflect,
                port: tuple.sport,
                src: tuple.src,
            };
            (self.in_reflect >= r.t.flood_pps && r.may_fire(EventKind::ReflectionFlood))
                .then_some((EventKind::ReflectionFlood, said))
        } else {
            ev.note(EventKind::InboundFlood, tuple);
            let n = self.in_udp - self.in_reflect;
            let said = Said::InboundUdpFlood {
                count: n,
                src: tuple.src,
            };
            (n >= r.t.flood_pps && r.may_fire(EventKind::InboundFlood))
                .then_some((EventKind::InboundFlood, said))
        }
    }
}

/// The fan-out window (`fanout_window_s`): how many hosts and ports the device's SYNs reach,
/// and how many were answered, for scans.
pub(crate) struct Fanout {
    start: u64,
    syn_dsts: HyperLogLog,
    /// Destination ports of SYNs (port scans): a 128-bit linear counting bitmap (distinct
    /// ports ≈ -128 ln(1 - set/128), Whang et al. 1990), enough to tell tens of ports from a
    /// few, in two words next to the other counters.
    syn_port_map: u128,
    telnet_dsts: HyperLogLog,
    syns: u32,
    /// SYN-ACKs the device received.
    answered: u32,
    /// Mirai-fingerprinted SYNs.
    mirai: u32,
}

impl Fanout {
    const KINDS: [EventKind; 5] = [
        EventKind::Scan,
        EventKind::TelnetScan,
        EventKind::MiraiScan,
        EventKind::PortScan,
        EventKind::InboundScan,
    ];

    pub(crate) fn new(now: u64) -> Self {
        Fanout {
            start: now,
            syn_dsts: HyperLogLog::default(),
            syn_port_map: 0,
            telnet_dsts: HyperLogLog::default(),
            syns: 0,
            answered: 0,
            mirai: 0,
        }
    }

    #[inline]
    fn roll(&mut self, now: u64, t: &Thresholds, ev: &mut Evidence) {
        if now
            >= self
                .start
                .saturating_add(t.fanout_window_s.saturating_mul(NS))
        {
            self.start = now;
            self.syn_dsts.clear();
            self.syn_port_map = 0;
            self.telnet_dsts.clear();
            self.syns = 0;
            self.answered = 0;
            self.mirai = 0;
            ev.clear(&Self::KINDS);
        }
    }

    /// A SYN-ACK reached the device.
    #[inline]
    pub(crate) fn answered(&mut self) {
        self.answered += 1;
    }

    /// At most `scan_max_answered` of the SYNs were answered.
    #[inline]
    fn unanswered(&self, t: &Thresholds) -> bool {
        (self.answered as f64) <= t.scan_max_answered * self.syns as f64
    }

    /// A SYN sent: `mirai`, it carries the Mirai scanner's fingerprint; `port_scan_bits`, the
    /// port map bits that mean `port_scan_ports` ports. Pushes Mirai, telnet-scan, scan and
    /// port-scan events, in that order.
    #[inline]
    pub(crate) fn syn(
        &mut self,
        r: Ready<'_>,
        ev: &mut Evidence,
        tuple: Tuple,
        (dst_key, port_hash): (u64, u64),
        (mirai, port_scan_bits): (bool, u32),
        fired: &mut Vec<(EventKind, Said)>,
    ) {
        let t = r.t;
        self.syns += 1;
        self.syn_dsts.insert(dst_key);
        // Ports mixed (consecutive ports must collide like random ones for linear counting).
        self.syn_port_map |= 1 << (port_hash >> 57);
        // Evidence once several ports were tried (a cache line fewer per SYN of the common
        // one-port case).
        if self.syn_port_map.count_ones() > 8 {
            ev.note(EventKind::PortScan, tuple);
        }
        ev.note(EventKind::Scan, tuple);
        if mirai {
            self.mirai += 1;
            ev.note(EventKind::MiraiScan, tuple);
            if self.mirai >= t.mirai_syns && r.may_fire(EventKind::MiraiScan) {
                fired.push((EventKind::MiraiScan, Said::Mirai));
            }
        }
        if tuple.dport == 23 || tuple.dport == 2323 {
            self.telnet_dsts.insert(dst_key);
            ev.note(EventKind::TelnetScan, tuple);
            let n = self.telnet_dsts.estimate();
            if n >= t.telnet_fanout as f64 && r.may_fire(EventKind::TelnetScan) {
                fired.push((
                    EventKind::TelnetScan,
                    Said::TelnetScan {
                        hosts: n,
                        window_s: t.fanout_window_s,
                    },
                ));
            }
        }
        let n = self.syn_dsts.estimate();
        if n >= t.scan_fanout as f64 && self.unanswered(t) && r.may_fire(EventKind::Scan) {
            fired.push((
                EventKind::Scan,
                Said::Scan {
                    hosts: n,
                    window_s: t.fanout_window_s,
                },
            ));
        }
        // A port scan: many ports of few hosts.
        if self.syn_port_map.count_ones() >= port_scan_bits
            && n < t.scan_fanout as f64
            && self.unanswered(t)
            && r.may_fire(EventKind::PortScan)
        {
            // The map saturates past a few hundred ports.
            let ports =
                (self.syn_port_map.count_ones() < 120).then(|| distinct_ports(self.syn_port_map));
            fired.push((
                EventKind::PortScan,
                Said::PortScan {
                    ports,
                    dst: tuple.dst,
                    window_s: t.fanout_window_s,
                },
            ));
        }
    }
}

/// Bits of the 128-bit port map that `ports` distinct ports set on average (linear counting:
/// 128 (1 - e^(-ports/128))), capped below all 128.
pub(crate) fn port_scan_bits(ports: u32) -> u32 {
    let bits = 128.0 * (1.0 - (-(ports as f64) / 128.0).exp());
    (bits.ceil() as u32).clamp(1, 127)
}

/// Distinct ports estimated from the port map (linear counting).
pub(crate) fn distinct_ports(map: u128) -> f64 {
    let set = map.count_ones().min(127) as f64;
    -128.0 * (1.0 - set / 128.0).ln()
}

/// The login window (`brute_window_s`): sessions a login service accepted, per host and port.
/// The current and the previous window are summed, so attempts straddling a boundary still
/// add up.
pub(crate) struct Logins {
    start: u64,
    attempts: CountMin,
    attempts_prev: CountMin,
}

impl Logins {
    pub(crate) fn new(now: u64) -> Self {
        Logins {
            start: now,
            attempts: CountMin::default(),
            attempts_prev: CountMin::default(),
        }
    }

    /// True when a new window began.
    #[inline]
    fn roll(&mut self, now: u64, t: &Thresholds, ev: &mut Evidence) -> bool {
        if now
            >= self
                .start
                .saturating_add(t.brute_window_s.saturating_mul(NS))
        {
            self.start = now;
            std::mem::swap(&mut self.attempts, &mut self.attempts_prev);
            self.attempts.clear();
            ev.clear(&[EventKind::BruteForce]);
            true
        } else {
            false
        }
    }

    /// A login service at `victim:port` accepted a session of the device (its SYN-ACK).
    /// Counting only answered SYNs keeps the sketch accurate while the same device scans
    /// thousands of closed ports. The cooldown is left to the emitter.
    pub(crate) fn accepted(&mut self, t: &Thresholds, victim: IpAddr, port: u16) -> Option<Said> {
        let k = addr_key(&victim) ^ port as u64;
        let attempts = self
            .attempts
            .add(k)
            .saturating_add(self.attempts_prev.estimate(k));
        (attempts >= t.brute_attempts).then_some(Said::BruteForce {
            attempts,
            victim,
            port,
            window_s: 2 * t.brute_window_s,
        })
    }
}

/// Distinct names asked under one parent domain.
struct DomainCount {
    parent: u64,
    parent_name: String,
    names: HyperLogLog,
}

/// The water-torture window (`torture_window_s`): distinct names per parent domain, for a
/// few parents.
pub(crate) struct Torture {
    start: u64,
    domains: Vec<DomainCount>,
}

impl Torture {
    pub(crate) fn new(now: u64) -> Self {
        Torture {
            start: now,
            domains: Vec::new(),
        }
    }

    #[inline]
    fn roll(&mut self, now: u64, t: &Thresholds, ev: &mut Evidence) {
        if now
            >= self
                .start
                .saturating_add(t.torture_window_s.saturating_mul(NS))
        {
            self.start = now;
            self.domains.clear();
            ev.clear(&[EventKind::DnsWaterTorture]);
        }
    }

    /// A query for a name (hash `name`) under `parent`.
    pub(crate) fn query(
        &mut self,
        r: Ready<'_>,
        ev: &mut Evidence,
        tuple: Tuple,
        (parent, parent_name, name): (u64, String, u64),
    ) -> Option<Said> {
        let i = match self.domains.iter().position(|d| d.parent == parent) {
            Some(i) => i,
            None if self.domains.len() < MAX_DOMAINS_PER_DEVICE => {
                self.domains.push(DomainCount {
                    parent,
                    parent_name,
                    names: HyperLogLog::default(),
                });
                self.domains.len() - 1
            }
            None => return None,
        };
        let d = &mut self.domains[i];
        d.names.insert(name);
        ev.note(EventKind::DnsWaterTorture, tuple);
        let n = d.names.estimate();
        (n >= r.t.torture_names as f64 && r.may_fire(EventKind::DnsWaterTorture)).then(|| {
            Said::WaterTorture {
                names: n,
                domain: d.parent_name.clone(),
                window_s: r.t.torture_window_s,
            }
        })
    }
}

/// New internet destinations per minute, against every destination the device ever used (a
/// Bloom filter of 4096 bits and 2 hashes: (1 - e^(-2n/4096))^2, about 2 % false "known"
/// after n = 300 destinations).
pub(crate) struct NewDestinations {
    start: u64,
    count: u32,
    known: Box<[u64; 64]>,
}

impl NewDestinations {
    /// The window's length: a minute, as the threshold is worded.
    const WINDOW_NS: u64 = 60 * NS;

    pub(crate) fn new(now: u64) -> Self {
        NewDestinations {
            start: now,
            count: 0,
            known: Box::new([0; 64]),
        }
    }

    #[inline]
    fn roll(&mut self, now: u64, ev: &mut Evidence) {
        if now >= self.start.saturating_add(Self::WINDOW_NS) {
            self.start = now;
            self.count = 0;
            ev.clear(&[EventKind::NewDestinations]);
        }
    }

    /// Insert `dst` into the known-destination filter; true if it was not there.
    pub(crate) fn learn(&mut self, dst: &IpAddr) -> bool {
        let h = mix64(addr_key(dst));
        let mut new = false;
        for bit in [h & 4095, (h >> 32) & 4095] {
            let (w, b) = ((bit / 64) as usize, bit % 64);
            if self.known[w] & (1 << b) == 0 {
                new = true;
                self.known[w] |= 1 << b;
            }
        }
        new
    }

    /// A destination never seen before, after the learning period.
    pub(crate) fn new_one(
        &mut self,
        r: Ready<'_>,
        ev: &mut Evidence,
        tuple: Tuple,
    ) -> Option<Said> {
        self.count += 1;
        ev.note(EventKind::NewDestinations, tuple);
        (self.count >= r.t.new_destinations && r.may_fire(EventKind::NewDestinations))
            .then_some(Said::NewDestinations { count: self.count })
    }
}

/// All of a device's windows.
pub(crate) struct Windows {
    pub(crate) second: Second,
    pub(crate) fanout: Fanout,
    pub(crate) logins: Logins,
    pub(crate) torture: Torture,
    pub(crate) new_dsts: NewDestinations,
}

impl Windows {
    pub(crate) fn new(now: u64) -> Self {
        Windows {
            second: Second::new(now),
            fanout: Fanout::new(now),
            logins: Logins::new(now),
            torture: Torture::new(now),
            new_dsts: NewDestinations::new(now),
        }
    }

    /// Advance every window to `now` (packet time). True when a new login window began.
    #[inline]
    pub(crate) fn roll(&mut self, now: u64, t: &Thresholds, ev: &mut Evidence) -> bool {
        self.second.roll(now, ev);
        self.fanout.roll(now, t, ev);
        let logins = self.logins.roll(now, t, ev);
        self.torture.roll(now, t, ev);
        self.new_dsts.roll(now, ev);
        logins
    }
}
