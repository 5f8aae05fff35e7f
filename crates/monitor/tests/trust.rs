//! The monitor takes no LAN device's word: forged DHCP replies, router advertisements, DNS
//! answers and MUD URLs from the wrong party change nothing (and are reported), the gateway's
//! own still work, and scans or floods sent as IPv4 fragments are still seen. Every capture is
//! built frame by frame (`etherparse`, `dhcproto`, `simple-dns`), written to a real pcap file
//! and replayed from it.

use dhcproto::v4::{self, DhcpOption, MessageType};
use dhcproto::{Encodable, Encoder};
use etherparse::{EtherType, Ethernet2Header, IpFragOffset, IpNumber, Ipv4Header, PacketBuilder};
use monitor::{replay_file, Config, Event, EventKind, Mac, Monitor, OuiTable, Output};
use scenarios::{
    dns_answer_bytes, dns_query_bytes, tcp_frame, udp_frame, write_pcap, Host, Tcp, GATEWAY_IP,
    GATEWAY_MAC, START_NS,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const NS: u64 = 1_000_000_000;
const VICTIM: Mac = Mac([0x02, 0x1a, 0x00, 0x00, 0x00, 0x50]);
const VICTIM_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 50);
/// The victim device as a frame endpoint.
const VICTIM_HOST: Host = Host {
    mac: VICTIM,
    ip: VICTIM_IP,
};
const ATTACKER: Mac = Mac([0x02, 0x1a, 0x00, 0x00, 0x00, 0x66]);
const ATTACKER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 66);
const BCAST: Mac = Mac([0xff; 6]);

/// Write the frames to a pcap file, replay it, return every output and the monitor.
fn run(config: Config, frames: Vec<(u64, Vec<u8>)>) -> (Vec<Output>, Monitor) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.pcap");
    write_pcap(&path, &frames).unwrap();
    let mut mon = Monitor::new(config, OuiTable::default());
    let mut outputs = Vec::new();
    let stats = replay_file(&path, |t, f| mon.process(t, f, &mut outputs)).unwrap();
    assert_eq!(stats.frames, frames.len() as u64);
    assert_eq!(mon.stats().malformed, 0);
    (outputs, mon)
}

fn live() -> Config {
    Config {
        gateway_macs: vec![GATEWAY_MAC],
        resolvers: vec![IpAddr::V4(GATEWAY_IP)],
        ..Config::default()
    }
}

fn events(outputs: &[Output]) -> Vec<&Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn dns_outputs(outputs: &[Output]) -> Vec<&monitor::DnsAnswer> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Dns(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn dhcp_bytes(
    opcode: v4::Opcode,
    kind: MessageType,
    client: Mac,
    yiaddr: Ipv4Addr,
    extra: Vec<DhcpOption>,
) -> Vec<u8> {
    let mut msg = v4::Message::default();
    msg.set_xid(0x5151).set_chaddr(&client.0).set_opcode(opcode);
    if opcode == v4::Opcode::BootReply {
        msg.set_yiaddr(yiaddr);
    }
    msg.opts_mut().insert(DhcpOption::MessageType(kind));
    for o in extra {
        msg.opts_mut().insert(o);
    }
    let mut buf = Vec::new();
    msg.encode(&mut Encoder::new(&mut buf)).unwrap();
    buf
}

/// A BOOTREPLY (ACK) from `server` giving `client` the address `yiaddr`, announcing `dns`.
fn dhcp_ack(
    server: Mac,
    server_ip: Ipv4Addr,
    client: Mac,
    yiaddr: Ipv4Addr,
    dns: Ipv4Addr,
) -> Vec<u8> {
    let payload = dhcp_bytes(
        v4::Opcode::BootReply,
        MessageType::Ack,
        client,
        yiaddr,
        vec![
            DhcpOption::ServerIdentifier(server_ip),
            DhcpOption::DomainNameServer(vec![dns]),
            DhcpOption::Router(vec![server_ip]),
        ],
    );
    udp_frame(
        Host {
            mac: server,
            ip: server_ip,
        },
        Host {
            mac: client,
            ip: yiaddr,
        },
        67,
        68,
        &payload,
    )
}

/// A client's DHCP message, optionally with the MUD URL option 161 (raw bytes).
fn dhcp_client(mac: Mac, kind: MessageType, mud_url: Option<&[u8]>) -> Vec<u8> {
    let mut extra = vec![DhcpOption::Hostname("cam".into())];
    if let Some(u) = mud_url {
        extra.push(DhcpOption::Unknown(v4::UnknownOption::new(
            v4::OptionCode::Unknown(161),
            u.to_vec(),
        )));
    }
    let payload = dhcp_bytes(
        v4::Opcode::BootRequest,
        kind,
        mac,
        Ipv4Addr::UNSPECIFIED,
        extra,
    );
    udp_frame(
        Host {
            mac,
            ip: Ipv4Addr::UNSPECIFIED,
        },
        Host {
            mac: BCAST,
            ip: Ipv4Addr::BROADCAST,
        },
        68,
        67,
        &payload,
    )
}

/// Something the device sends on its own: an NTP query to the internet through the gateway.
fn chatter(mac: Mac, ip: Ipv4Addr) -> Vec<u8> {
    udp_frame(
        Host { mac, ip },
        Host::internet(Ipv4Addr::new(162, 159, 200, 1)),
        123,
        123,
        &[0x23; 48],
    )
}

// ------------------------------------------------------------------------- DHCP

#[test]
fn forged_bootreply_from_a_lan_device_is_rogue_and_moves_nothing() {
    for config in [live(), Config::default()] {
        let pinned = !config.gateway_macs.is_empty();
        let t = START_NS;
        let mut frames = vec![
            // The real exchange first (so that replay also knows its DHCP server).
            (t, dhcp_client(VICTIM, MessageType::Discover, None)),
            (
                t + NS / 100,
                dhcp_ack(GATEWAY_MAC, GATEWAY_IP, VICTIM, VICTIM_IP, GATEWAY_IP),
            ),
            (t + NS, chatter(VICTIM, VICTIM_IP)),
            (t + 2 * NS, chatter(ATTACKER, ATTACKER_IP)),
        ];
        // The attacker claims the victim now has 192.168.1.200, and names itself the resolver.
        frames.push((
            t + 3 * NS,
            dhcp_ack(
                ATTACKER,
                ATTACKER_IP,
                VICTIM,
                Ipv4Addr::new(192, 168, 1, 200),
                ATTACKER_IP,
            ),
        ));
        frames.push((t + 4 * NS, chatter(ATTACKER, ATTACKER_IP)));
        let (outputs, mon) = run(config, frames);
        assert!(
            !mon.gateways().contains(&ATTACKER),
            "pinned={pinned}: {:?}",
            mon.gateways()
        );
        let attacker = mon
            .device(&ATTACKER)
            .expect("the attacker is still a monitored device");
        assert!(attacker.addrs.contains(&IpAddr::V4(ATTACKER_IP)));
        let victim = mon.device(&VICTIM).unwrap();
        assert!(
            !victim.addrs.contains(&"192.168.1.200".parse().unwrap()),
            "pinned={pinned}: the forged lease moved the victim: {:?}",
            victim.addrs
        );
        assert!(victim.addrs.contains(&IpAddr::V4(VICTIM_IP)));
        let rogue: Vec<_> = events(&outputs)
            .into_iter()
            .filter(|e| e.kind == EventKind::RogueDhcp)
            .collect();
        assert_eq!(rogue.len(), 1, "pinned={pinned}: {outputs:?}");
        assert_eq!(rogue[0].device, ATTACKER);
        assert!(rogue[0].quarantine);
        assert_eq!(rogue[0].evidence.len(), 1);
        assert_eq!(rogue[0].evidence[0].sport, 67);
        assert!(
            rogue[0].explanation.contains("as if it were your router"),
            "{}",
            rogue[0].explanation
        );
        // The gateway learns the attacker's facts before the event that quarantines it.
        let facts_at = outputs
            .iter()
            .position(|o| matches!(o, Output::Device(f) if f.mac == ATTACKER))
            .unwrap();
        let event_at = outputs
            .iter()
            .position(|o| matches!(o, Output::Event(e) if e.kind == EventKind::RogueDhcp))
            .unwrap();
        assert!(facts_at < event_at);
        assert_eq!(mon.stats().rogue_dhcp, 1);
        // No output anywhere carries the forged address for the victim.
        assert!(!outputs.iter().any(|o| matches!(o,
            Output::Device(f) if f.mac == VICTIM && f.addrs.contains(&"192.168.1.200".parse().unwrap()))));
    }
}

#[test]
fn the_gateways_own_lease_and_its_dns_servers_are_believed() {
    let dns_server = Ipv4Addr::new(192, 168, 1, 53);
    let t = START_NS;
    let leased = Ipv4Addr::new(192, 168, 1, 77);
    let frames = vec![
        (t, dhcp_client(VICTIM, MessageType::Request, None)),
        (
            t + NS / 100,
            dhcp_ack(GATEWAY_MAC, GATEWAY_IP, VICTIM, leased, dns_server),
        ),
        (
            t + 2 * NS,
            query(VICTIM, leased, dns_server, 4242, 0x1111, "cloud.example"),
        ),
        (
            t + 2 * NS + NS / 100,
            answer(
                dns_server,
                VICTIM,
                leased,
                4242,
                0x1111,
                "cloud.example",
                300,
            ),
        ),
    ];
    let config = Config {
        gateway_macs: vec![GATEWAY_MAC],
        ..Config::default()
    };
    let (outputs, mon) = run(config, frames);
    assert!(
        mon.device(&VICTIM)
            .unwrap()
            .addrs
            .contains(&IpAddr::V4(leased)),
        "{:?}",
        mon.device(&VICTIM)
    );
    assert!(events(&outputs).is_empty(), "{outputs:?}");
    let dns = dns_outputs(&outputs);
    assert_eq!(dns.len(), 1, "the DHCP-announced resolver's answer counts");
    assert_eq!(dns[0].addr, IpAddr::from([203, 0, 113, 9]));
    assert_eq!(mon.gateways(), &[GATEWAY_MAC]);
}

#[test]
fn a_configured_dhcp_server_is_allowed_and_a_rogue_dhcpv6_server_is_not() {
    let appliance = Mac([0x02, 0x1a, 0x00, 0x00, 0x00, 0x02]);
    let appliance_ip = Ipv4Addr::new(192, 168, 1, 2);
    let leased = Ipv4Addr::new(192, 168, 1, 78);
    let t = START_NS;
    // DHCPv6 Advertise (type 2) from the attacker, to the victim's link-local address.
    let advertise = [2u8, 0, 0, 1];
    let b = PacketBuilder::ethernet2(ATTACKER.0, VICTIM.0)
        .ipv6(
            "fe80::66".parse::<Ipv6Addr>().unwrap().octets(),
            "fe80::50".parse::<Ipv6Addr>().unwrap().octets(),
            64,
        )
        .udp(547, 546);
    let mut v6 = Vec::new();
    b.write(&mut v6, &advertise).unwrap();
    let frames = vec![
        (t, dhcp_client(VICTIM, MessageType::Request, None)),
        (
            t + NS / 100,
            dhcp_ack(appliance, appliance_ip, VICTIM, leased, GATEWAY_IP),
        ),
        (t + NS, chatter(ATTACKER, ATTACKER_IP)),
        (t + 2 * NS, v6),
    ];
    let config = Config {
        gateway_macs: vec![GATEWAY_MAC],
        dhcp_servers: vec![appliance],
        ..Config::default()
    };
    let (outputs, mon) = run(config, frames);
    assert!(mon
        .device(&VICTIM)
        .unwrap()
        .addrs
        .contains(&IpAddr::V4(leased)));
    assert!(
        !mon.gateways().contains(&appliance),
        "a DHCP server is not a gateway"
    );
    let evs = events(&outputs);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].kind, EventKind::RogueDhcp);
    assert_eq!(evs[0].device, ATTACKER);
    assert_eq!(evs[0].evidence[0].sport, 547);
}

// ------------------------------------------------------------------------- IPv6 prefixes

/// A router advertisement (RFC 4861 §4.2) with Prefix Information options (prefix, length,
/// flags L=0x80 A=0x40).
fn ra(src_mac: Mac, lifetime: u16, hop_limit: u8, prefixes: &[(&str, u8, u8)]) -> Vec<u8> {
    let mut body = vec![0u8; 8]; // reachable time, retrans timer
    for (p, len, flags) in prefixes {
        let mut o = vec![3u8, 4, *len, *flags];
        o.extend_from_slice(&86_400u32.to_be_bytes());
        o.extend_from_slice(&14_400u32.to_be_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&p.parse::<Ipv6Addr>().unwrap().octets());
        body.extend_from_slice(&o);
    }
    let lt = lifetime.to_be_bytes();
    let b = PacketBuilder::ethernet2(src_mac.0, [0x33, 0x33, 0, 0, 0, 1])
        .ipv6(
            "fe80::1".parse::<Ipv6Addr>().unwrap().octets(),
            "ff02::1".parse::<Ipv6Addr>().unwrap().octets(),
            hop_limit,
        )
        .icmpv6_raw(134, 0, [64, 0, lt[0], lt[1]]);
    let mut v = Vec::new();
    b.write(&mut v, &body).unwrap();
    v
}

fn tcp6(
    src_mac: Mac,
    dst_mac: Mac,
    src: &str,
    dst: &str,
    sport: u16,
    dport: u16,
    syn: bool,
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(src_mac.0, dst_mac.0)
        .ipv6(
            src.parse::<Ipv6Addr>().unwrap().octets(),
            dst.parse::<Ipv6Addr>().unwrap().octets(),
            64,
        )
        .tcp(sport, dport, 1000, 64_000);
    b = if syn { b.syn() } else { b.syn().ack(1001) };
    let mut v = Vec::new();
    b.write(&mut v, &[]).unwrap();
    v
}

const SLAAC: &str = "2001:db8:1:0:50:ff:fe00:50";

#[test]
fn gateway_router_advertisement_makes_slaac_addresses_local() {
    let t = START_NS;
    let frames = vec![
        (t, ra(GATEWAY_MAC, 1800, 255, &[("2001:db8:1::", 64, 0xc0)])),
        // The device connects out from its SLAAC address; the server answers, and the gateway
        // forwards the answer to that global address.
        (
            t + NS,
            tcp6(
                VICTIM,
                GATEWAY_MAC,
                SLAAC,
                "2001:db8:ffff::443",
                40_000,
                443,
                true,
            ),
        ),
        (
            t + NS + NS / 50,
            tcp6(
                GATEWAY_MAC,
                VICTIM,
                "2001:db8:ffff::443",
                SLAAC,
                443,
                40_000,
                false,
            ),
        ),
    ];
    // Replay (gateway learned from its RA) and live (gateway configured).
    for config in [Config::default(), live()] {
        let (outputs, mon) = run(config, frames.clone());
        assert_eq!(mon.gateways(), &[GATEWAY_MAC], "{:?}", mon.gateways());
        assert!(
            mon.device(&VICTIM).is_some(),
            "a frame to the device's global address made it a gateway"
        );
        let slaac: IpAddr = SLAAC.parse().unwrap();
        assert!(mon.device(&VICTIM).unwrap().addrs.contains(&slaac));
        assert!(outputs.iter().any(
            |o| matches!(o, Output::Device(f) if f.mac == VICTIM && f.addrs.contains(&slaac))
        ));
        let learned: Vec<_> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::LanPrefix(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(learned.len(), 1);
        assert_eq!(learned[0].prefix.to_string(), "2001:db8:1::/64");
        assert_eq!(learned[0].router, GATEWAY_MAC);
        assert_eq!(
            mon.lan_prefixes(),
            vec!["2001:db8:1::/64".parse::<ipnet::IpNet>().unwrap()]
        );
        assert!(mon.is_lan(&"2001:db8:1::99".parse().unwrap()));
        assert!(!mon.is_lan(&"2001:db8:2::99".parse().unwrap()));
        assert!(events(&outputs).is_empty(), "{outputs:?}");
    }
}

#[test]
fn configured_lan_prefix_is_local_without_an_advertisement() {
    let t = START_NS;
    let frames = vec![
        (
            t,
            tcp6(
                VICTIM,
                GATEWAY_MAC,
                SLAAC,
                "2001:db8:ffff::443",
                40_000,
                443,
                true,
            ),
        ),
        (
            t + NS / 50,
            tcp6(
                GATEWAY_MAC,
                VICTIM,
                "2001:db8:ffff::443",
                SLAAC,
                443,
                40_000,
                false,
            ),
        ),
    ];
    let config = Config {
        lan_prefixes: vec!["2001:db8:1::/64".parse().unwrap()],
        ..Config::default()
    };
    let (outputs, mon) = run(config, frames);
    assert!(mon.device(&VICTIM).is_some());
    assert!(mon
        .device(&VICTIM)
        .unwrap()
        .addrs
        .contains(&SLAAC.parse().unwrap()));
    assert!(!outputs.iter().any(|o| matches!(o, Output::LanPrefix(_))));
}

#[test]
fn router_advertisement_from_a_device_is_refused_and_reported() {
    let t = START_NS;
    let frames = vec![
        (t, chatter(ATTACKER, ATTACKER_IP)),
        // Offering itself as the default router: quarantine.
        (
            t + NS,
            ra(ATTACKER, 1800, 255, &[("2001:db8:66::", 64, 0xc0)]),
        ),
        // Routes only (router lifetime 0), as a Thread border router sends: reported only.
        (t + NS, chatter(VICTIM, VICTIM_IP)),
        (t + 2 * NS, ra(VICTIM, 0, 255, &[("fd00:7::", 64, 0x80)])),
        // Hop limit 254: no host accepts it (RFC 4861 §6.1.2), so it is not reported.
        (
            t + 3 * NS,
            ra(GATEWAY_MAC, 1800, 254, &[("2001:db8:2::", 64, 0xc0)]),
        ),
        // A frame to an address inside the refused prefix: still not local.
        (
            t + 4 * NS,
            tcp6(
                VICTIM,
                GATEWAY_MAC,
                "fe80::50",
                "2001:db8:66::1",
                40_001,
                443,
                true,
            ),
        ),
    ];
    let (outputs, mon) = run(live(), frames);
    assert!(mon.lan_prefixes().is_empty(), "{:?}", mon.lan_prefixes());
    assert!(!mon.is_lan(&"2001:db8:66::1".parse().unwrap()));
    let evs = events(&outputs);
    assert_eq!(evs.len(), 2, "{evs:?}");
    assert_eq!(evs[0].kind, EventKind::RogueRouterAdvertisement);
    assert_eq!(evs[0].device, ATTACKER);
    assert!(evs[0].quarantine, "a rogue default router is quarantined");
    assert_eq!(evs[1].kind, EventKind::RogueRouterAdvertisement);
    assert_eq!(evs[1].device, VICTIM);
    assert!(!evs[1].quarantine, "routes only: reported, not quarantined");
    assert_eq!(mon.stats().rogue_router_advertisements, 2);
    assert_eq!(mon.gateways(), &[GATEWAY_MAC]);
}

// ------------------------------------------------------------------------- DNS

fn query(mac: Mac, src: Ipv4Addr, resolver: Ipv4Addr, sport: u16, id: u16, name: &str) -> Vec<u8> {
    let bytes = dns_query_bytes(id, name);
    udp_frame(
        Host { mac, ip: src },
        Host::internet(resolver),
        sport,
        53,
        &bytes,
    )
}

fn answer(
    resolver: Ipv4Addr,
    mac: Mac,
    dst: Ipv4Addr,
    dport: u16,
    id: u16,
    name: &str,
    ttl: u32,
) -> Vec<u8> {
    let bytes = dns_answer_bytes(id, name, &[Ipv4Addr::new(203, 0, 113, 9)], ttl);
    udp_frame(
        Host::internet(resolver),
        Host { mac, ip: dst },
        53,
        dport,
        &bytes,
    )
}

#[test]
fn dns_answers_count_only_from_a_resolver_for_the_devices_own_question() {
    let t = START_NS;
    let (d, ip, gw) = (VICTIM, VICTIM_IP, GATEWAY_IP);
    let stranger = Ipv4Addr::new(198, 51, 100, 53);
    let name = "cloud.example";
    let frames = vec![
        (t, chatter(d, ip)),
        // Unsolicited: no query at all.
        (t + NS, answer(gw, d, ip, 5000, 1, name, 300)),
        // The device asks the gateway …
        (t + 2 * NS, query(d, ip, gw, 5000, 0x0101, name)),
        // … a stranger answers with the right id, name and port: foreign.
        (
            t + 2 * NS + 1000,
            answer(stranger, d, ip, 5000, 0x0101, name, 300),
        ),
        // … the resolver answers with the wrong id, the wrong name, the wrong port.
        (
            t + 2 * NS + 2000,
            answer(gw, d, ip, 5000, 0x0102, name, 300),
        ),
        (
            t + 2 * NS + 3000,
            answer(gw, d, ip, 5000, 0x0101, "evil.example", 300),
        ),
        (
            t + 2 * NS + 4000,
            answer(gw, d, ip, 5001, 0x0101, name, 300),
        ),
        // A query answered too late (after 10 s).
        (t + 3 * NS, query(d, ip, gw, 6000, 0x0202, name)),
        (t + 14 * NS, answer(gw, d, ip, 6000, 0x0202, name, 300)),
    ];
    let (outputs, mon) = run(live(), frames.clone());
    assert!(
        dns_outputs(&outputs).is_empty(),
        "{:?}",
        dns_outputs(&outputs)
    );
    assert_eq!(mon.stats().dns_answers, 0);
    assert_eq!(mon.stats().dns_answers_foreign, 1);
    assert_eq!(mon.stats().dns_answers_unsolicited, 5);
    // No event for these alone, and above all no quarantine.
    assert!(
        events(&outputs).iter().all(|e| !e.quarantine),
        "{outputs:?}"
    );

    // The right answer counts once, with its TTL capped; a replay of it does not.
    let mut frames = frames;
    frames.push((t + 20 * NS, query(d, ip, gw, 7000, 0x0303, "Cloud.Example")));
    frames.push((
        t + 20 * NS + 1000,
        answer(gw, d, ip, 7000, 0x0303, name, 2_000_000_000),
    ));
    frames.push((
        t + 20 * NS + 2000,
        answer(gw, d, ip, 7000, 0x0303, name, 300),
    ));
    let (outputs, mon) = run(live(), frames);
    let dns = dns_outputs(&outputs);
    assert_eq!(dns.len(), 1, "{dns:?}");
    assert_eq!(dns[0].device, VICTIM);
    assert_eq!(dns[0].name, "cloud.example");
    assert_eq!(dns[0].ttl_s, monitor::monitor::DEFAULT_MAX_DNS_TTL_S);
    assert_eq!(mon.stats().dns_ttl_capped, 1);
    assert_eq!(mon.stats().dns_answers_unsolicited, 6);

    // A lower configured cap applies.
    let (outputs, _) = run(
        Config {
            max_dns_ttl_s: 60,
            ..live()
        },
        vec![
            (t, query(d, ip, gw, 7000, 0x0404, name)),
            (t + 1000, answer(gw, d, ip, 7000, 0x0404, name, 300)),
        ],
    );
    assert_eq!(dns_outputs(&outputs)[0].ttl_s, 60);
}

// ------------------------------------------------------------------------- MUD URL

#[test]
fn a_changed_mud_url_is_an_event_and_the_first_one_stays() {
    let first = b"https://cam.example.com/mud/cam.json";
    let second = b"https://evil.example.net/mud/anything-goes.json";
    let t = START_NS;
    let frames = vec![
        (t, dhcp_client(VICTIM, MessageType::Discover, Some(first))),
        (
            t + 5 * NS,
            dhcp_client(VICTIM, MessageType::Request, Some(first)),
        ),
        (
            t + 10 * NS,
            dhcp_client(VICTIM, MessageType::Request, Some(second)),
        ),
        (t + 12 * NS, chatter(VICTIM, VICTIM_IP)),
    ];
    let (outputs, mon) = run(live(), frames);
    let f = mon.device(&VICTIM).unwrap();
    assert_eq!(
        f.mud_url.as_deref(),
        Some("https://cam.example.com/mud/cam.json")
    );
    assert_eq!(
        f.mud_url_changed_to.as_deref(),
        Some("https://evil.example.net/mud/anything-goes.json")
    );
    let evs = events(&outputs);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].kind, EventKind::MudUrlChanged);
    assert!(!evs[0].quarantine);
    assert!(evs[0].explanation.contains("evil.example.net"));
    // The gateway hears of the change at once.
    assert!(outputs.iter().any(|o| matches!(o,
        Output::Device(f) if f.mud_url_changed_to.is_some()
            && f.mud_url.as_deref() == Some("https://cam.example.com/mud/cam.json"))));
}

#[test]
fn a_mud_url_that_is_not_https_or_too_long_is_refused() {
    let t = START_NS;
    let long = format!("https://cam.example.com/{}", "a".repeat(300));
    // DHCPv6 option 112 can carry more than 255 bytes (its length field is 16 bits).
    let mut solicit = vec![1u8, 0, 0, 7];
    solicit.extend_from_slice(&112u16.to_be_bytes());
    solicit.extend_from_slice(&(long.len() as u16).to_be_bytes());
    solicit.extend_from_slice(long.as_bytes());
    let b = PacketBuilder::ethernet2(VICTIM.0, [0x33, 0x33, 0, 1, 0, 2])
        .ipv6(
            "fe80::50".parse::<Ipv6Addr>().unwrap().octets(),
            "ff02::1:2".parse::<Ipv6Addr>().unwrap().octets(),
            1,
        )
        .udp(546, 547);
    let mut v6 = Vec::new();
    b.write(&mut v6, &solicit).unwrap();
    let frames = vec![
        (
            t,
            dhcp_client(
                VICTIM,
                MessageType::Discover,
                Some(b"http://cam.example.com/mud/cam.json"),
            ),
        ),
        (t + 70 * NS, v6),
    ];
    let (outputs, mon) = run(live(), frames);
    assert_eq!(mon.device(&VICTIM).unwrap().mud_url, None);
    let evs = events(&outputs);
    assert_eq!(evs.len(), 2, "{evs:?}");
    assert!(evs
        .iter()
        .all(|e| e.kind == EventKind::MudUrlInvalid && !e.quarantine));
    assert!(
        evs[0].explanation.contains("https"),
        "{}",
        evs[0].explanation
    );
    assert!(
        evs[1].explanation.contains("255 bytes"),
        "{}",
        evs[1].explanation
    );
}

// ------------------------------------------------------------------------- address churn

#[test]
fn a_device_cycling_source_addresses_is_bounded() {
    let t = START_NS;
    let frames: Vec<_> = (0..2000u64)
        .map(|i| {
            let src = Ipv4Addr::new(192, 168, 2 + (i / 250) as u8, 1 + (i % 250) as u8);
            (t + i * 5_000_000, chatter(VICTIM, src))
        })
        .collect();
    let (outputs, mon) = run(live(), frames);
    let device_outputs = outputs
        .iter()
        .filter(|o| matches!(o, Output::Device(_)))
        .count();
    // 10 s of capture: one output a second at most, and only while within the budget.
    assert!(device_outputs <= 11, "{device_outputs} device outputs");
    let f = mon.device(&VICTIM).unwrap();
    assert!(f.addrs.len() <= monitor::identity::MAX_V4_ADDRS_PER_DEVICE);
    assert_eq!(
        mon.stats().addrs_refused,
        2000 - u64::from(monitor::monitor::MAX_NEW_ADDRS_PER_MINUTE)
    );
    // The last output carries the addresses the device has now.
    let last = outputs
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Device(f) => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(&last.addrs, &f.addrs);
}

// ------------------------------------------------------------------------- fragments

/// One IPv4 fragment carrying `data` at byte `offset` of the datagram's payload.
#[allow(clippy::too_many_arguments)]
fn fragment(
    src_mac: Mac,
    dst_mac: Mac,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    offset: usize,
    more: bool,
    data: &[u8],
) -> Vec<u8> {
    assert_eq!(offset % 8, 0);
    let mut ip = Ipv4Header::new(
        data.len() as u16,
        64,
        IpNumber(proto),
        src.octets(),
        dst.octets(),
    )
    .unwrap();
    ip.identification = id;
    ip.more_fragments = more;
    ip.fragment_offset = IpFragOffset::try_new((offset / 8) as u16).unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let eth = Ethernet2Header {
        source: src_mac.0,
        destination: dst_mac.0,
        ether_type: EtherType::IPV4,
    };
    let mut v = Vec::new();
    eth.write(&mut v).unwrap();
    ip.write(&mut v).unwrap();
    v.extend_from_slice(data);
    v
}

/// The transport segment of a frame `scenarios` built (Ethernet 14 + IPv4 20 bytes).
fn segment(frame: &[u8]) -> Vec<u8> {
    frame[34..].to_vec()
}

fn public(i: u64) -> Ipv4Addr {
    Ipv4Addr::new(
        100 + (i / 250) as u8 % 100,
        7,
        (i / 250) as u8,
        1 + (i % 250) as u8,
    )
}

#[test]
fn syn_scan_in_fragments_is_detected() {
    let t = START_NS;
    let mut frames = Vec::new();
    for i in 0..64u64 {
        let dst = public(i);
        let seg = segment(&tcp_frame(
            VICTIM_HOST,
            Host::internet(dst),
            Tcp::new(40_000, 23, 7 + i as u32, "S"),
            &[],
        ));
        let at = t + i * 50_000_000;
        if i % 2 == 0 {
            // nmap -f style: the TCP header cut after 8 bytes (ports and sequence number only).
            frames.push((
                at,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    dst,
                    6,
                    i as u16,
                    0,
                    true,
                    &seg[..8],
                ),
            ));
            frames.push((
                at + 1000,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    dst,
                    6,
                    i as u16,
                    8,
                    false,
                    &seg[8..],
                ),
            ));
        } else {
            // Whole header in the first fragment, payload after it.
            let mut with_payload = seg.clone();
            with_payload.extend_from_slice(&[0u8; 16]);
            frames.push((
                at,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    dst,
                    6,
                    i as u16,
                    0,
                    true,
                    &with_payload[..24],
                ),
            ));
            frames.push((
                at + 1000,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    dst,
                    6,
                    i as u16,
                    24,
                    false,
                    &with_payload[24..],
                ),
            ));
        }
    }
    let (outputs, _) = run(live(), frames);
    let kinds: Vec<_> = events(&outputs).iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::TelnetScan), "{kinds:?}");
    assert!(kinds.contains(&EventKind::Scan), "{kinds:?}");
    let scan = events(&outputs)
        .into_iter()
        .find(|e| e.kind == EventKind::TelnetScan)
        .unwrap();
    assert!(scan.quarantine);
    assert!(scan
        .evidence
        .iter()
        .all(|p| p.dport == 23 && p.sport == 40_000));
}

#[test]
fn floods_in_fragments_are_detected() {
    let t = START_NS;
    let victim_site = Ipv4Addr::new(203, 0, 113, 200);
    // Non-first fragments only (no ports anywhere): 1500 in one second.
    let later: Vec<_> = (0..1500u64)
        .map(|i| {
            (
                t + i * 600_000,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    victim_site,
                    6,
                    i as u16,
                    1480,
                    false,
                    &[0u8; 512],
                ),
            )
        })
        .collect();
    let (outputs, mon) = run(live(), later);
    let evs = events(&outputs);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].kind, EventKind::FragmentFlood);
    assert!(evs[0].quarantine);
    assert_eq!(mon.stats().fragments, 1500);

    // A UDP flood of 3000-byte datagrams, each in three fragments, to random ports.
    let mut frames = Vec::new();
    for i in 0..1200u64 {
        let dport = 1024 + ((i * 7919) % 60_000) as u16;
        let seg = segment(&udp_frame(
            VICTIM_HOST,
            Host::internet(victim_site),
            5555,
            dport,
            &[0u8; 3000],
        ));
        let at = t + i * 800_000;
        for (k, chunk) in seg.chunks(1480).enumerate() {
            let more = (k + 1) * 1480 < seg.len();
            frames.push((
                at + k as u64,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    victim_site,
                    17,
                    i as u16,
                    k * 1480,
                    more,
                    chunk,
                ),
            ));
        }
    }
    let (outputs, _) = run(live(), frames);
    let evs = events(&outputs);
    let udp = evs
        .iter()
        .find(|e| e.kind == EventKind::UdpFlood)
        .unwrap_or_else(|| panic!("{evs:?}"));
    assert!(
        udp.evidence
            .iter()
            .all(|p| p.sport == 5555 && p.dport >= 1024),
        "the evidence shows the datagrams' real ports: {:?}",
        udp.evidence
    );
    assert!(
        evs.iter().any(|e| e.kind == EventKind::FragmentFlood),
        "{evs:?}"
    );
}

#[test]
fn an_answered_stream_of_large_datagrams_is_not_a_flood() {
    let t = START_NS;
    let server = Ipv4Addr::new(198, 51, 100, 80);
    let mut frames = Vec::new();
    // The server speaks first (the stream is answered), then the device sends 1200 large
    // datagrams a second on the same flow, each in three fragments, for 2 s.
    frames.push((
        t,
        udp_frame(Host::internet(server), VICTIM_HOST, 4000, 4001, &[1; 40]),
    ));
    frames.push((
        t + 1000,
        udp_frame(VICTIM_HOST, Host::internet(server), 4001, 4000, &[1; 40]),
    ));
    frames.push((
        t + 2000,
        udp_frame(Host::internet(server), VICTIM_HOST, 4000, 4001, &[1; 40]),
    ));
    for i in 0..2400u64 {
        let seg = segment(&udp_frame(
            VICTIM_HOST,
            Host::internet(server),
            4001,
            4000,
            &[0u8; 3000],
        ));
        let at = t + NS / 10 + i * 800_000;
        for (k, chunk) in seg.chunks(1480).enumerate() {
            let more = (k + 1) * 1480 < seg.len();
            frames.push((
                at + k as u64,
                fragment(
                    VICTIM,
                    GATEWAY_MAC,
                    VICTIM_IP,
                    server,
                    17,
                    i as u16,
                    k * 1480,
                    more,
                    chunk,
                ),
            ));
        }
    }
    let (outputs, mon) = run(live(), frames);
    assert!(events(&outputs).is_empty(), "{:?}", events(&outputs));
    assert_eq!(mon.stats().fragments, 4800);
}

// ------------------------------------------------------------------------- MUD local-networks

#[test]
fn mud_local_networks_include_the_lans_global_ipv6_prefix() {
    let url = "https://cam.example.com/mud/cam.json";
    let json = format!(
        r#"{{"ietf-mud:mud": {{"mud-version": 1, "mud-url": "{url}",
            "last-update": "2026-01-01T00:00:00+00:00", "cache-validity": 48, "is-supported": true,
            "systeminfo": "camera", "from-device-policy": {{"access-lists": {{"access-list": [{{"name": "fr"}}]}}}},
            "to-device-policy": {{"access-lists": {{"access-list": [{{"name": "to"}}]}}}}}},
          "ietf-access-control-list:acls": {{"acl": [
            {{"name": "fr", "type": "ipv6-acl-type", "aces": {{"ace": [
              {{"name": "lan", "matches": {{"ietf-mud:mud": {{"local-networks": [null]}},
                 "ipv6": {{"protocol": 6}}, "tcp": {{"destination-port": {{"operator": "eq", "port": 8080}}}}}},
                 "actions": {{"forwarding": "accept"}}}}]}}}},
            {{"name": "to", "type": "ipv6-acl-type", "aces": {{"ace": []}}}}]}}}}"#
    );
    let policy = match mud::parse::parse(json.as_bytes(), mud::parse::Mode::Lenient) {
        Ok(p) => p.policy,
        Err(e) => panic!("test MUD file invalid: {}: {}", e.path, e.rule),
    };
    // The camera announces its MUD URL (DHCPv6 option 112), then connects to the NAS's
    // global address on the LAN.
    let mut solicit = vec![1u8, 0, 0, 7];
    solicit.extend_from_slice(&112u16.to_be_bytes());
    solicit.extend_from_slice(&(url.len() as u16).to_be_bytes());
    solicit.extend_from_slice(url.as_bytes());
    let b = PacketBuilder::ethernet2(VICTIM.0, [0x33, 0x33, 0, 1, 0, 2])
        .ipv6(
            "fe80::50".parse::<Ipv6Addr>().unwrap().octets(),
            "ff02::1:2".parse::<Ipv6Addr>().unwrap().octets(),
            1,
        )
        .udp(546, 547);
    let mut v6 = Vec::new();
    b.write(&mut v6, &solicit).unwrap();
    let nas = Mac([0x02, 0x1a, 0, 0, 0, 0x77]);
    let t = START_NS;
    let frames = vec![
        (t, ra(GATEWAY_MAC, 1800, 255, &[("2001:db8:1::", 64, 0xc0)])),
        (t + NS, v6),
        (
            t + 2 * NS,
            tcp6(VICTIM, nas, SLAAC, "2001:db8:1::77", 40_000, 8080, true),
        ),
    ];
    let with_policy = |c: Config| Config {
        policies: vec![policy.clone()],
        ..c
    };
    let (outputs, mon) = run(with_policy(live()), frames.clone());
    assert_eq!(
        mon.device(&VICTIM).unwrap().mud_url.as_deref(),
        Some(url),
        "{outputs:?}"
    );
    assert!(events(&outputs).is_empty(), "{:?}", events(&outputs));
    // Without the router advertisement, the NAS's global address is not the LAN's.
    let (outputs, _) = run(with_policy(live()), frames[1..].to_vec());
    let evs = events(&outputs);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].kind, EventKind::MudViolation);
}

#[test]
fn a_new_devices_first_address_is_not_held_back() {
    // DHCP from 0.0.0.0 first (the device is new, without an address), then the gateway's ACK
    // 10 ms later: the leased address reaches the gateway at once, not a second later.
    let t = START_NS;
    let leased = Ipv4Addr::new(192, 168, 1, 79);
    let frames = vec![
        (t, dhcp_client(VICTIM, MessageType::Request, None)),
        (
            t + NS / 100,
            dhcp_ack(GATEWAY_MAC, GATEWAY_IP, VICTIM, leased, GATEWAY_IP),
        ),
    ];
    let (outputs, _) = run(live(), frames);
    let facts: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Device(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(facts.len(), 2, "{facts:?}");
    assert!(facts[0].addrs.is_empty());
    assert_eq!(facts[1].addrs, vec![IpAddr::V4(leased)]);
}
