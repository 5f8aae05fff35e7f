//! Labelled capture generator: deterministic (seeded ChaCha8) pcap files of a home network with
//! ground truth beside each. Frames are built with `etherparse`'s `PacketBuilder`, DHCP with
//! `dhcproto`, DNS/mDNS with `simple-dns`, and files written with `pcap-parser`'s serializer.
//!
//! Scenarios:
//! - `home`: background only — DHCP (with and without the MUD URL option 161), mDNS, SSDP, NTP,
//!   DNS via the gateway, TLS to cloud names.
//! - `mirai`: background plus four infected devices going through Mirai's lifecycle (C&C lookup
//!   through a hard-coded 8.8.8.8, telnet scanning with seq == destination address, brute force
//!   on a found victim, report to the loader on tcp/48101, heartbeats) and one attack each (SYN,
//!   UDP, ACK flood, DNS water torture).
//! - `traps`: background plus what must not be flagged: legitimate telnet to a LAN host, an NTP
//!   burst at boot, a firmware download, an mDNS storm, DHCP renumbering, and a stream that
//!   began before the capture did. Written as pcapng, to exercise that reader too.
//!
//! Direction and intent ([`DIRECTION_SCENARIOS`], background plus one story each):
//! `inbound-syn-flood` (spoofed SYNs from the internet at a camera, before the router is known),
//! `reflection-flood` (DNS/NTP answers nobody asked for at a console), `port-scan` (nmap -sS
//! from the internet at the NAS, and from a compromised camera inside), `host-sweep` (a DVR
//! sweeping port 80 of thousands of addresses at flood rate) and `fallback-resolver` (a
//! smart-lock hub asking 8.8.8.8 what the router just answered).

use crate::packet::Mac;
use dhcproto::v4::{self, DhcpOption, MessageType, OptionCode};
use dhcproto::{Encodable, Encoder};
use etherparse::PacketBuilder;
use pcap_parser::pcapng::{EnhancedPacketBlock, InterfaceDescriptionBlock, SectionHeaderBlock};
use pcap_parser::{LegacyPcapBlock, Linktype, PcapHeader, ToVec};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::Path;

const NS: u64 = 1_000_000_000;
/// 2026-01-01T00:00:00Z: all scenarios start here.
pub const START_NS: u64 = 1_767_225_600 * NS;
pub const GATEWAY_MAC: Mac = Mac([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

/// Ground truth for one device in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TruthDevice {
    pub mac: Mac,
    pub role: String,
    pub infected: bool,
    /// Packet time of the first scan packet (infected devices), ns since the epoch.
    pub first_scan_ns: Option<u64>,
    /// Event kinds a correct monitor reports for this device.
    pub expected_kinds: Vec<String>,
    /// For benign devices: the false-positive trap it carries, if any.
    pub trap: Option<String>,
}

/// The JSON file written beside each capture.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    pub scenario: String,
    pub seed: u64,
    pub capture: String,
    pub packets: u64,
    pub gateway_mac: Mac,
    pub devices: Vec<TruthDevice>,
}

/// Frames in the making, sorted by time before writing.
pub struct Capture {
    frames: Vec<(u64, u64, Vec<u8>)>,
    seq: u64,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    pub fn new() -> Self {
        Capture {
            frames: Vec::new(),
            seq: 0,
        }
    }

    pub fn push(&mut self, t: u64, frame: Vec<u8>) {
        self.frames.push((t, self.seq, frame));
        self.seq += 1;
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Frames in time order (stable for equal times).
    pub fn sorted(mut self) -> Vec<(u64, Vec<u8>)> {
        self.frames.sort_by_key(|(t, s, _)| (*t, *s));
        self.frames.into_iter().map(|(t, _, f)| (t, f)).collect()
    }
}

/// Write a legacy pcap (microsecond timestamps, Ethernet).
pub fn write_pcap(path: &Path, frames: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut header = PcapHeader::new();
    header.snaplen = 65_535;
    header.network = Linktype::ETHERNET;
    out.write_all(&header.to_vec().map_err(std::io::Error::other)?)?;
    for (t, f) in frames {
        write_pcap_record(&mut out, *t, f)?;
    }
    out.flush()
}

/// One legacy pcap record.
pub fn write_pcap_record(out: &mut impl std::io::Write, t: u64, f: &[u8]) -> std::io::Result<()> {
    let rec = LegacyPcapBlock {
        ts_sec: (t / NS) as u32,
        ts_usec: ((t % NS) / 1000) as u32,
        caplen: f.len() as u32,
        origlen: f.len() as u32,
        data: f,
    };
    out.write_all(&rec.to_vec_raw().map_err(std::io::Error::other)?)
}

/// Write a pcapng file (one section, one Ethernet interface, nanosecond resolution).
pub fn write_pcapng(path: &Path, frames: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    use pcap_parser::pcapng::PcapNGOption;
    use std::borrow::Cow;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut shb = SectionHeaderBlock {
        block_type: 0,
        block_len1: 0,
        bom: 0x1a2b_3c4d,
        major_version: 1,
        minor_version: 0,
        section_len: -1,
        options: vec![],
        block_len2: 0,
    };
    out.write_all(&shb.to_vec().map_err(std::io::Error::other)?)?;
    let mut idb = InterfaceDescriptionBlock {
        block_type: 0,
        block_len1: 0,
        linktype: Linktype::ETHERNET,
        reserved: 0,
        snaplen: 65_535,
        options: vec![PcapNGOption {
            code: pcap_parser::pcapng::OptionCode::IfTsresol,
            len: 1,
            value: Cow::Borrowed(&[9u8]),
        }],
        block_len2: 0,
        if_tsresol: 9,
        if_tsoffset: 0,
    };
    out.write_all(&idb.to_vec().map_err(std::io::Error::other)?)?;
    for (t, f) in frames {
        let mut epb = EnhancedPacketBlock {
            block_type: 0,
            block_len1: 0,
            if_id: 0,
            ts_high: (t >> 32) as u32,
            ts_low: *t as u32,
            caplen: f.len() as u32,
            origlen: f.len() as u32,
            data: f,
            options: vec![],
            block_len2: 0,
        };
        out.write_all(&epb.to_vec().map_err(std::io::Error::other)?)?;
    }
    out.flush()
}

// ---------------------------------------------------------------- frame builders

/// A host on the LAN.
#[derive(Clone, Debug)]
pub struct Host {
    pub mac: Mac,
    pub ip: Ipv4Addr,
}

pub fn gateway() -> Host {
    Host {
        mac: GATEWAY_MAC,
        ip: GATEWAY_IP,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn tcp_frame(
    src_mac: Mac,
    dst_mac: Mac,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    flags: &str,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(src_mac.0, dst_mac.0)
        .ipv4(src.octets(), dst.octets(), 64)
        .tcp(sport, dport, seq, 64_240);
    for c in flags.chars() {
        b = match c {
            'S' => b.syn(),
            'A' => b.ack(ack),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).expect("write to Vec");
    v
}

pub fn udp_frame(
    src_mac: Mac,
    dst_mac: Mac,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(src_mac.0, dst_mac.0)
        .ipv4(src.octets(), dst.octets(), 64)
        .udp(sport, dport);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).expect("write to Vec");
    v
}

/// Multicast MAC for an IPv4 group (RFC 1112 §6.4).
pub fn multicast_mac(group: Ipv4Addr) -> Mac {
    let o = group.octets();
    Mac([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
}

/// DHCP client facts for a generated device.
#[derive(Clone, Debug, Default)]
pub struct DhcpClient {
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub mud_url: Option<String>,
}

fn dhcp_message(
    kind: MessageType,
    xid: u32,
    client: Mac,
    yiaddr: Ipv4Addr,
    facts: &DhcpClient,
    server_reply: bool,
) -> Vec<u8> {
    let mut msg = v4::Message::default();
    msg.set_xid(xid)
        .set_chaddr(&client.0)
        .set_opcode(if server_reply {
            v4::Opcode::BootReply
        } else {
            v4::Opcode::BootRequest
        });
    if server_reply {
        msg.set_yiaddr(yiaddr).set_siaddr(GATEWAY_IP);
    }
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    if server_reply {
        opts.insert(DhcpOption::ServerIdentifier(GATEWAY_IP));
        opts.insert(DhcpOption::Router(vec![GATEWAY_IP]));
        opts.insert(DhcpOption::DomainNameServer(vec![GATEWAY_IP]));
        opts.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
        opts.insert(DhcpOption::AddressLeaseTime(86_400));
    } else {
        if kind == MessageType::Request {
            opts.insert(DhcpOption::RequestedIpAddress(yiaddr));
        }
        if let Some(h) = &facts.hostname {
            opts.insert(DhcpOption::Hostname(h.clone()));
        }
        if let Some(v) = &facts.vendor_class {
            opts.insert(DhcpOption::ClassIdentifier(v.as_bytes().to_vec()));
        }
        opts.insert(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
            OptionCode::Unknown(161),
        ]));
        // RFC 8520 §10: the MUD URL option.
        if let Some(u) = &facts.mud_url {
            opts.insert(DhcpOption::Unknown(v4::UnknownOption::new(
                OptionCode::Unknown(161),
                u.as_bytes().to_vec(),
            )));
        }
    }
    let mut buf = Vec::new();
    msg.encode(&mut Encoder::new(&mut buf))
        .expect("encode DHCP");
    buf
}

/// DISCOVER, OFFER, REQUEST, ACK starting at `t`.
pub fn dhcp_exchange(
    cap: &mut Capture,
    t: u64,
    mac: Mac,
    ip: Ipv4Addr,
    facts: &DhcpClient,
    xid: u32,
) {
    let any = Ipv4Addr::UNSPECIFIED;
    let bcast = Ipv4Addr::BROADCAST;
    let bmac = Mac([0xff; 6]);
    let steps = [
        (MessageType::Discover, false),
        (MessageType::Offer, true),
        (MessageType::Request, false),
        (MessageType::Ack, true),
    ];
    for (i, (kind, server)) in steps.into_iter().enumerate() {
        let payload = dhcp_message(kind, xid, mac, ip, facts, server);
        let frame = if server {
            udp_frame(GATEWAY_MAC, mac, GATEWAY_IP, ip, 67, 68, &payload)
        } else {
            udp_frame(mac, bmac, any, bcast, 68, 67, &payload)
        };
        cap.push(t + i as u64 * 3_000_000, frame);
    }
}

fn dns_query_bytes(id: u16, name: &str) -> Vec<u8> {
    use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, TYPE};
    let mut p = Packet::new_query(id);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().expect("build DNS query")
}

fn dns_answer_bytes(id: u16, name: &str, addrs: &[Ipv4Addr], ttl: u32, nxdomain: bool) -> Vec<u8> {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Name, Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE, RCODE, TYPE};
    let mut p = Packet::new_reply(id);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    if nxdomain {
        *p.rcode_mut() = RCODE::NameError;
    }
    for a in addrs {
        p.answers.push(ResourceRecord::new(
            Name::new_unchecked(name),
            CLASS::IN,
            ttl,
            RData::A(A::from(*a)),
        ));
    }
    p.build_bytes_vec().expect("build DNS answer")
}

/// A DNS lookup through `resolver` (reached via the gateway MAC) and its answer 5-20 ms later.
#[allow(clippy::too_many_arguments)]
pub fn dns_lookup(
    cap: &mut Capture,
    rng: &mut ChaCha8Rng,
    t: u64,
    dev: &Host,
    resolver: Ipv4Addr,
    name: &str,
    addrs: &[Ipv4Addr],
    nxdomain: bool,
) {
    let id: u16 = rng.random();
    let sport: u16 = rng.random_range(20_000..60_000);
    cap.push(
        t,
        udp_frame(
            dev.mac,
            GATEWAY_MAC,
            dev.ip,
            resolver,
            sport,
            53,
            &dns_query_bytes(id, name),
        ),
    );
    let dt = rng.random_range(5_000_000..20_000_000);
    cap.push(
        t + dt,
        udp_frame(
            GATEWAY_MAC,
            dev.mac,
            resolver,
            dev.ip,
            53,
            sport,
            &dns_answer_bytes(id, name, addrs, 300, nxdomain),
        ),
    );
}

/// An mDNS announcement of `<host>.local` (RFC 6762 §8.3).
pub fn mdns_announce(cap: &mut Capture, t: u64, dev: &Host, host: &str) {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Name, Packet, ResourceRecord, CLASS};
    let name = format!("{host}.local");
    let mut p = Packet::new_reply(0);
    p.set_flags(simple_dns::PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers.push(ResourceRecord::new(
        Name::new_unchecked(&name),
        CLASS::IN,
        120,
        RData::A(A::from(dev.ip)),
    ));
    let bytes = p.build_bytes_vec().expect("mDNS");
    let group = Ipv4Addr::new(224, 0, 0, 251);
    cap.push(
        t,
        udp_frame(
            dev.mac,
            multicast_mac(group),
            dev.ip,
            group,
            5353,
            5353,
            &bytes,
        ),
    );
}

pub fn ssdp_search(cap: &mut Capture, t: u64, dev: &Host) {
    let group = Ipv4Addr::new(239, 255, 255, 250);
    let body = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n";
    cap.push(
        t,
        udp_frame(
            dev.mac,
            multicast_mac(group),
            dev.ip,
            group,
            1900,
            1900,
            body,
        ),
    );
}

/// One NTP (RFC 5905) client query and the server's reply.
pub fn ntp_exchange(cap: &mut Capture, t: u64, dev: &Host, server: Ipv4Addr, sport: u16) {
    let mut q = [0u8; 48];
    q[0] = 0x23; // LI 0, version 4, mode 3 (client)
    cap.push(
        t,
        udp_frame(dev.mac, GATEWAY_MAC, dev.ip, server, sport, 123, &q),
    );
    let mut r = [0u8; 48];
    r[0] = 0x24; // mode 4 (server)
    r[1] = 2;
    cap.push(
        t + 30_000_000,
        udp_frame(GATEWAY_MAC, dev.mac, server, dev.ip, 123, sport, &r),
    );
}

/// A TCP connection: handshake, `exchanges` request/response pairs of the given sizes, FIN.
/// `peer_mac` is the gateway for internet peers or the peer itself on the LAN. Returns the end time.
#[allow(clippy::too_many_arguments)]
pub fn tcp_session(
    cap: &mut Capture,
    rng: &mut ChaCha8Rng,
    t: u64,
    dev: &Host,
    peer_mac: Mac,
    peer: Ipv4Addr,
    dport: u16,
    exchanges: usize,
    req: usize,
    resp: usize,
) -> u64 {
    let sport: u16 = rng.random_range(32_768..61_000);
    let mut cs: u32 = rng.random();
    let mut ss: u32 = rng.random();
    let rtt = rng.random_range(8_000_000..40_000_000u64);
    let mut now = t;
    let (dm, pm) = (dev.mac, peer_mac);
    // SYN with options (a real stack sends MSS etc.; etherparse writes none, so use a
    // sequence number unequal to the destination, which is what matters to the detector).
    if cs == u32::from(peer) {
        cs ^= 1;
    }
    cap.push(
        now,
        tcp_frame(dm, pm, dev.ip, peer, sport, dport, cs, "S", 0, &[]),
    );
    now += rtt;
    cap.push(
        now,
        tcp_frame(pm, dm, peer, dev.ip, dport, sport, ss, "SA", cs + 1, &[]),
    );
    cs += 1;
    ss += 1;
    now += 200_000;
    cap.push(
        now,
        tcp_frame(dm, pm, dev.ip, peer, sport, dport, cs, "A", ss, &[]),
    );
    let req_payload = vec![0x17u8; req];
    let resp_payload = vec![0x17u8; resp];
    for _ in 0..exchanges {
        now += rng.random_range(1_000_000..50_000_000u64);
        cap.push(
            now,
            tcp_frame(
                dm,
                pm,
                dev.ip,
                peer,
                sport,
                dport,
                cs,
                "PA",
                ss,
                &req_payload,
            ),
        );
        cs = cs.wrapping_add(req as u32);
        now += rtt;
        cap.push(
            now,
            tcp_frame(
                pm,
                dm,
                peer,
                dev.ip,
                dport,
                sport,
                ss,
                "PA",
                cs,
                &resp_payload,
            ),
        );
        ss = ss.wrapping_add(resp as u32);
        now += 300_000;
        cap.push(
            now,
            tcp_frame(dm, pm, dev.ip, peer, sport, dport, cs, "A", ss, &[]),
        );
    }
    now += 5_000_000;
    cap.push(
        now,
        tcp_frame(dm, pm, dev.ip, peer, sport, dport, cs, "FA", ss, &[]),
    );
    now += rtt;
    cap.push(
        now,
        tcp_frame(pm, dm, peer, dev.ip, dport, sport, ss, "FA", cs + 1, &[]),
    );
    now += 200_000;
    cap.push(
        now,
        tcp_frame(dm, pm, dev.ip, peer, sport, dport, cs + 1, "A", ss + 1, &[]),
    );
    now
}

/// A random routable IPv4 address outside private, loopback, multicast and reserved space,
/// as Mirai's scanner picks them.
pub fn random_public(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    loop {
        let a = Ipv4Addr::from(rng.random::<u32>());
        let o = a.octets();
        if a.is_private()
            || a.is_loopback()
            || a.is_multicast()
            || a.is_link_local()
            || o[0] == 0
            || o[0] >= 224
            || (o[0] == 100 && (o[1] & 0xc0) == 64)
        {
            continue;
        }
        return a;
    }
}

// ---------------------------------------------------------------- the scenarios

/// A benign household device and its cloud.
struct Benign {
    host: Host,
    role: &'static str,
    name: &'static str,
    dhcp: DhcpClient,
    clouds: Vec<(&'static str, Ipv4Addr)>,
}

fn household(first_octet: u8) -> Vec<Benign> {
    let cloud = |n: &'static str, a: [u8; 4]| (n, Ipv4Addr::from(a));
    let dev = |i: u8, oui: [u8; 3]| Host {
        mac: Mac([oui[0], oui[1], oui[2], 0x10, first_octet, i]),
        ip: Ipv4Addr::new(192, 168, 1, first_octet.wrapping_add(i)),
    };
    vec![
        Benign {
            host: dev(1, [0xb8, 0x27, 0xeb]),
            role: "thermostat",
            name: "thermostat",
            dhcp: DhcpClient {
                hostname: Some("thermostat".into()),
                vendor_class: Some("udhcp 1.30.1".into()),
                mud_url: Some("https://thermo.example.com/mud/thermostat.json".into()),
            },
            clouds: vec![cloud("api.thermo.example.com", [203, 0, 113, 10])],
        },
        Benign {
            host: dev(2, [0x02, 0x1a, 0x11]),
            role: "smart-plug",
            name: "plug-livingroom",
            dhcp: DhcpClient {
                hostname: Some("plug-livingroom".into()),
                vendor_class: None,
                mud_url: None,
            },
            clouds: vec![
                cloud("mqtt.plugcloud.example.net", [198, 51, 100, 20]),
                cloud("ota.plugcloud.example.net", [198, 51, 100, 21]),
            ],
        },
        Benign {
            host: dev(3, [0x02, 0x1a, 0x12]),
            role: "speaker",
            name: "kitchen-speaker",
            dhcp: DhcpClient {
                hostname: Some("kitchen-speaker".into()),
                vendor_class: Some("android-dhcp-13".into()),
                mud_url: Some("https://audio.example.org/mud/speaker-v2.json".into()),
            },
            clouds: vec![
                cloud("stream.audio.example.org", [192, 0, 2, 40]),
                cloud("time.audio.example.org", [192, 0, 2, 41]),
            ],
        },
        Benign {
            host: dev(4, [0x02, 0x1a, 0x13]),
            role: "printer",
            name: "printer",
            dhcp: DhcpClient {
                hostname: Some("printer".into()),
                vendor_class: None,
                mud_url: None,
            },
            clouds: vec![cloud("cloudprint.example.com", [203, 0, 113, 77])],
        },
    ]
}

/// Background traffic of one benign device over `[t0, t1)`.
fn background(cap: &mut Capture, rng: &mut ChaCha8Rng, d: &Benign, t0: u64, t1: u64) {
    let xid: u32 = rng.random();
    dhcp_exchange(cap, t0, d.host.mac, d.host.ip, &d.dhcp, xid);
    mdns_announce(cap, t0 + NS / 2, &d.host, d.name);
    let mut t = t0 + NS;
    ntp_exchange(cap, t, &d.host, Ipv4Addr::new(162, 159, 200, 1), 123);
    for (name, addr) in &d.clouds {
        t += rng.random_range(100_000_000..900_000_000u64);
        dns_lookup(cap, rng, t, &d.host, GATEWAY_IP, name, &[*addr], false);
        t += 40_000_000;
        t = tcp_session(cap, rng, t, &d.host, GATEWAY_MAC, *addr, 443, 3, 517, 1400);
    }
    // Periodic: keep-alive connections every ~30 s, SSDP every 60 s, NTP every 64 s.
    let mut next_tls = t + 30 * NS;
    let mut next_ssdp = t0 + 5 * NS;
    let mut next_ntp = t0 + 65 * NS;
    loop {
        let tnext = next_tls.min(next_ssdp).min(next_ntp);
        if tnext >= t1 {
            break;
        }
        if tnext == next_tls {
            let (name, addr) = d.clouds[rng.random_range(0..d.clouds.len())];
            dns_lookup(cap, rng, tnext, &d.host, GATEWAY_IP, name, &[addr], false);
            tcp_session(
                cap,
                rng,
                tnext + 40_000_000,
                &d.host,
                GATEWAY_MAC,
                addr,
                443,
                2,
                200,
                600,
            );
            next_tls += rng.random_range(25 * NS..35 * NS);
        } else if tnext == next_ssdp {
            ssdp_search(cap, tnext, &d.host);
            next_ssdp += 60 * NS;
        } else {
            ntp_exchange(cap, tnext, &d.host, Ipv4Addr::new(162, 159, 200, 1), 123);
            next_ntp += 64 * NS;
        }
    }
}

fn benign_truth(d: &Benign, trap: Option<&str>) -> TruthDevice {
    TruthDevice {
        mac: d.host.mac,
        role: d.role.to_string(),
        infected: false,
        first_scan_ns: None,
        expected_kinds: vec![],
        trap: trap.map(str::to_string),
    }
}

/// Which attack an infected device runs after scanning.
#[derive(Clone, Copy)]
enum Attack {
    Syn,
    Udp,
    Ack,
    WaterTorture,
}

/// Mirai's lifecycle on one device from `t0`; returns (first scan packet time, expected kinds).
fn mirai(
    cap: &mut Capture,
    rng: &mut ChaCha8Rng,
    dev: &Host,
    t0: u64,
    attack: Attack,
) -> (u64, Vec<String>) {
    let cnc = Ipv4Addr::new(185, 244, 25, 108);
    let loader = Ipv4Addr::new(185, 244, 25, 109);
    let victim_site = Ipv4Addr::new(203, 0, 113, 200);
    // 1. Resolve the C&C through the hard-coded 8.8.8.8 and connect to it (tcp/23).
    dns_lookup(
        cap,
        rng,
        t0,
        dev,
        Ipv4Addr::new(8, 8, 8, 8),
        "cnc.badbot.example",
        &[cnc],
        false,
    );
    tcp_session(
        cap,
        rng,
        t0 + 50_000_000,
        dev,
        GATEWAY_MAC,
        cnc,
        23,
        1,
        4,
        2,
    );
    // 2. Scan: 160 SYNs per second to random addresses, 90 % port 23 and 10 % 2323, seq = dst,
    //    no options, a fixed source port; about 1 % answer with a SYN-ACK.
    let first_scan = t0 + 2 * NS;
    let sport: u16 = rng.random_range(1024..65_000);
    let mut found = Vec::new();
    let scan_end = first_scan + 60 * NS;
    let mut t = first_scan;
    while t < scan_end {
        let dst = random_public(rng);
        let dport = if rng.random_range(0..10) == 0 {
            2323
        } else {
            23
        };
        cap.push(
            t,
            tcp_frame(
                dev.mac,
                GATEWAY_MAC,
                dev.ip,
                dst,
                sport,
                dport,
                u32::from(dst),
                "S",
                0,
                &[],
            ),
        );
        if rng.random_range(0..100) == 0 {
            let ss: u32 = rng.random();
            cap.push(
                t + 60_000_000,
                tcp_frame(
                    GATEWAY_MAC,
                    dev.mac,
                    dst,
                    dev.ip,
                    dport,
                    sport,
                    ss,
                    "SA",
                    u32::from(dst) + 1,
                    &[],
                ),
            );
            cap.push(
                t + 60_200_000,
                tcp_frame(
                    dev.mac,
                    GATEWAY_MAC,
                    dev.ip,
                    dst,
                    sport,
                    dport,
                    u32::from(dst) + 1,
                    "R",
                    0,
                    &[],
                ),
            );
            found.push((dst, dport));
        }
        t += 6_250_000;
    }
    // 3. Brute force the first victim found: ten login attempts, one connection each.
    if let Some((victim, port)) = found.first().copied() {
        let mut bt = first_scan + 5 * NS;
        for _ in 0..10 {
            bt = tcp_session(cap, rng, bt, dev, GATEWAY_MAC, victim, port, 2, 12, 20) + 500_000_000;
        }
        // 4. Report the working credentials to the loader on tcp/48101.
        tcp_session(cap, rng, bt, dev, GATEWAY_MAC, loader, 48101, 1, 40, 0);
    }
    // 5. Heartbeat to the C&C every 60 s.
    let mut hb = t0 + 60 * NS;
    while hb < t0 + 240 * NS {
        tcp_session(cap, rng, hb, dev, GATEWAY_MAC, cnc, 23, 1, 2, 2);
        hb += 60 * NS;
    }
    // 6. One attack, 4 s at 2500 packets per second.
    let at = t0 + 90 * NS;
    let mut kinds = vec![
        "mirai-scan".to_string(),
        "telnet-scan".into(),
        "scan".into(),
        "dns-bypass".into(),
    ];
    if !found.is_empty() {
        kinds.push("brute-force".into());
    }
    for i in 0..10_000u64 {
        let t = at + i * 400_000;
        let frame = match attack {
            Attack::Syn => tcp_frame(
                dev.mac,
                GATEWAY_MAC,
                dev.ip,
                victim_site,
                rng.random(),
                80,
                rng.random(),
                "S",
                0,
                &[],
            ),
            Attack::Ack => tcp_frame(
                dev.mac,
                GATEWAY_MAC,
                dev.ip,
                victim_site,
                rng.random(),
                rng.random(),
                rng.random(),
                "A",
                rng.random(),
                &[0u8; 64],
            ),
            Attack::Udp => udp_frame(
                dev.mac,
                GATEWAY_MAC,
                dev.ip,
                victim_site,
                rng.random(),
                rng.random(),
                &[0u8; 512],
            ),
            Attack::WaterTorture => {
                let label: String = (0..12)
                    .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
                    .collect();
                let name = format!("{label}.victim-shop.example");
                let id: u16 = rng.random();
                udp_frame(
                    dev.mac,
                    GATEWAY_MAC,
                    dev.ip,
                    GATEWAY_IP,
                    rng.random_range(1024..65_000),
                    53,
                    &dns_query_bytes(id, &name),
                )
            }
        };
        cap.push(t, frame);
        if matches!(attack, Attack::WaterTorture) && i >= 1500 {
            break; // a few hundred per second is plenty to hurt an authoritative server
        }
    }
    kinds.push(
        match attack {
            Attack::Syn => "syn-flood",
            Attack::Udp => "udp-flood",
            Attack::Ack => "ack-flood",
            Attack::WaterTorture => "dns-water-torture",
        }
        .to_string(),
    );
    (first_scan, kinds)
}

/// Timestamped frames in time order.
pub type Frames = Vec<(u64, Vec<u8>)>;

/// Duration of every scenario.
pub const DURATION_S: u64 = 300;

/// Build one scenario; `None` for an unknown name.
pub fn build(name: &str, seed: u64) -> Option<(Truth, Frames)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cap = Capture::new();
    let t0 = START_NS;
    let t1 = t0 + DURATION_S * NS;
    let mut devices = Vec::new();
    let home = household(100);
    for (i, d) in home.iter().enumerate() {
        background(&mut cap, &mut rng, d, t0 + i as u64 * 700_000_000, t1);
    }
    match name {
        "home" => {
            devices.extend(home.iter().map(|d| benign_truth(d, None)));
        }
        "mirai" => {
            devices.extend(home.iter().map(|d| benign_truth(d, None)));
            let attacks = [Attack::Syn, Attack::Udp, Attack::Ack, Attack::WaterTorture];
            for (i, attack) in attacks.into_iter().enumerate() {
                let host = Host {
                    mac: Mac([0x02, 0xca, 0x3e, 0x00, 0x00, i as u8 + 1]),
                    ip: Ipv4Addr::new(192, 168, 1, 50 + i as u8),
                };
                let role = ["ip-camera", "dvr", "router-cam", "baby-monitor"][i];
                let boot = t0 + i as u64 * 3 * NS;
                dhcp_exchange(
                    &mut cap,
                    boot,
                    host.mac,
                    host.ip,
                    &DhcpClient {
                        hostname: Some(role.into()),
                        ..Default::default()
                    },
                    rng.random(),
                );
                let (first, kinds) = mirai(
                    &mut cap,
                    &mut rng,
                    &host,
                    boot + (20 + 15 * i as u64) * NS,
                    attack,
                );
                devices.push(TruthDevice {
                    mac: host.mac,
                    role: role.into(),
                    infected: true,
                    first_scan_ns: Some(first),
                    expected_kinds: kinds,
                    trap: None,
                });
            }
        }
        "traps" => {
            devices.extend(home.iter().map(|d| benign_truth(d, None)));
            traps(&mut cap, &mut rng, t0, &mut devices);
        }
        "inbound-syn-flood" | "reflection-flood" | "port-scan" | "host-sweep"
        | "fallback-resolver" => {
            devices.extend(home.iter().map(|d| benign_truth(d, None)));
            direction(name, &mut cap, &mut rng, t0, &mut devices);
        }
        _ => return None,
    }
    let frames = cap.sorted();
    let ext = if name == "traps" { "pcapng" } else { "pcap" };
    let truth = Truth {
        scenario: name.to_string(),
        seed,
        capture: format!("{name}.{ext}"),
        packets: frames.len() as u64,
        gateway_mac: GATEWAY_MAC,
        devices,
    };
    Some((truth, frames))
}

fn traps(cap: &mut Capture, rng: &mut ChaCha8Rng, t0: u64, devices: &mut Vec<TruthDevice>) {
    let add = |host: &Host, role: &str, trap: &str, devices: &mut Vec<TruthDevice>| {
        devices.push(TruthDevice {
            mac: host.mac,
            role: role.into(),
            infected: false,
            first_scan_ns: None,
            expected_kinds: vec![],
            trap: Some(trap.into()),
        });
    };
    let nas = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x20]),
        ip: Ipv4Addr::new(192, 168, 1, 20),
    };
    let laptop = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x21]),
        ip: Ipv4Addr::new(192, 168, 1, 21),
    };
    // Legitimate telnet from a laptop to the NAS's admin console: two sessions.
    dhcp_exchange(
        cap,
        t0 + NS,
        laptop.mac,
        laptop.ip,
        &DhcpClient {
            hostname: Some("laptop".into()),
            ..Default::default()
        },
        rng.random(),
    );
    dhcp_exchange(
        cap,
        t0 + 2 * NS,
        nas.mac,
        nas.ip,
        &DhcpClient {
            hostname: Some("nas".into()),
            ..Default::default()
        },
        rng.random(),
    );
    let end = tcp_session(
        cap,
        rng,
        t0 + 30 * NS,
        &laptop,
        nas.mac,
        nas.ip,
        23,
        40,
        3,
        80,
    );
    tcp_session(
        cap,
        rng,
        end + 20 * NS,
        &laptop,
        nas.mac,
        nas.ip,
        23,
        10,
        3,
        80,
    );
    add(&laptop, "laptop", "legitimate-telnet-to-lan-host", devices);
    add(&nas, "nas", "telnet-server", devices);

    // NTP burst at boot: eight queries to four pool servers within a second.
    let clock = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x22]),
        ip: Ipv4Addr::new(192, 168, 1, 22),
    };
    dhcp_exchange(
        cap,
        t0 + 40 * NS,
        clock.mac,
        clock.ip,
        &DhcpClient {
            hostname: Some("wall-clock".into()),
            ..Default::default()
        },
        rng.random(),
    );
    for i in 0..8u64 {
        let server = Ipv4Addr::new(162, 159, 200, 1 + (i % 4) as u8);
        ntp_exchange(
            cap,
            t0 + 41 * NS + i * 110_000_000,
            &clock,
            server,
            40_000 + i as u16,
        );
    }
    add(&clock, "wall-clock", "ntp-burst-at-boot", devices);

    // Firmware download: 24 000 full-size segments in 8 s, the device ACKing every second one.
    let cam = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x23]),
        ip: Ipv4Addr::new(192, 168, 1, 23),
    };
    let fw = Ipv4Addr::new(203, 0, 113, 5);
    dhcp_exchange(
        cap,
        t0 + 3 * NS,
        cam.mac,
        cam.ip,
        &DhcpClient {
            hostname: Some("doorbell".into()),
            ..Default::default()
        },
        rng.random(),
    );
    dns_lookup(
        cap,
        rng,
        t0 + 60 * NS,
        &cam,
        GATEWAY_IP,
        "firmware.doorbell.example.com",
        &[fw],
        false,
    );
    {
        let t = t0 + 61 * NS;
        let (sport, mut cs, mut ss) = (45_000u16, 1000u32, 5000u32);
        cap.push(
            t,
            tcp_frame(
                cam.mac,
                GATEWAY_MAC,
                cam.ip,
                fw,
                sport,
                443,
                cs,
                "S",
                0,
                &[],
            ),
        );
        cap.push(
            t + 20_000_000,
            tcp_frame(
                GATEWAY_MAC,
                cam.mac,
                fw,
                cam.ip,
                443,
                sport,
                ss,
                "SA",
                cs + 1,
                &[],
            ),
        );
        cs += 1;
        ss += 1;
        cap.push(
            t + 20_100_000,
            tcp_frame(
                cam.mac,
                GATEWAY_MAC,
                cam.ip,
                fw,
                sport,
                443,
                cs,
                "PA",
                ss,
                &[0x16; 300],
            ),
        );
        cs += 300;
        let seg = vec![0x17u8; 1400];
        for i in 0..24_000u64 {
            let ts = t + 25_000_000 + i * 333_333;
            cap.push(
                ts,
                tcp_frame(
                    GATEWAY_MAC,
                    cam.mac,
                    fw,
                    cam.ip,
                    443,
                    sport,
                    ss,
                    "A",
                    cs,
                    &seg,
                ),
            );
            ss = ss.wrapping_add(1400);
            if i % 2 == 1 {
                cap.push(
                    ts + 50_000,
                    tcp_frame(
                        cam.mac,
                        GATEWAY_MAC,
                        cam.ip,
                        fw,
                        sport,
                        443,
                        cs,
                        "A",
                        ss,
                        &[],
                    ),
                );
            }
        }
    }
    add(&cam, "doorbell", "firmware-download", devices);

    // mDNS storm: a TV re-announcing 3000 times in 3 s.
    let tv = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x24]),
        ip: Ipv4Addr::new(192, 168, 1, 24),
    };
    dhcp_exchange(
        cap,
        t0 + 4 * NS,
        tv.mac,
        tv.ip,
        &DhcpClient {
            hostname: Some("living-room-tv".into()),
            ..Default::default()
        },
        rng.random(),
    );
    for i in 0..3000u64 {
        mdns_announce(cap, t0 + 100 * NS + i * NS / 1000, &tv, "living-room-tv");
    }
    // … and a video stream that began before the capture: no handshake in the file.
    {
        let cdn = Ipv4Addr::new(198, 51, 100, 99);
        let (mut cs, mut ss) = (777_000u32, 999_000u32);
        for i in 0..3000u64 {
            let ts = t0 + 10_000_000 + i * 10_000_000;
            cap.push(
                ts,
                tcp_frame(
                    GATEWAY_MAC,
                    tv.mac,
                    cdn,
                    tv.ip,
                    443,
                    51_000,
                    ss,
                    "A",
                    cs,
                    &[0x17; 1200],
                ),
            );
            ss = ss.wrapping_add(1200);
            cap.push(
                ts + 100_000,
                tcp_frame(
                    tv.mac,
                    GATEWAY_MAC,
                    tv.ip,
                    cdn,
                    51_000,
                    443,
                    cs,
                    "A",
                    ss,
                    &[],
                ),
            );
            cs = cs.wrapping_add(0);
        }
    }
    add(
        &tv,
        "tv",
        "mdns-storm-and-stream-started-before-capture",
        devices,
    );

    // DHCP renumbering: the speaker-like hub gets a new address halfway and carries on.
    let hub = Host {
        mac: Mac([0x02, 0x11, 0x22, 0x00, 0x00, 0x25]),
        ip: Ipv4Addr::new(192, 168, 1, 25),
    };
    let facts = DhcpClient {
        hostname: Some("hue-hub".into()),
        ..Default::default()
    };
    dhcp_exchange(cap, t0 + 5 * NS, hub.mac, hub.ip, &facts, rng.random());
    let hub2 = Host {
        mac: hub.mac,
        ip: Ipv4Addr::new(192, 168, 1, 125),
    };
    dhcp_exchange(cap, t0 + 150 * NS, hub2.mac, hub2.ip, &facts, rng.random());
    let cloud = Ipv4Addr::new(192, 0, 2, 88);
    for (h, start) in [(&hub, 10u64), (&hub2, 155)] {
        for k in 0..10u64 {
            let t = t0 + (start + k * 12) * NS;
            dns_lookup(
                cap,
                rng,
                t,
                h,
                GATEWAY_IP,
                "bridge.hue.example",
                &[cloud],
                false,
            );
            tcp_session(
                cap,
                rng,
                t + 40_000_000,
                h,
                GATEWAY_MAC,
                cloud,
                443,
                2,
                300,
                300,
            );
        }
    }
    add(&hub, "hub", "dhcp-renumbering", devices);
}

/// A LAN device that got its address by DHCP and talks to its cloud now and then.
fn lan_device(
    cap: &mut Capture,
    rng: &mut ChaCha8Rng,
    t0: u64,
    host: &Host,
    hostname: &str,
    cloud: Ipv4Addr,
) {
    dhcp_exchange(
        cap,
        t0,
        host.mac,
        host.ip,
        &DhcpClient {
            hostname: Some(hostname.into()),
            ..Default::default()
        },
        rng.random(),
    );
    let mut t = t0 + NS;
    while t < t0 + 200 * NS {
        tcp_session(cap, rng, t, host, GATEWAY_MAC, cloud, 443, 2, 200, 600);
        t += 40 * NS;
    }
}

fn truth(
    host: &Host,
    role: &str,
    infected: bool,
    kinds: &[&str],
    first: Option<u64>,
) -> TruthDevice {
    TruthDevice {
        mac: host.mac,
        role: role.into(),
        infected,
        first_scan_ns: first,
        expected_kinds: kinds.iter().map(|k| k.to_string()).collect(),
        trap: None,
    }
}

/// Scenarios about direction and intent: traffic from the internet arrives through the router
/// (frames from `GATEWAY_MAC`) and is an attack *on* the LAN; scans are scans, not floods; a
/// fallback public resolver is not malware.
fn direction(
    name: &str,
    cap: &mut Capture,
    rng: &mut ChaCha8Rng,
    t0: u64,
    devices: &mut Vec<TruthDevice>,
) {
    let host = |i: u8| Host {
        mac: Mac([0x02, 0xd1, 0x4e, 0x00, 0x00, i]),
        ip: Ipv4Addr::new(192, 168, 1, 60 + i),
    };
    match name {
        "inbound-syn-flood" => {
            // Spoofed SYNs from random internet addresses to a camera's web port, 2500 per
            // second for 2 s, starting before anything else (the router is not known yet);
            // the camera answers each with a SYN-ACK.
            let cam = host(1);
            let start = t0 - NS / 2;
            for i in 0..5_000u64 {
                let t = start + i * 400_000;
                let src = random_public(rng);
                let sport: u16 = rng.random_range(1024..65_535);
                let seq: u32 = rng.random();
                cap.push(
                    t,
                    tcp_frame(
                        GATEWAY_MAC,
                        cam.mac,
                        src,
                        cam.ip,
                        sport,
                        80,
                        seq,
                        "S",
                        0,
                        &[],
                    ),
                );
                cap.push(
                    t + 50_000,
                    tcp_frame(
                        cam.mac,
                        GATEWAY_MAC,
                        cam.ip,
                        src,
                        80,
                        sport,
                        rng.random(),
                        "SA",
                        seq.wrapping_add(1),
                        &[],
                    ),
                );
            }
            lan_device(
                cap,
                rng,
                t0 + NS,
                &cam,
                "camera",
                Ipv4Addr::new(203, 0, 113, 30),
            );
            devices.push(truth(&cam, "camera", false, &["inbound-flood"], None));
        }
        "reflection-flood" => {
            // DNS and NTP answers nobody asked for, from 400 open servers, 2000 per second
            // for 2 s, to a games console's port 27015 (the spoofed requests' source).
            let console = host(2);
            lan_device(
                cap,
                rng,
                t0,
                &console,
                "console",
                Ipv4Addr::new(198, 51, 100, 40),
            );
            let servers: Vec<Ipv4Addr> = (0..400).map(|_| random_public(rng)).collect();
            let start = t0 + 60 * NS;
            for i in 0..4_000u64 {
                let sport = if i % 2 == 0 { 53 } else { 123 };
                cap.push(
                    start + i * 500_000,
                    udp_frame(
                        GATEWAY_MAC,
                        console.mac,
                        servers[i as usize % servers.len()],
                        console.ip,
                        sport,
                        27015,
                        &[0x5a; 480],
                    ),
                );
            }
            devices.push(truth(
                &console,
                "console",
                false,
                &["reflection-flood"],
                None,
            ));
        }
        "port-scan" => {
            // nmap -sS from the internet against the NAS's first 1000 ports in 2 s (one
            // source port, as nmap does); the NAS answers RST, or SYN-ACK on 22, 80, 443.
            // And a LAN camera, compromised, doing the same to the NAS from inside.
            let nas = host(3);
            let cam = host(4);
            lan_device(cap, rng, t0, &nas, "nas", Ipv4Addr::new(203, 0, 113, 50));
            lan_device(
                cap,
                rng,
                t0 + NS,
                &cam,
                "camera",
                Ipv4Addr::new(203, 0, 113, 51),
            );
            let scanner = Ipv4Addr::new(198, 51, 100, 66);
            let start = t0 + 60 * NS;
            let inside = t0 + 100 * NS;
            for (from, from_mac, to_mac, at) in [
                (scanner, GATEWAY_MAC, nas.mac, start),
                (cam.ip, cam.mac, nas.mac, inside),
            ] {
                for port in 1..=1000u16 {
                    let t = at + port as u64 * 2_000_000;
                    let seq: u32 = rng.random();
                    cap.push(
                        t,
                        tcp_frame(
                            from_mac,
                            to_mac,
                            from,
                            nas.ip,
                            45_123,
                            port,
                            seq,
                            "S",
                            0,
                            &[],
                        ),
                    );
                    let back = if from == scanner {
                        GATEWAY_MAC
                    } else {
                        cam.mac
                    };
                    let open = matches!(port, 22 | 80 | 443);
                    cap.push(
                        t + 300_000,
                        tcp_frame(
                            nas.mac,
                            back,
                            nas.ip,
                            from,
                            port,
                            45_123,
                            if open { rng.random() } else { 0 },
                            if open { "SA" } else { "RA" },
                            seq.wrapping_add(1),
                            &[],
                        ),
                    );
                }
            }
            devices.push(truth(&nas, "nas", false, &["inbound-scan"], None));
            devices.push(truth(
                &cam,
                "camera",
                true,
                &["port-scan"],
                Some(inside + 2_000_000),
            ));
        }
        "host-sweep" => {
            // A compromised DVR sweeping port 80 of 4000 internet addresses at 2000 SYNs per
            // second: a scan, not a flood. A few answer.
            let dvr = host(5);
            lan_device(cap, rng, t0, &dvr, "dvr", Ipv4Addr::new(203, 0, 113, 70));
            let start = t0 + 40 * NS;
            for i in 0..4_000u64 {
                let t = start + i * 500_000;
                let dst = random_public(rng);
                let sport: u16 = rng.random_range(32_768..61_000);
                let mut seq: u32 = rng.random();
                if seq == u32::from(dst) {
                    seq ^= 1;
                }
                cap.push(
                    t,
                    tcp_frame(
                        dvr.mac,
                        GATEWAY_MAC,
                        dvr.ip,
                        dst,
                        sport,
                        80,
                        seq,
                        "S",
                        0,
                        &[],
                    ),
                );
                if i % 50 == 0 {
                    cap.push(
                        t + 30_000_000,
                        tcp_frame(
                            GATEWAY_MAC,
                            dvr.mac,
                            dst,
                            dvr.ip,
                            80,
                            sport,
                            rng.random(),
                            "SA",
                            seq.wrapping_add(1),
                            &[],
                        ),
                    );
                }
            }
            devices.push(truth(&dvr, "dvr", true, &["scan"], Some(start)));
        }
        "fallback-resolver" => {
            // A smart-lock hub asks the router, gets its answer, then asks 8.8.8.8 the same
            // name (its fallback resolver) and connects: every 30 s.
            let hub = host(6);
            dhcp_exchange(
                cap,
                t0,
                hub.mac,
                hub.ip,
                &DhcpClient {
                    hostname: Some("lock-hub".into()),
                    ..Default::default()
                },
                rng.random(),
            );
            let cloud = Ipv4Addr::new(203, 0, 113, 90);
            let mut t = t0 + 2 * NS;
            while t < t0 + 280 * NS {
                dns_lookup(
                    cap,
                    rng,
                    t,
                    &hub,
                    GATEWAY_IP,
                    "api.lock.example",
                    &[cloud],
                    false,
                );
                dns_lookup(
                    cap,
                    rng,
                    t + 30_000_000,
                    &hub,
                    Ipv4Addr::new(8, 8, 8, 8),
                    "api.lock.example",
                    &[cloud],
                    false,
                );
                tcp_session(
                    cap,
                    rng,
                    t + 80_000_000,
                    &hub,
                    GATEWAY_MAC,
                    cloud,
                    443,
                    2,
                    300,
                    300,
                );
                t += 30 * NS;
            }
            devices.push(truth(&hub, "lock-hub", false, &["dns-bypass"], None));
        }
        _ => unreachable!("checked by build"),
    }
}

/// Scenarios about the direction and intent of traffic (not part of `SCENARIOS`, whose
/// precision and recall are the reference): see [`build`].
pub const DIRECTION_SCENARIOS: [&str; 5] = [
    "inbound-syn-flood",
    "reflection-flood",
    "port-scan",
    "host-sweep",
    "fallback-resolver",
];

/// Write every scenario (`home`, `mirai`, `traps`) with its `.truth.json` into `dir`.
pub fn write_all(dir: &Path, seed: u64) -> std::io::Result<Vec<Truth>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for name in SCENARIOS {
        let (truth, frames) = build(name, seed).expect("known scenario");
        let path = dir.join(&truth.capture);
        if truth.capture.ends_with(".pcapng") {
            write_pcapng(&path, &frames)?;
        } else {
            write_pcap(&path, &frames)?;
        }
        std::fs::write(
            dir.join(format!("{name}.truth.json")),
            serde_json::to_vec_pretty(&truth).map_err(std::io::Error::other)?,
        )?;
        out.push(truth);
    }
    Ok(out)
}

pub const SCENARIOS: [&str; 3] = ["home", "mirai", "traps"];
