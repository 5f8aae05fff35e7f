//! Every capture in `shared/data/realworld/pcap/` (Zeek's test traces: link types other than
//! Ethernet, pcapng files mixing interfaces, VLAN/QinQ/MPLS, gzip-compressed files) is either
//! analysed — frames decoded through their link layer, IP packets found where the trace has
//! them — or, when nothing in it can be decoded, says so (the CLI then exits 2).

use monitor::{replay_file_links, Config, Monitor, OuiTable, Output};
use std::path::{Path, PathBuf};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/realworld/pcap"
);

/// (file, link types read, frames, IP packets); `None` for IP: the trace has none (ARP only).
/// A frame count of 0 with `refused`: nothing in it decodes.
struct Expect {
    file: &'static str,
    links: &'static [&'static str],
    frames: u64,
    ip: Option<u64>,
    gzip: bool,
    refused: bool,
}

const fn ok(file: &'static str, links: &'static [&'static str], frames: u64, ip: u64) -> Expect {
    Expect {
        file,
        links,
        frames,
        ip: Some(ip),
        gzip: false,
        refused: false,
    }
}

const EXPECTED: &[Expect] = &[
    Expect {
        ip: None,
        ..ok(
            "zeek__arp-who-has-radiotap.pcap",
            &["802.11-radiotap"],
            2,
            0,
        )
    },
    Expect {
        ip: None,
        ..ok("zeek__arp-who-has-wlanmon.pcap", &["802.11"], 2, 0)
    },
    ok("zeek__ftp__bruteforce.pcap", &["ethernet"], 606, 606),
    Expect {
        gzip: true,
        ..ok(
            "zeek__ftp__ftp-many-port-expected.pcap.gz",
            &["ethernet"],
            1008,
            1008,
        )
    },
    ok("zeek__http-qinq-0.pcap", &["ethernet"], 14, 14),
    ok("zeek__icmp__icmp6-mld-query.pcap", &["raw-ip"], 1, 1),
    ok("zeek__icmp__icmp6-mldv2.pcap", &["raw-ip"], 5, 5),
    ok(
        "zeek__ldap__gap-data-missing.pcapng",
        &["ethernet", "linux-sll"],
        18,
        18,
    ),
    ok("zeek__ldap__issue-32.pcapng", &["linux-sll"], 6, 6),
    ok(
        "zeek__ldap__modify-request.pcapng",
        &["ethernet", "linux-sll"],
        17,
        17,
    ),
    ok("zeek__linux_dlt_sll2.pcap", &["linux-sll2"], 6, 4),
    Expect {
        ip: None,
        ..ok("zeek__linuxsll-arp.pcap", &["linux-sll"], 12, 0)
    },
    // MPLS labels are not decoded: the frames behind them count as not IP.
    ok("zeek__mixed-vlan-mpls.pcap", &["ethernet"], 47, 36),
    ok("zeek__mpls-in-vlan.pcap", &["ethernet"], 3, 1),
    Expect {
        refused: true,
        ..ok("zeek__nflog-bad-tlv-len.pcap", &["nflog"], 1, 0)
    },
    ok("zeek__nflog-http.pcap", &["nflog"], 13, 13),
    ok("zeek__pcapng-multi-interface.pcapng", &["ethernet"], 6, 6),
    Expect {
        gzip: true,
        ..ok(
            "zeek__portmapper-many-unanswered-calls.pcapng.gz",
            &["ethernet"],
            189,
            189,
        )
    },
    ok("zeek__ppp__quic-interop-retry.pcap", &["ppp"], 26, 26),
    ok(
        "zeek__quic__interop__quic-go_quic-go__zerortt.pcap",
        &["ppp"],
        104,
        104,
    ),
    ok("zeek__radiotap.pcap", &["802.11-radiotap"], 3, 3),
    ok("zeek__redis__almost-resp.pcap", &["bsd-null"], 12, 12),
    Expect {
        gzip: true,
        ..ok("zeek__ssh__kex-quadratic-1000.pcap.gz", &["raw-ip"], 11, 11)
    },
    ok("zeek__ssh__ssh-over-udp.pcap", &["bsd-null"], 2, 2),
    ok("zeek__ssh__sshguess.pcap", &["ethernet"], 431, 431),
    ok("zeek__tcp__payload-syn.pcap", &["raw-ip"], 6, 6),
    ok("zeek__tcp__payload-synack.pcap", &["raw-ip"], 6, 6),
    ok("zeek__tcp__timeout-with-pings.pcap", &["raw-ip"], 15, 15),
    ok(
        "zeek__tls__openjdk-25.0.2-zeek.org.pcap",
        &["linux-sll2"],
        6,
        6,
    ),
    ok("zeek__wlanmon.pcap", &["802.11"], 3, 3),
];

fn replay(path: &Path) -> (monitor::ReplayStats, Monitor, Vec<monitor::Event>) {
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    let stats = replay_file_links(path, |t, link, f| {
        mon.process_link(t, link, f, &mut out);
        events.extend(out.drain(..).filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        }));
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (stats, mon, events)
}

#[test]
fn every_realworld_capture_is_analysed_or_refused() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("shared/data/realworld/pcap")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 30, "the set has 30 captures");
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let x = EXPECTED
            .iter()
            .find(|x| x.file == name)
            .unwrap_or_else(|| panic!("{name}: not in the expected table"));
        let (stats, mon, events) = replay(path);
        let m = mon.stats();
        assert_eq!(stats.frames, x.frames, "{name}: frames read");
        assert_eq!(stats.skipped_linktype, 0, "{name}");
        assert_eq!(stats.link_types, x.links, "{name}: link types");
        assert_eq!(stats.compression.is_some(), x.gzip, "{name}: gzip");
        let analysed = m.ip_packets + m.not_ip;
        if x.refused {
            assert_eq!(analysed, 0, "{name}: nothing decodes");
            assert_eq!(m.malformed, x.frames, "{name}");
            continue;
        }
        assert!(analysed > 0, "{name}: analysed");
        assert_eq!(
            analysed + m.malformed,
            x.frames,
            "{name}: every frame accounted for"
        );
        match x.ip {
            Some(ip) => {
                assert_eq!(m.ip_packets, ip, "{name}: IP packets");
                assert!(m.devices > 0 || ip <= 3, "{name}: devices seen");
            }
            None => assert_eq!(m.ip_packets, 0, "{name}"),
        }
        // These are test traces of protocols, not attacks, except sshguess (SSH password
        // guessing) — the only one that must raise an event, and it must be brute force.
        if name == "zeek__ssh__sshguess.pcap" {
            assert!(
                events.iter().any(|e| e.kind.as_str() == "brute-force"),
                "{events:?}"
            );
        } else {
            assert!(events.is_empty(), "{name}: {events:?}");
        }
    }
}

#[test]
fn devices_on_links_without_macs_are_named_by_address() {
    // Raw IP: no MACs; the client is 0a:00 + its IPv4 address and the events' words name the
    // address.
    let (_, mon, _) = replay(&Path::new(DIR).join("zeek__tcp__timeout-with-pings.pcap"));
    let devices: Vec<_> = mon.devices().collect();
    assert!(!devices.is_empty());
    for d in &devices {
        let a = d.addrs.first().expect("an address");
        assert_eq!(d.mac, monitor::monitor::address_mac(a), "{d:?}");
    }
    // Linux cooked v1: the sender MAC is in the header and used.
    let (_, mon, _) = replay(&Path::new(DIR).join("zeek__ldap__issue-32.pcapng"));
    assert!(
        mon.devices()
            .any(|d| d.mac.0[..2] != [0x0a, 0x00] && !d.addrs.is_empty()),
        "{:?}",
        mon.devices().collect::<Vec<_>>()
    );
}
