//! Scenarios about direction and intent: traffic from the internet arrives through the router
//! (frames from the gateway's MAC) and is an attack *on* the LAN; scans are scans, not floods;
//! a fallback public resolver is not malware.

use rand::RngExt;
use std::net::Ipv4Addr;

use crate::frame::{random_public, tcp_frame, udp_frame, Host, Tcp};
use crate::household::lan_device;
use crate::{Scene, TcpSession, TruthDevice, GATEWAY_IP, NS};

/// A device of these stories: MAC 02:d1:4e:00:00:`i`, address 192.168.1.(60 + `i`).
fn host(i: u8) -> Host {
    Host::new([0x02, 0xd1, 0x4e, 0x00, 0x00, i], [192, 168, 1, 60 + i])
}

/// One story of [`crate::DIRECTION_SCENARIOS`], after the household's background.
pub(crate) fn direction(name: &str, scene: &mut Scene, t0: u64) {
    match name {
        "inbound-syn-flood" => inbound_syn_flood(scene, t0),
        "reflection-flood" => reflection_flood(scene, t0),
        "port-scan" => port_scan(scene, t0),
        "host-sweep" => host_sweep(scene, t0),
        "fallback-resolver" => fallback_resolver(scene, t0),
        _ => unreachable!("checked by build"),
    }
}

/// Spoofed SYNs from random internet addresses to a camera's web port, 2500 per second for
/// 2 s, starting before anything else (the router is not known yet); the camera answers each
/// with a SYN-ACK.
fn inbound_syn_flood(scene: &mut Scene, t0: u64) {
    let cam = host(1);
    let start = t0 - NS / 2;
    for i in 0..5_000u64 {
        let t = start + i * 400_000;
        let rng = &mut scene.rng;
        let src = Host::internet(random_public(rng));
        let sport: u16 = rng.random_range(1024..65_535);
        let seq: u32 = rng.random();
        scene
            .cap
            .push(t, tcp_frame(src, cam, Tcp::new(sport, 80, seq, "S"), &[]));
        let syn_ack = Tcp::new(80, sport, rng.random(), "SA").ack(seq.wrapping_add(1));
        scene
            .cap
            .push(t + 50_000, tcp_frame(cam, src, syn_ack, &[]));
    }
    lan_device(
        scene,
        t0 + NS,
        cam,
        "camera",
        Ipv4Addr::new(203, 0, 113, 30),
    );
    let truth = TruthDevice::benign(cam, "camera").expecting(&["inbound-flood"]);
    scene.devices.push(truth);
}

/// DNS and NTP answers nobody asked for, from 400 open servers, 2000 per second for 2 s, to a
/// games console's port 27015 (the spoofed requests' source).
fn reflection_flood(scene: &mut Scene, t0: u64) {
    let console = host(2);
    lan_device(
        scene,
        t0,
        console,
        "console",
        Ipv4Addr::new(198, 51, 100, 40),
    );
    let servers: Vec<Ipv4Addr> = (0..400).map(|_| random_public(&mut scene.rng)).collect();
    let start = t0 + 60 * NS;
    for i in 0..4_000u64 {
        let sport = if i % 2 == 0 { 53 } else { 123 };
        let server = Host::internet(servers[i as usize % servers.len()]);
        let frame = udp_frame(server, console, sport, 27015, &[0x5a; 480]);
        scene.cap.push(start + i * 500_000, frame);
    }
    let truth = TruthDevice::benign(console, "console").expecting(&["reflection-flood"]);
    scene.devices.push(truth);
}

/// nmap -sS from the internet against the NAS's first 1000 ports in 2 s (one source port, as
/// nmap does); the NAS answers RST, or SYN-ACK on 22, 80, 443. And a LAN camera, compromised,
/// doing the same to the NAS from inside.
fn port_scan(scene: &mut Scene, t0: u64) {
    let nas = host(3);
    let cam = host(4);
    lan_device(scene, t0, nas, "nas", Ipv4Addr::new(203, 0, 113, 50));
    lan_device(
        scene,
        t0 + NS,
        cam,
        "camera",
        Ipv4Addr::new(203, 0, 113, 51),
    );
    let scanner = Host::internet(Ipv4Addr::new(198, 51, 100, 66));
    let inside = t0 + 100 * NS;
    for (from, at) in [(scanner, t0 + 60 * NS), (cam, inside)] {
        for port in 1..=1000u16 {
            let t = at + port as u64 * 2_000_000;
            let seq: u32 = scene.rng.random();
            let syn = Tcp::new(45_123, port, seq, "S");
            scene.cap.push(t, tcp_frame(from, nas, syn, &[]));
            let open = matches!(port, 22 | 80 | 443);
            let answer = if open {
                Tcp::new(port, 45_123, scene.rng.random(), "SA")
            } else {
                Tcp::new(port, 45_123, 0, "RA")
            };
            let answer = answer.ack(seq.wrapping_add(1));
            scene
                .cap
                .push(t + 300_000, tcp_frame(nas, from, answer, &[]));
        }
    }
    let devices = &mut scene.devices;
    devices.push(TruthDevice::benign(nas, "nas").expecting(&["inbound-scan"]));
    devices.push(
        TruthDevice::benign(cam, "camera")
            .expecting(&["port-scan"])
            .infected(inside + 2_000_000),
    );
}

/// A compromised DVR sweeping port 80 of 4000 internet addresses at 2000 SYNs per second: a
/// scan, not a flood. A few answer.
fn host_sweep(scene: &mut Scene, t0: u64) {
    let dvr = host(5);
    lan_device(scene, t0, dvr, "dvr", Ipv4Addr::new(203, 0, 113, 70));
    let start = t0 + 40 * NS;
    for i in 0..4_000u64 {
        let t = start + i * 500_000;
        let rng = &mut scene.rng;
        let dst = Host::internet(random_public(rng));
        let sport: u16 = rng.random_range(32_768..61_000);
        let mut seq: u32 = rng.random();
        if seq == u32::from(dst.ip) {
            seq ^= 1;
        }
        scene
            .cap
            .push(t, tcp_frame(dvr, dst, Tcp::new(sport, 80, seq, "S"), &[]));
        if i % 50 == 0 {
            let syn_ack = Tcp::new(80, sport, scene.rng.random(), "SA").ack(seq.wrapping_add(1));
            scene
                .cap
                .push(t + 30_000_000, tcp_frame(dst, dvr, syn_ack, &[]));
        }
    }
    let truth = TruthDevice::benign(dvr, "dvr")
        .expecting(&["scan"])
        .infected(start);
    scene.devices.push(truth);
}

/// A smart-lock hub asks the router, gets its answer, then asks 8.8.8.8 the same name (its
/// fallback resolver) and connects: every 30 s.
fn fallback_resolver(scene: &mut Scene, t0: u64) {
    let hub = host(6);
    scene.join(t0, hub, "lock-hub");
    let cloud = Ipv4Addr::new(203, 0, 113, 90);
    let mut t = t0 + 2 * NS;
    while t < t0 + 280 * NS {
        scene.lookup(t, hub, GATEWAY_IP, "api.lock.example", cloud);
        scene.lookup(
            t + 30_000_000,
            hub,
            Ipv4Addr::new(8, 8, 8, 8),
            "api.lock.example",
            cloud,
        );
        let session = TcpSession::new(443, 2, 300, 300);
        scene.tcp(t + 80_000_000, hub, Host::internet(cloud), session);
        t += 30 * NS;
    }
    let truth = TruthDevice::benign(hub, "lock-hub").expecting(&["dns-bypass"]);
    scene.devices.push(truth);
}
