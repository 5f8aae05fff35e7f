//! What a monitor must not flag: legitimate telnet to a LAN host, an NTP burst at boot, a
//! firmware download at line rate, an mDNS storm, a stream that began before the capture did,
//! and a DHCP renumbering.

use std::net::Ipv4Addr;

use crate::exchange::{mdns_announce, ntp_exchange};
use crate::frame::{tcp_frame, Host, Tcp};
use crate::{Scene, TcpSession, TruthDevice, GATEWAY_IP, NS};

/// Trap device `n` (0‥5): MAC 02:11:22:00:00:2`n`, address 192.168.1.2`n`.
fn trap_host(n: u8) -> Host {
    Host::new(
        [0x02, 0x11, 0x22, 0x00, 0x00, 0x20 + n],
        [192, 168, 1, 20 + n],
    )
}

/// Every trap, after the household's background.
pub(crate) fn traps(scene: &mut Scene, t0: u64) {
    telnet_to_lan_host(scene, t0);
    ntp_burst_at_boot(scene, t0);
    firmware_download(scene, t0);
    mdns_storm_and_old_stream(scene, t0);
    dhcp_renumbering(scene, t0);
}

/// Legitimate telnet from a laptop to the NAS's admin console: two sessions.
fn telnet_to_lan_host(scene: &mut Scene, t0: u64) {
    let (nas, laptop) = (trap_host(0), trap_host(1));
    scene.join(t0 + NS, laptop, "laptop");
    scene.join(t0 + 2 * NS, nas, "nas");
    let end = scene.tcp(t0 + 30 * NS, laptop, nas, TcpSession::new(23, 40, 3, 80));
    scene.tcp(end + 20 * NS, laptop, nas, TcpSession::new(23, 10, 3, 80));
    let devices = &mut scene.devices;
    devices.push(TruthDevice::trap(
        laptop,
        "laptop",
        "legitimate-telnet-to-lan-host",
    ));
    devices.push(TruthDevice::trap(nas, "nas", "telnet-server"));
}

/// NTP burst at boot: eight queries to four pool servers within a second.
fn ntp_burst_at_boot(scene: &mut Scene, t0: u64) {
    let clock = trap_host(2);
    scene.join(t0 + 40 * NS, clock, "wall-clock");
    for i in 0..8u64 {
        let server = Ipv4Addr::new(162, 159, 200, 1 + (i % 4) as u8);
        let t = t0 + 41 * NS + i * 110_000_000;
        ntp_exchange(&mut scene.cap, t, clock, server, 40_000 + i as u16);
    }
    scene
        .devices
        .push(TruthDevice::trap(clock, "wall-clock", "ntp-burst-at-boot"));
}

/// Firmware download: 24 000 full-size segments in 8 s, the device ACKing every second one.
fn firmware_download(scene: &mut Scene, t0: u64) {
    let cam = trap_host(3);
    let fw = Host::internet(Ipv4Addr::new(203, 0, 113, 5));
    scene.join(t0 + 3 * NS, cam, "doorbell");
    scene.lookup(
        t0 + 60 * NS,
        cam,
        GATEWAY_IP,
        "firmware.doorbell.example.com",
        fw.ip,
    );
    let t = t0 + 61 * NS;
    let (sport, mut cs, mut ss) = (45_000u16, 1000u32, 5000u32);
    let (up, down) = (
        |seq, flags| Tcp::new(sport, 443, seq, flags),
        |seq, flags| Tcp::new(443, sport, seq, flags),
    );
    let cap = &mut scene.cap;
    cap.push(t, tcp_frame(cam, fw, up(cs, "S"), &[]));
    cap.push(
        t + 20_000_000,
        tcp_frame(fw, cam, down(ss, "SA").ack(cs + 1), &[]),
    );
    cs += 1;
    ss += 1;
    cap.push(
        t + 20_100_000,
        tcp_frame(cam, fw, up(cs, "PA").ack(ss), &[0x16; 300]),
    );
    cs += 300;
    let seg = vec![0x17u8; 1400];
    for i in 0..24_000u64 {
        let ts = t + 25_000_000 + i * 333_333;
        cap.push(ts, tcp_frame(fw, cam, down(ss, "A").ack(cs), &seg));
        ss = ss.wrapping_add(1400);
        if i % 2 == 1 {
            cap.push(ts + 50_000, tcp_frame(cam, fw, up(cs, "A").ack(ss), &[]));
        }
    }
    scene
        .devices
        .push(TruthDevice::trap(cam, "doorbell", "firmware-download"));
}

/// mDNS storm: a TV re-announcing 3000 times in 3 s; and a video stream that began before the
/// capture (no handshake in the file).
fn mdns_storm_and_old_stream(scene: &mut Scene, t0: u64) {
    let tv = trap_host(4);
    scene.join(t0 + 4 * NS, tv, "living-room-tv");
    for i in 0..3000u64 {
        mdns_announce(
            &mut scene.cap,
            t0 + 100 * NS + i * NS / 1000,
            tv,
            "living-room-tv",
        );
    }
    let cdn = Host::internet(Ipv4Addr::new(198, 51, 100, 99));
    let (cs, mut ss) = (777_000u32, 999_000u32);
    for i in 0..3000u64 {
        let ts = t0 + 10_000_000 + i * 10_000_000;
        let down = Tcp::new(443, 51_000, ss, "A").ack(cs);
        scene.cap.push(ts, tcp_frame(cdn, tv, down, &[0x17; 1200]));
        ss = ss.wrapping_add(1200);
        let up = Tcp::new(51_000, 443, cs, "A").ack(ss);
        scene.cap.push(ts + 100_000, tcp_frame(tv, cdn, up, &[]));
    }
    scene.devices.push(TruthDevice::trap(
        tv,
        "tv",
        "mdns-storm-and-stream-started-before-capture",
    ));
}

/// DHCP renumbering: a hub gets a new address halfway and carries on talking to its cloud.
fn dhcp_renumbering(scene: &mut Scene, t0: u64) {
    let hub = trap_host(5);
    let hub2 = hub.at(Ipv4Addr::new(192, 168, 1, 125));
    scene.join(t0 + 5 * NS, hub, "hue-hub");
    scene.join(t0 + 150 * NS, hub2, "hue-hub");
    let cloud = Ipv4Addr::new(192, 0, 2, 88);
    for (h, start) in [(hub, 10u64), (hub2, 155)] {
        for k in 0..10u64 {
            let t = t0 + (start + k * 12) * NS;
            scene.lookup(t, h, GATEWAY_IP, "bridge.hue.example", cloud);
            let session = TcpSession::new(443, 2, 300, 300);
            scene.tcp(t + 40_000_000, h, Host::internet(cloud), session);
        }
    }
    scene
        .devices
        .push(TruthDevice::trap(hub, "hub", "dhcp-renumbering"));
}
