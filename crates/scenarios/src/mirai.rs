//! Mirai's lifecycle on four infected devices, as the public analyses of its source describe
//! it (Antonakakis et al., "Understanding the Mirai Botnet", USENIX Security 2017): resolve the
//! C&C through a hard-coded resolver, scan telnet with the destination address as the sequence
//! number, brute-force a victim that answered, report it to the loader, heartbeat, attack.

use rand::RngExt;
use std::net::Ipv4Addr;

use crate::exchange::dns_query_bytes;
use crate::frame::{random_public, tcp_frame, udp_frame, Host, Tcp};
use crate::{Scene, TcpSession, TruthDevice, GATEWAY_IP, NS};

/// The C&C server.
const CNC: Ipv4Addr = Ipv4Addr::new(185, 244, 25, 108);
/// The loader the bot reports working credentials to (tcp/48101).
const LOADER: Ipv4Addr = Ipv4Addr::new(185, 244, 25, 109);
/// The attacked site.
const VICTIM_SITE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 200);
/// Mirai's hard-coded resolver.
const HARD_CODED_RESOLVER: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);

/// Which attack an infected device runs after scanning.
#[derive(Clone, Copy)]
enum Attack {
    Syn,
    Udp,
    Ack,
    WaterTorture,
}

impl Attack {
    /// The event kind a correct monitor reports for it.
    fn kind(self) -> &'static str {
        match self {
            Attack::Syn => "syn-flood",
            Attack::Udp => "udp-flood",
            Attack::Ack => "ack-flood",
            Attack::WaterTorture => "dns-water-torture",
        }
    }
}

/// Four infected devices (camera, DVR, router-cam, baby monitor), booting 3 s apart, each
/// running the lifecycle and one attack.
pub(crate) fn infected_devices(scene: &mut Scene, t0: u64) {
    let attacks = [Attack::Syn, Attack::Udp, Attack::Ack, Attack::WaterTorture];
    let roles = ["ip-camera", "dvr", "router-cam", "baby-monitor"];
    for (i, (attack, role)) in attacks.into_iter().zip(roles).enumerate() {
        let n = i as u8;
        let host = Host::new([0x02, 0xca, 0x3e, 0x00, 0x00, n + 1], [192, 168, 1, 50 + n]);
        let boot = t0 + i as u64 * 3 * NS;
        scene.join(boot, host, role);
        let (first, kinds) = lifecycle(scene, host, boot + (20 + 15 * i as u64) * NS, attack);
        scene.devices.push(
            TruthDevice::benign(host, role)
                .expecting(&kinds)
                .infected(first),
        );
    }
}

/// Mirai's lifecycle on one device from `t0`; returns (first scan packet time, expected kinds).
fn lifecycle(scene: &mut Scene, dev: Host, t0: u64, attack: Attack) -> (u64, Vec<&'static str>) {
    let gw = Host::internet;
    // 1. Resolve the C&C through the hard-coded 8.8.8.8 and connect to it (tcp/23).
    scene.lookup(t0, dev, HARD_CODED_RESOLVER, "cnc.badbot.example", CNC);
    scene.tcp(t0 + 50_000_000, dev, gw(CNC), TcpSession::new(23, 1, 4, 2));
    // 2. Scan: 160 SYNs per second to random addresses, 90 % port 23 and 10 % 2323, seq = dst,
    //    no options, a fixed source port; about 1 % answer with a SYN-ACK.
    let first_scan = t0 + 2 * NS;
    let sport: u16 = scene.rng.random_range(1024..65_000);
    let mut found = Vec::new();
    let scan_end = first_scan + 60 * NS;
    let mut t = first_scan;
    while t < scan_end {
        let dst = random_public(&mut scene.rng);
        let dport = if scene.rng.random_range(0..10) == 0 {
            2323
        } else {
            23
        };
        let seq = u32::from(dst);
        let syn = Tcp::new(sport, dport, seq, "S");
        scene.cap.push(t, tcp_frame(dev, gw(dst), syn, &[]));
        if scene.rng.random_range(0..100) == 0 {
            let ss: u32 = scene.rng.random();
            let syn_ack = Tcp::new(dport, sport, ss, "SA").ack(seq + 1);
            scene
                .cap
                .push(t + 60_000_000, tcp_frame(gw(dst), dev, syn_ack, &[]));
            let rst = Tcp::new(sport, dport, seq + 1, "R");
            scene
                .cap
                .push(t + 60_200_000, tcp_frame(dev, gw(dst), rst, &[]));
            found.push((dst, dport));
        }
        t += 6_250_000;
    }
    // 3. Brute force the first victim found: ten login attempts, one connection each.
    if let Some((victim, port)) = found.first().copied() {
        let mut bt = first_scan + 5 * NS;
        for _ in 0..10 {
            bt = scene.tcp(bt, dev, gw(victim), TcpSession::new(port, 2, 12, 20)) + 500_000_000;
        }
        // 4. Report the working credentials to the loader on tcp/48101.
        scene.tcp(bt, dev, gw(LOADER), TcpSession::new(48101, 1, 40, 0));
    }
    // 5. Heartbeat to the C&C every 60 s.
    let mut hb = t0 + 60 * NS;
    while hb < t0 + 240 * NS {
        scene.tcp(hb, dev, gw(CNC), TcpSession::new(23, 1, 2, 2));
        hb += 60 * NS;
    }
    // 6. One attack, 4 s at 2500 packets per second.
    let at = t0 + 90 * NS;
    let mut kinds = vec!["mirai-scan", "telnet-scan", "scan", "dns-bypass"];
    if !found.is_empty() {
        kinds.push("brute-force");
    }
    let victim = gw(VICTIM_SITE);
    for i in 0..10_000u64 {
        let rng = &mut scene.rng;
        let frame = match attack {
            Attack::Syn => tcp_frame(
                dev,
                victim,
                Tcp::new(rng.random(), 80, rng.random(), "S"),
                &[],
            ),
            Attack::Ack => {
                let seg = Tcp::new(rng.random(), rng.random(), rng.random(), "A").ack(rng.random());
                tcp_frame(dev, victim, seg, &[0u8; 64])
            }
            Attack::Udp => udp_frame(dev, victim, rng.random(), rng.random(), &[0u8; 512]),
            Attack::WaterTorture => {
                let label: String = (0..12)
                    .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
                    .collect();
                let name = format!("{label}.victim-shop.example");
                let id: u16 = rng.random();
                let sport = rng.random_range(1024..65_000);
                udp_frame(dev, gw(GATEWAY_IP), sport, 53, &dns_query_bytes(id, &name))
            }
        };
        scene.cap.push(at + i * 400_000, frame);
        if matches!(attack, Attack::WaterTorture) && i >= 1500 {
            break; // a few hundred per second is plenty to hurt an authoritative server
        }
    }
    kinds.push(attack.kind());
    (first_scan, kinds)
}
