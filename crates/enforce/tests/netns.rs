//! Enforcement proven with real nftables in real network namespaces.
//!
//! Topology (each test builds its own and tears it down on drop):
//! ```text
//!   devA (192.168.1.2, fd00:1::2) ─lan1─┐
//!   devB (192.168.2.2, fd00:2::2) ─lan2─┤
//!   devC (192.168.3.2, fd00:3::2) ─lan3─┼─ gw ─wan─ inet (203.0.113.2, 2001:db8::2)
//!   host (192.168.4.2, fd00:4::2) ─lan4─┘  (unmanaged LAN host)
//! ```
//! Devices A and B come from manufacturer `a.example`, C from `c.example`.

mod common;

use common::*;
use enforce::{BatchFormat, Device, Enforcer, Level, Mac, NftRunner, Site};
use mud::{Action, DevicePolicy, Direction, Family, Peer, PortMatch, Rule};
use std::net::IpAddr;

const INET4: &str = "203.0.113.2";
const INET6: &str = "2001:db8::2";

struct Topo {
    gw: Netns,
    dev: Vec<Netns>, // A, B, C
    host: Netns,
    inet: Netns,
    macs: Vec<Mac>,
}

fn v4(i: usize) -> String {
    format!("192.168.{}.2", i + 1)
}
fn v6(i: usize) -> String {
    format!("fd00:{}::2", i + 1)
}

impl Topo {
    fn new() -> Topo {
        require_root();
        let gw = Netns::new("gw");
        let dev: Vec<Netns> = ["a", "b", "c"].iter().map(|r| Netns::new(r)).collect();
        let host = Netns::new("h");
        let inet = Netns::new("i");
        for (i, ns) in dev.iter().chain(std::iter::once(&host)).enumerate() {
            let lan = format!("lan{}", i + 1);
            link(ns, "eth0", &gw, &lan);
            ns.sh(&format!(
                "ip addr add {}/24 dev eth0 && ip -6 addr add {}/64 dev eth0 nodad && \
                 ip route add default via 192.168.{}.1 && ip -6 route add default via fd00:{}::1",
                v4(i),
                v6(i),
                i + 1,
                i + 1
            ));
            gw.sh(&format!(
                "ip addr add 192.168.{n}.1/24 dev {lan} && ip -6 addr add fd00:{n}::1/64 dev {lan} nodad",
                n = i + 1
            ));
        }
        link(&inet, "eth0", &gw, "wan");
        inet.sh(&format!(
            "ip addr add {INET4}/24 dev eth0 && ip -6 addr add {INET6}/64 dev eth0 nodad && \
             ip route add default via 203.0.113.1 && ip -6 route add default via 2001:db8::1"
        ));
        gw.sh(
            "ip addr add 203.0.113.1/24 dev wan && ip -6 addr add 2001:db8::1/64 dev wan nodad && \
             sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1",
        );
        let macs = dev.iter().map(|d| d.mac("eth0").parse().unwrap()).collect();
        // Resolve IPv6 neighbours on every path before any rule exists, so that a later
        // failure to connect is the firewall's doing and not neighbour discovery still running.
        {
            let _warm = listen(&inet, "tcp", 9);
            for ns in dev.iter().chain(std::iter::once(&host)) {
                for addr in [INET4, INET6] {
                    assert!(
                        reach_within(ns, "tcp", addr, 9, None, 3.0),
                        "topology broken: {addr}"
                    );
                }
            }
        }
        Topo {
            gw,
            dev,
            host,
            inet,
            macs,
        }
    }

    fn site(&self) -> Site {
        Site {
            local_networks: vec![
                "192.168.0.0/16".parse().unwrap(),
                "fd00::/8".parse().unwrap(),
            ],
            gateway: vec!["192.168.1.1".parse().unwrap(), "fd00:1::1".parse().unwrap()],
            ..Site::default()
        }
    }

    fn enforcer(&self) -> Enforcer {
        self.enforcer_with(BatchFormat::Native)
    }

    fn enforcer_with(&self, format: BatchFormat) -> Enforcer {
        Enforcer::new(
            self.site(),
            NftRunner {
                netns: Some(self.gw.name.clone()),
                format,
            },
        )
    }

    fn device(&self, i: usize, level: Level, policy: Option<DevicePolicy>) -> Device {
        Device {
            mac: self.macs[i],
            ipv4: vec![v4(i).parse().unwrap()],
            ipv6: vec![v6(i).parse().unwrap()],
            level,
            policy,
            update_hosts: vec![],
            exceptions: vec![],
        }
    }
}

fn rule(name: &str, direction: Direction, peer: Peer, proto: u8) -> Rule {
    Rule {
        name: name.into(),
        direction,
        family: Family::Mixed,
        peer,
        protocol: Some(proto),
        src_port: None,
        dst_port: None,
        icmp: None,
        eth: None,
        initiated_by: None,
        action: Action::Accept,
    }
}

fn policy(authority: &str, rules: Vec<Rule>) -> DevicePolicy {
    DevicePolicy {
        mud_url: format!("https://{authority}/device.json"),
        authority: authority.into(),
        is_supported: true,
        cache_validity_hours: 48,
        systeminfo: None,
        mfg_name: None,
        model_name: None,
        documentation: None,
        mud_signature: None,
        rules,
    }
}

/// A cloud service by name, HTTPS only, connections started by the device.
fn cloud_https(name: &str) -> Vec<Rule> {
    let mut out = rule(
        "cloud/out",
        Direction::FromDevice,
        Peer::DnsName(name.into()),
        6,
    );
    out.dst_port = Some(PortMatch::Eq(443));
    out.initiated_by = Some(Direction::FromDevice);
    let mut back = rule(
        "cloud/in",
        Direction::ToDevice,
        Peer::DnsName(name.into()),
        6,
    );
    back.src_port = Some(PortMatch::Eq(443));
    back.initiated_by = Some(Direction::FromDevice);
    vec![out, back]
}

#[test]
fn declared_policy_allows_only_what_is_declared_v4_and_v6() {
    for format in [BatchFormat::Native, BatchFormat::Json] {
        declared_policy_case(format);
    }
}

fn declared_policy_case(format: BatchFormat) {
    let t = Topo::new();
    let _l443 = listen(&t.inet, "tcp", 443);
    let _l8080 = listen(&t.inet, "tcp", 8080);
    let mut e = t.enforcer_with(format);
    let p = policy("a.example", cloud_https("cloud.a.example"));
    e.apply_all(vec![t.device(0, Level::Declared, Some(p))])
        .unwrap();
    assert!(e.verify().unwrap().is_empty());

    // Before the device resolved the name, its address is not in the set: dropped.
    assert!(!reach(&t.dev[0], "tcp", INET4, 443, None));
    // Learn from a (snooped) DNS answer, A and AAAA.
    assert!(e
        .learn_dns(&t.macs[0], "Cloud.A.Example.", INET4.parse().unwrap(), 300)
        .unwrap());
    assert!(e
        .learn_dns(&t.macs[0], "cloud.a.example", INET6.parse().unwrap(), 300)
        .unwrap());
    assert!(!e
        .learn_dns(&t.macs[0], "other.example", INET4.parse().unwrap(), 300)
        .unwrap());
    assert!(
        reach(&t.dev[0], "tcp", INET4, 443, None),
        "declared HTTPS v4"
    );
    assert!(
        reach(&t.dev[0], "tcp", INET6, 443, None),
        "declared HTTPS v6"
    );
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 8080, None),
        "undeclared port v4"
    );
    assert!(
        !reach(&t.dev[0], "tcp", INET6, 8080, None),
        "undeclared port v6"
    );
    // The unmanaged device B is untouched by A's policy.
    assert!(reach(&t.dev[1], "tcp", INET4, 8080, None));

    let counters = e.counters(&t.macs[0]).unwrap();
    let hits = |rule: &str| {
        counters
            .iter()
            .filter(|c| c.rule == rule)
            .map(|c| c.packets)
            .sum::<u64>()
    };
    assert!(
        hits("cloud/out#4") > 0 && hits("cloud/out#6") > 0,
        "{counters:?}"
    );
    assert!(hits("default-deny:declared") > 0, "{counters:?}");
}

#[test]
fn dns_entries_expire_with_their_ttl() {
    let t = Topo::new();
    let _l = listen(&t.inet, "tcp", 443);
    let mut e = t.enforcer();
    let p = policy("a.example", cloud_https("cloud.a.example"));
    e.apply_all(vec![t.device(0, Level::Declared, Some(p))])
        .unwrap();
    e.learn_dns(&t.macs[0], "cloud.a.example", INET4.parse().unwrap(), 1)
        .unwrap();
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 443, None),
        "address must leave the set after its TTL"
    );
}

#[test]
fn direction_initiated_holds_both_ways() {
    let t = Topo::new();
    let host4 = v4(3);
    // RFC 8520 §3.17, as in NIST's tcp-direction test file: the device may open connections to
    // port 800 on local networks; local hosts may open connections to the device's port 8000.
    let mut out800 = rule("dir/out800", Direction::FromDevice, Peer::LocalNetworks, 6);
    out800.dst_port = Some(PortMatch::Eq(800));
    out800.initiated_by = Some(Direction::FromDevice);
    let mut in800 = rule("dir/in800", Direction::ToDevice, Peer::LocalNetworks, 6);
    in800.src_port = Some(PortMatch::Eq(800));
    in800.initiated_by = Some(Direction::FromDevice);
    let mut in8000 = rule("dir/in8000", Direction::ToDevice, Peer::LocalNetworks, 6);
    in8000.dst_port = Some(PortMatch::Eq(8000));
    in8000.initiated_by = Some(Direction::ToDevice);
    let mut out8000 = rule("dir/out8000", Direction::FromDevice, Peer::LocalNetworks, 6);
    out8000.src_port = Some(PortMatch::Eq(8000));
    out8000.initiated_by = Some(Direction::ToDevice);
    let p = policy("a.example", vec![out800, in800, in8000, out8000]);
    let mut e = t.enforcer();
    e.apply_all(vec![t.device(0, Level::Declared, Some(p))])
        .unwrap();

    let _h800 = listen(&t.host, "tcp", 800);
    let _d8000 = listen(&t.dev[0], "tcp", 8000);
    let _d800 = listen(&t.dev[0], "tcp", 800);
    let _h8000 = listen(&t.host, "tcp", 8000);
    assert!(
        reach(&t.dev[0], "tcp", &host4, 800, None),
        "device-initiated to :800 allowed"
    );
    assert!(
        !reach(&t.host, "tcp", &v4(0), 800, Some(800)),
        "host may not open a connection to the device even from port 800"
    );
    assert!(
        reach(&t.host, "tcp", &v4(0), 8000, None),
        "host-initiated to device :8000 allowed"
    );
    assert!(
        !reach(&t.dev[0], "tcp", &host4, 8000, Some(8000)),
        "device may not open a connection from its port 8000"
    );
}

#[test]
fn local_networks_and_same_manufacturer_between_lan_devices() {
    let t = Topo::new();
    let mut e = t.enforcer();
    let mk = |authority: &str| {
        let mut out = rule("mfr/out", Direction::FromDevice, Peer::SameManufacturer, 6);
        out.dst_port = Some(PortMatch::Eq(9000));
        let mut inn = rule("mfr/in", Direction::ToDevice, Peer::SameManufacturer, 6);
        inn.dst_port = Some(PortMatch::Eq(9000));
        let mut out_r = rule(
            "mfr/out-r",
            Direction::FromDevice,
            Peer::SameManufacturer,
            6,
        );
        out_r.src_port = Some(PortMatch::Eq(9000));
        let mut in_r = rule("mfr/in-r", Direction::ToDevice, Peer::SameManufacturer, 6);
        in_r.src_port = Some(PortMatch::Eq(9000));
        let mut loc = rule("loc/out", Direction::FromDevice, Peer::LocalNetworks, 6);
        loc.dst_port = Some(PortMatch::Range(7000, 7001));
        let mut loc_r = rule("loc/in", Direction::ToDevice, Peer::LocalNetworks, 6);
        loc_r.src_port = Some(PortMatch::Range(7000, 7001));
        policy(authority, vec![out, inn, out_r, in_r, loc, loc_r])
    };
    e.apply_all(vec![
        t.device(0, Level::Declared, Some(mk("a.example"))),
        t.device(1, Level::Declared, Some(mk("a.example"))),
        t.device(2, Level::Declared, Some(mk("c.example"))),
    ])
    .unwrap();
    assert!(e.verify().unwrap().is_empty());
    let _b = listen(&t.dev[1], "tcp", 9000);
    let _c = listen(&t.dev[2], "tcp", 9000);
    let _h = listen(&t.host, "tcp", 7001);
    let _i = listen(&t.inet, "tcp", 7001);
    assert!(
        reach(&t.dev[0], "tcp", &v4(1), 9000, None),
        "A→B same manufacturer v4"
    );
    assert!(
        reach(&t.dev[0], "tcp", &v6(1), 9000, None),
        "A→B same manufacturer v6"
    );
    assert!(
        !reach(&t.dev[0], "tcp", &v4(2), 9000, None),
        "A→C other manufacturer"
    );
    assert!(
        !reach(&t.dev[2], "tcp", &v4(1), 9000, None),
        "C→B other manufacturer"
    );
    assert!(
        reach(&t.dev[0], "tcp", &v4(3), 7001, None),
        "A→LAN host, local-networks v4"
    );
    assert!(
        reach(&t.dev[0], "tcp", &v6(3), 7001, None),
        "A→LAN host, local-networks v6"
    );
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 7001, None),
        "internet is not a local network"
    );
}

#[test]
fn containment_levels_behave_as_designed() {
    let t = Topo::new();
    let _https = listen(&t.inet, "tcp", 443);
    let _http = listen(&t.inet, "tcp", 80);
    let _lan = listen(&t.host, "tcp", 443);
    let _dns = listen(&t.gw, "udp", 53);
    let _ssh = listen(&t.gw, "tcp", 22);
    let mut e = t.enforcer();

    // default: HTTPS out, nothing else, no LAN peers; DNS via the gateway.
    e.apply_all(vec![t.device(0, Level::Default, None)])
        .unwrap();
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
    assert!(reach(&t.dev[0], "tcp", INET6, 443, None));
    assert!(!reach(&t.dev[0], "tcp", INET4, 80, None));
    assert!(
        !reach(&t.dev[0], "tcp", &v4(3), 443, None),
        "no LAN peers at default"
    );
    assert!(
        reach(&t.dev[0], "udp", "192.168.1.1", 53, None),
        "DNS via gateway"
    );
    assert!(
        !reach(&t.dev[0], "tcp", "192.168.1.1", 22, None),
        "no other gateway services"
    );

    // update-only: HTTPS to the vendor's update host only.
    let p = policy("a.example", cloud_https("updates.a.example"));
    let mut d = t.device(0, Level::UpdateOnly, Some(p));
    d.update_hosts = vec!["updates.a.example".into()];
    e.replace(d).unwrap();
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 443, None),
        "not yet resolved"
    );
    e.learn_dns(&t.macs[0], "updates.a.example", INET4.parse().unwrap(), 60)
        .unwrap();
    assert!(
        reach(&t.dev[0], "tcp", INET4, 443, None),
        "update host reachable"
    );
    assert!(!reach(&t.dev[0], "tcp", INET4, 80, None));
    assert!(
        reach(&t.dev[0], "udp", "192.168.1.1", 53, None),
        "DNS via gateway"
    );

    // isolated: DHCP and DNS to the gateway only.
    e.replace(t.device(0, Level::Isolated, None)).unwrap();
    assert!(!reach(&t.dev[0], "tcp", INET4, 443, None));
    assert!(!reach(&t.dev[0], "tcp", &v4(3), 443, None));
    assert!(
        reach(&t.dev[0], "udp", "192.168.1.1", 53, None),
        "DNS still works when isolated"
    );
    assert!(!reach(&t.dev[0], "tcp", "192.168.1.1", 22, None));
    assert!(e.verify().unwrap().is_empty());
}

#[test]
fn one_device_changes_without_touching_the_others() {
    let t = Topo::new();
    let _l = listen(&t.inet, "tcp", 443);
    let mut e = t.enforcer();
    e.apply_all(vec![t.device(1, Level::Default, None)])
        .unwrap();
    for _ in 0..3 {
        assert!(reach(&t.dev[1], "tcp", INET4, 443, None));
    }
    let before: u64 = e
        .counters(&t.macs[1])
        .unwrap()
        .iter()
        .map(|c| c.packets)
        .sum();
    assert!(before > 0);

    e.add(t.device(0, Level::Default, None)).unwrap();
    e.replace(t.device(0, Level::Isolated, None)).unwrap();
    e.remove(&t.macs[0]).unwrap();
    // B's chain was never rewritten: its counters kept their values.
    let after: u64 = e
        .counters(&t.macs[1])
        .unwrap()
        .iter()
        .map(|c| c.packets)
        .sum();
    assert_eq!(before, after);
    assert!(e.verify().unwrap().is_empty());
    // A is unmanaged again: no rules apply to it.
    let _h = listen(&t.inet, "tcp", 80);
    assert!(reach(&t.dev[0], "tcp", INET4, 80, None));
    // Two devices cannot claim one address.
    let mut clash = t.device(0, Level::Default, None);
    clash.ipv4 = vec![v4(1).parse().unwrap()];
    assert!(matches!(
        e.add(clash),
        Err(enforce::EnforceError::AddressConflict { .. })
    ));
}

#[test]
fn a_device_cannot_send_from_another_devices_address() {
    let t = Topo::new();
    let _l = listen(&t.inet, "tcp", 443);
    let mut e = t.enforcer();
    e.apply_all(vec![
        t.device(0, Level::Default, None),
        t.device(1, Level::Default, None),
    ])
    .unwrap();
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
    // A claims B's address as a second address and uses it as its source.
    t.dev[0].sh(&format!("ip addr add {}/32 dev eth0", v4(1)));
    let spoofed = t.dev[0].exec(&[
        "python3",
        "-c",
        &format!(
            "import socket\ns=socket.socket()\ns.bind(('{}',0))\ns.settimeout(0.7)\n\
             try:\n  s.connect(('{INET4}',443)); print('OK')\nexcept Exception: print('FAIL')",
            v4(1)
        ),
    ]);
    assert_eq!(String::from_utf8_lossy(&spoofed.stdout).trim(), "FAIL");
    let c = e.counters(&t.macs[0]).unwrap();
    assert!(
        c.iter().any(|c| c.rule == "anti-spoof#4" && c.packets > 0),
        "{c:?}"
    );
    // Its own address still works.
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
}

#[test]
fn failed_apply_leaves_previous_ruleset_intact() {
    let t = Topo::new();
    let _l = listen(&t.inet, "tcp", 443);
    let _h = listen(&t.inet, "tcp", 80);
    let mut e = t.enforcer();
    e.apply_all(vec![t.device(0, Level::Default, None)])
        .unwrap();
    let listing_before = NftRunner {
        netns: Some(t.gw.name.clone()),
        format: BatchFormat::Native,
    }
    .list_table("trustgate")
    .unwrap();

    // A batch that nft must refuse half-way: the second device's map entry jumps to a chain that
    // does not exist. Everything before it in the same transaction must be rolled back too.
    let c = enforce::Compiler::new(e.site());
    let mut bad = c.add_device(&t.device(1, Level::Isolated, None)).unwrap();
    bad.add(enforce::nft::Object::Elements {
        set: "out_mac".into(),
        elems: vec![enforce::nft::Elem {
            key: enforce::nft::Val::Lit(t.macs[2].to_string()),
            verdict: Some(enforce::nft::Verdict::Jump("no_such_chain".into())),
            timeout_s: None,
        }],
    });
    let runner = NftRunner {
        netns: Some(t.gw.name.clone()),
        format: BatchFormat::Native,
    };
    let err = runner.apply(&bad).unwrap_err();
    assert!(matches!(err, enforce::EnforceError::Rejected(_)), "{err}");

    // A full re-apply that fails (two devices, one address) is refused before nft runs.
    let mut clash = t.device(1, Level::Default, None);
    clash.ipv4 = vec![v4(0).parse().unwrap()];
    assert!(e
        .apply_all(vec![t.device(0, Level::Isolated, None), clash])
        .is_err());

    let listing_after = runner.list_table("trustgate").unwrap();
    let strip = |v: &serde_json::Value| enforce::Summary::of_listing(v).unwrap().0;
    assert_eq!(strip(&listing_before), strip(&listing_after));
    assert!(e.verify().unwrap().is_empty());
    // And the previous policy still holds.
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
    assert!(!reach(&t.dev[0], "tcp", INET4, 80, None));
    assert!(
        reach(&t.dev[1], "tcp", INET4, 80, None),
        "B never became managed"
    );
}

#[test]
fn read_back_detects_drift() {
    let t = Topo::new();
    let mut e = t.enforcer();
    e.apply_all(vec![
        t.device(0, Level::Default, None),
        t.device(1, Level::Isolated, None),
    ])
    .unwrap();
    assert!(e.verify().unwrap().is_empty());
    // Someone flushes a device chain behind our back.
    let chain = format!("{}_out", enforce::nft_id(&t.macs[1]));
    t.gw.exec(&["nft", "flush", "chain", "inet", "trustgate", &chain]);
    let drift = e.verify().unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0].what, format!("chain {chain}"));
    // And a map entry pointing elsewhere.
    t.gw.exec(&[
        "nft",
        "delete",
        "element",
        "inet",
        "trustgate",
        "in_4",
        &format!("{{ {} }}", v4(0)),
    ]);
    let drift = e.verify().unwrap();
    assert!(drift
        .iter()
        .any(|d| d.what == format!("map in_4 entry {}", v4(0)) && d.actual == "absent"));
    let _ = IpAddr::from([0, 0, 0, 0]);
}

/// The usual home router: LAN devices on one bridge, one subnet. Frames between them are
/// bridged, not routed, and must still meet each device's policy.
#[test]
fn bridged_lan_devices_are_contained() {
    require_root();
    let gw = Netns::new("bgw");
    let devs: Vec<Netns> = ["ba", "bb", "bc"].iter().map(|r| Netns::new(r)).collect();
    // Start from bridge netfilter switched off (many distributions ship it off): containment
    // on the bridge must not depend on the host happening to have it on.
    gw.sh("sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0");
    gw.sh("ip link add br0 type bridge && ip link set br0 up && ip addr add 192.168.10.1/24 dev br0 && ip -6 addr add fd00:10::1/64 dev br0 nodad");
    let addr4 = |i: usize| format!("192.168.10.{}", i + 2);
    let addr6 = |i: usize| format!("fd00:10::{}", i + 2);
    for (i, d) in devs.iter().enumerate() {
        let port = format!("lan{}", i + 1);
        link(d, "eth0", &gw, &port);
        gw.sh(&format!("ip link set {port} master br0"));
        d.sh(&format!(
            "ip addr add {}/24 dev eth0 && ip -6 addr add {}/64 dev eth0 nodad",
            addr4(i),
            addr6(i)
        ));
    }
    let macs: Vec<Mac> = devs
        .iter()
        .map(|d| d.mac("eth0").parse().unwrap())
        .collect();
    let _b = listen(&devs[1], "tcp", 9000);
    let _c = listen(&devs[2], "tcp", 9000);
    // Before any policy, the bridge forwards everything (and warms neighbour caches).
    assert!(reach_within(&devs[0], "tcp", &addr4(2), 9000, None, 3.0));
    assert!(reach_within(&devs[0], "tcp", &addr6(1), 9000, None, 3.0));

    let mfr = |authority: &str| {
        let mut out = rule("mfr/out", Direction::FromDevice, Peer::SameManufacturer, 6);
        out.dst_port = Some(PortMatch::Eq(9000));
        out.initiated_by = Some(Direction::FromDevice);
        let mut back = rule("mfr/back", Direction::ToDevice, Peer::SameManufacturer, 6);
        back.src_port = Some(PortMatch::Eq(9000));
        back.initiated_by = Some(Direction::FromDevice);
        let mut inn = rule("mfr/in", Direction::ToDevice, Peer::SameManufacturer, 6);
        inn.dst_port = Some(PortMatch::Eq(9000));
        inn.initiated_by = Some(Direction::ToDevice);
        let mut reply = rule(
            "mfr/reply",
            Direction::FromDevice,
            Peer::SameManufacturer,
            6,
        );
        reply.src_port = Some(PortMatch::Eq(9000));
        reply.initiated_by = Some(Direction::ToDevice);
        policy(authority, vec![out, back, inn, reply])
    };
    let dev = |i: usize, level: Level, p: Option<DevicePolicy>| Device {
        mac: macs[i],
        ipv4: vec![addr4(i).parse().unwrap()],
        ipv6: vec![addr6(i).parse().unwrap()],
        level,
        policy: p,
        update_hosts: vec![],
        exceptions: vec![],
    };
    let site = Site {
        local_networks: vec![
            "192.168.10.0/24".parse().unwrap(),
            "fd00:10::/64".parse().unwrap(),
        ],
        gateway: vec!["192.168.10.1".parse().unwrap()],
        bridged_lan: true,
        ..Site::default()
    };
    let mut e = Enforcer::new(
        site,
        NftRunner {
            netns: Some(gw.name.clone()),
            format: BatchFormat::Native,
        },
    );
    e.apply_all(vec![
        dev(0, Level::Declared, Some(mfr("a.example"))),
        dev(1, Level::Declared, Some(mfr("a.example"))),
        dev(2, Level::Declared, Some(mfr("c.example"))),
    ])
    .unwrap();
    assert!(
        reach(&devs[0], "tcp", &addr4(1), 9000, None),
        "A→B same manufacturer over the bridge"
    );
    assert!(
        reach(&devs[0], "tcp", &addr6(1), 9000, None),
        "A→B v6 over the bridge"
    );
    assert!(
        !reach(&devs[0], "tcp", &addr4(2), 9000, None),
        "A→C other manufacturer blocked on the bridge"
    );
    e.replace(dev(0, Level::Isolated, None)).unwrap();
    assert!(
        !reach(&devs[0], "tcp", &addr4(1), 9000, None),
        "isolated A cannot reach its LAN peer"
    );
    let c = e.counters(&macs[0]).unwrap();
    assert!(
        c.iter()
            .any(|c| c.rule == "default-deny:isolated" && c.packets > 0),
        "{c:?}"
    );
}

/// Fail closed: with the LAN interfaces known, a LAN host the enforcer does not manage reaches
/// neither the internet nor a managed device, while a managed device at `default` still gets
/// out; once the host is managed it gets its level's traffic.
#[test]
fn unmanaged_lan_sources_are_dropped_when_lan_interfaces_are_known() {
    let t = Topo::new();
    let _l443 = listen(&t.inet, "tcp", 443);
    let _dev_l = listen(&t.dev[0], "tcp", 9000);
    let mut site = t.site();
    site.lan_interfaces = (1..=4).map(|i| format!("lan{i}")).collect();
    let mut e = Enforcer::new(
        site,
        NftRunner {
            netns: Some(t.gw.name.clone()),
            format: BatchFormat::Native,
        },
    );
    e.apply_all(vec![t.device(0, Level::Default, None)])
        .unwrap();
    assert!(e.verify().unwrap().is_empty());
    assert!(
        reach(&t.dev[0], "tcp", INET4, 443, None),
        "managed A at default"
    );
    for ns in [&t.dev[1], &t.host] {
        assert!(
            !reach(ns, "tcp", INET4, 443, None),
            "unmanaged reached the internet"
        );
        assert!(
            !reach(ns, "tcp", INET6, 443, None),
            "unmanaged reached the internet (v6)"
        );
        assert!(
            !reach(ns, "tcp", &v4(0), 9000, None),
            "unmanaged reached device A"
        );
    }
    // Managed through the same batch path the gateway uses: it gets `default`.
    let out = e.apply_changes(vec![t.device(1, Level::Default, None)]);
    assert!(out.iter().all(|(_, r)| r.is_ok()), "{out:?}");
    assert!(
        reach(&t.dev[1], "tcp", INET4, 443, None),
        "B at default after being managed"
    );
    assert!(
        !reach(&t.host, "tcp", INET4, 443, None),
        "host still unmanaged"
    );
    let listing = t.gw.sh("nft list table inet trustgate");
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(text.contains("catch-all:unmanaged-lan-source"), "{text}");
    // A bad interface name is refused before anything reaches nft.
    let mut bad = t.site();
    bad.lan_interfaces = vec!["lan1\"; flush ruleset".into()];
    let mut e2 = Enforcer::new(
        bad,
        NftRunner {
            netns: Some(t.gw.name.clone()),
            format: BatchFormat::Native,
        },
    );
    assert!(e2.apply_all(vec![]).is_err());
}

#[test]
fn trusted_level_reaches_the_lan_and_the_internet_and_only_replies_come_in() {
    let t = Topo::new();
    let _https = listen(&t.inet, "tcp", 443);
    let _mail = listen(&t.inet, "tcp", 587);
    let _printer = listen(&t.host, "tcp", 631);
    let _laptop_ssh = listen(&t.dev[0], "tcp", 22);
    let _iot_telnet = listen(&t.dev[1], "tcp", 23);
    let mut e = t.enforcer();
    e.apply_all(vec![
        t.device(0, Level::Trusted, None),
        t.device(1, Level::Default, None),
    ])
    .unwrap();
    assert!(e.verify().unwrap().is_empty());
    // The laptop: any port on the internet, any LAN peer (the printer), both families.
    assert!(reach(&t.dev[0], "tcp", INET4, 587, None), "mail out");
    assert!(reach(&t.dev[0], "tcp", INET6, 587, None), "mail out v6");
    assert!(reach(&t.dev[0], "tcp", &v4(3), 631, None), "printing");
    // LAN peers may reach it (the unmanaged host), the internet may not open connections to it.
    assert!(reach(&t.host, "tcp", &v4(0), 22, None), "ssh from the LAN");
    assert!(
        !reach(&t.inet, "tcp", &v4(0), 22, None),
        "no unsolicited connection from the internet"
    );
    // The IoT device beside it stays contained: it cannot reach the laptop (its own policy has
    // no LAN peers) and the laptop cannot get past its to-device policy either.
    assert!(!reach(&t.dev[1], "tcp", &v4(0), 22, None));
    assert!(!reach(&t.dev[0], "tcp", &v4(1), 23, None));
    assert!(!reach(&t.dev[1], "tcp", INET4, 587, None));
    // Anti-spoofing still holds for a trusted device.
    let spoof = t.dev[0].sh(&format!(
        "ip addr add 192.168.1.77/24 dev eth0 && python3 -c \"
import socket
s = socket.socket(); s.settimeout(1.5); s.bind(('192.168.1.77', 0))
try:
    s.connect(('{INET4}', 443)); print('OK')
except Exception: print('FAIL')\""
    ));
    assert_eq!(String::from_utf8_lossy(&spoof.stdout).trim(), "FAIL");
}

#[test]
fn a_level_change_keeps_the_dns_answers_the_device_already_received() {
    let t = Topo::new();
    let _l443 = listen(&t.inet, "tcp", 443);
    let mut e = t.enforcer();
    let p = policy("a.example", cloud_https("cloud.a.example"));
    e.apply_all(vec![t.device(0, Level::Declared, Some(p.clone()))])
        .unwrap();
    e.learn_dns(&t.macs[0], "cloud.a.example", INET4.parse().unwrap(), 300)
        .unwrap();
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None));
    // Quarantined: isolated has no DNS sets; an answer received meanwhile is remembered too.
    e.replace(t.device(0, Level::Isolated, None)).unwrap();
    assert!(!reach(&t.dev[0], "tcp", INET4, 443, None));
    e.learn_dns(&t.macs[0], "cloud.a.example", INET6.parse().unwrap(), 300)
        .unwrap();
    // Released: both answers are back in the new sets at once, without a new DNS query.
    e.replace(t.device(0, Level::Declared, Some(p))).unwrap();
    assert!(reach(&t.dev[0], "tcp", INET4, 443, None), "v4 answer kept");
    assert!(reach(&t.dev[0], "tcp", INET6, 443, None), "v6 answer kept");
    assert!(e.verify().unwrap().is_empty());
}

/// An owner exception opens exactly one more destination (by address, or by a name learned
/// from the device's own DNS answers), replies included, and nothing else; taking it away
/// closes it again. The counters say what each rule let through and what was blocked.
#[test]
fn owner_exception_opens_one_destination_and_counters_show_what_was_blocked() {
    let t = Topo::new();
    let _l8080 = listen(&t.inet, "tcp", 8080);
    let _l8443 = listen(&t.inet, "tcp", 8443);
    let mut e = t.enforcer();
    let plain = t.device(0, Level::Default, None);
    e.apply_all(vec![plain.clone()]).unwrap();
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 8080, None),
        "default: no 8080"
    );

    let mut allowed = plain.clone();
    allowed.exceptions = vec![
        format!("{INET4} tcp/8080").parse().unwrap(),
        "Weather.Example.com tcp/8443".parse().unwrap(),
    ];
    e.replace(allowed.clone()).unwrap();
    assert!(e.verify().unwrap().is_empty());
    assert!(
        reach(&t.dev[0], "tcp", INET4, 8080, None),
        "exception by address"
    );
    assert!(
        !reach(&t.dev[0], "tcp", INET6, 8080, None),
        "v4 exception only"
    );
    assert!(
        !reach(&t.dev[0], "tcp", INET4, 8443, None),
        "name not resolved yet"
    );
    assert!(e
        .learn_dns(
            &t.macs[0],
            "weather.example.com.",
            INET4.parse().unwrap(),
            300
        )
        .unwrap());
    assert!(
        reach(&t.dev[0], "tcp", INET4, 8443, None),
        "exception by name"
    );
    // The destination may not open connections to the device.
    let _dev_listens = listen(&t.dev[0], "tcp", 8080);
    assert!(
        !reach(&t.inet, "tcp", &v4(0), 8080, None),
        "inbound stays closed"
    );

    let all = e.all_counters().unwrap();
    let mine = &all[&t.macs[0]];
    let packets = |f: &dyn Fn(&enforce::RuleCounter) -> bool| {
        mine.iter().filter(|c| f(c)).map(|c| c.packets).sum::<u64>()
    };
    assert!(
        packets(&|c| c.rule == format!("owner-exception:{INET4}_tcp/8080#4") && !c.dropped) > 0,
        "{mine:?}"
    );
    assert!(
        packets(&|c| c.rule.starts_with("default-deny") && c.dropped) > 0,
        "{mine:?}"
    );

    e.replace(plain).unwrap();
    assert!(!reach(&t.dev[0], "tcp", INET4, 8080, None), "taken away");
    assert!(e.verify().unwrap().is_empty());
}
