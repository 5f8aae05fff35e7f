//! The benign household every scenario starts from: four devices (a thermostat and a speaker
//! announcing MUD URLs, a plug, a printer), each joining by DHCP, announcing itself over mDNS,
//! keeping time by NTP, searching by SSDP and talking TLS to its own cloud through the
//! gateway's resolver.

use rand::RngExt;
use std::net::Ipv4Addr;

use crate::exchange::{dhcp_exchange, mdns_announce, ntp_exchange, ssdp_search};
use crate::{DhcpClient, Host, Scene, TcpSession, TruthDevice, GATEWAY_IP, NS};

/// The public NTP server every household device polls.
const NTP_SERVER: Ipv4Addr = Ipv4Addr::new(162, 159, 200, 1);

/// A benign household device and its cloud.
struct Benign {
    host: Host,
    role: &'static str,
    name: &'static str,
    dhcp: DhcpClient,
    clouds: Vec<(&'static str, Ipv4Addr)>,
}

/// The household, its addresses starting after `first_octet` (MACs carry it too).
fn household(first_octet: u8) -> Vec<Benign> {
    let cloud = |n: &'static str, a: [u8; 4]| (n, Ipv4Addr::from(a));
    let dev = |i: u8, oui: [u8; 3]| {
        Host::new(
            [oui[0], oui[1], oui[2], 0x10, first_octet, i],
            [192, 168, 1, first_octet.wrapping_add(i)],
        )
    };
    let client = |hostname: &str, vendor_class: Option<&str>, mud_url: Option<&str>| DhcpClient {
        hostname: Some(hostname.into()),
        vendor_class: vendor_class.map(Into::into),
        mud_url: mud_url.map(Into::into),
    };
    vec![
        Benign {
            host: dev(1, [0xb8, 0x27, 0xeb]),
            role: "thermostat",
            name: "thermostat",
            dhcp: client(
                "thermostat",
                Some("udhcp 1.30.1"),
                Some("https://thermo.example.com/mud/thermostat.json"),
            ),
            clouds: vec![cloud("api.thermo.example.com", [203, 0, 113, 10])],
        },
        Benign {
            host: dev(2, [0x02, 0x1a, 0x11]),
            role: "smart-plug",
            name: "plug-livingroom",
            dhcp: client("plug-livingroom", None, None),
            clouds: vec![
                cloud("mqtt.plugcloud.example.net", [198, 51, 100, 20]),
                cloud("ota.plugcloud.example.net", [198, 51, 100, 21]),
            ],
        },
        Benign {
            host: dev(3, [0x02, 0x1a, 0x12]),
            role: "speaker",
            name: "kitchen-speaker",
            dhcp: client(
                "kitchen-speaker",
                Some("android-dhcp-13"),
                Some("https://audio.example.org/mud/speaker-v2.json"),
            ),
            clouds: vec![
                cloud("stream.audio.example.org", [192, 0, 2, 40]),
                cloud("time.audio.example.org", [192, 0, 2, 41]),
            ],
        },
        Benign {
            host: dev(4, [0x02, 0x1a, 0x13]),
            role: "printer",
            name: "printer",
            dhcp: client("printer", None, None),
            clouds: vec![cloud("cloudprint.example.com", [203, 0, 113, 77])],
        },
    ]
}

/// The household's traffic over `[t0, t1)`, devices starting 0.7 s apart; each is recorded as
/// benign in the ground truth.
pub(crate) fn background(scene: &mut Scene, t0: u64, t1: u64) {
    let home = household(100);
    for (i, d) in home.iter().enumerate() {
        device(scene, d, t0 + i as u64 * 700_000_000, t1);
    }
    scene
        .devices
        .extend(home.iter().map(|d| TruthDevice::benign(d.host, d.role)));
}

/// One benign device over `[t0, t1)`: joins, announces, polls NTP, opens its clouds, then keeps
/// its connections alive every ~30 s, searches SSDP every 60 s and polls NTP every 64 s.
fn device(scene: &mut Scene, d: &Benign, t0: u64, t1: u64) {
    let tls_first = TcpSession::new(443, 3, 517, 1400);
    let keep_alive = TcpSession::new(443, 2, 200, 600);
    let xid: u32 = scene.rng.random();
    dhcp_exchange(&mut scene.cap, t0, d.host, &d.dhcp, xid);
    mdns_announce(&mut scene.cap, t0 + NS / 2, d.host, d.name);
    let mut t = t0 + NS;
    ntp_exchange(&mut scene.cap, t, d.host, NTP_SERVER, 123);
    for (name, addr) in &d.clouds {
        t += scene.rng.random_range(100_000_000..900_000_000u64);
        scene.lookup(t, d.host, GATEWAY_IP, name, *addr);
        t += 40_000_000;
        t = scene.tcp(t, d.host, Host::internet(*addr), tls_first);
    }
    let mut next_tls = t + 30 * NS;
    let mut next_ssdp = t0 + 5 * NS;
    let mut next_ntp = t0 + 65 * NS;
    loop {
        let tnext = next_tls.min(next_ssdp).min(next_ntp);
        if tnext >= t1 {
            break;
        }
        if tnext == next_tls {
            let (name, addr) = d.clouds[scene.rng.random_range(0..d.clouds.len())];
            scene.lookup(tnext, d.host, GATEWAY_IP, name, addr);
            scene.tcp(tnext + 40_000_000, d.host, Host::internet(addr), keep_alive);
            next_tls += scene.rng.random_range(25 * NS..35 * NS);
        } else if tnext == next_ssdp {
            ssdp_search(&mut scene.cap, tnext, d.host);
            next_ssdp += 60 * NS;
        } else {
            ntp_exchange(&mut scene.cap, tnext, d.host, NTP_SERVER, 123);
            next_ntp += 64 * NS;
        }
    }
}

/// A LAN device that joins by DHCP at `t0` with `hostname` and talks to its `cloud` every 40 s
/// for 200 s.
pub(crate) fn lan_device(scene: &mut Scene, t0: u64, host: Host, hostname: &str, cloud: Ipv4Addr) {
    scene.join(t0, host, hostname);
    let mut t = t0 + NS;
    while t < t0 + 200 * NS {
        scene.tcp(
            t,
            host,
            Host::internet(cloud),
            TcpSession::new(443, 2, 200, 600),
        );
        t += 40 * NS;
    }
}
