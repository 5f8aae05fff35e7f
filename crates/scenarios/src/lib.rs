//! Labelled capture generator: deterministic (seeded ChaCha8) captures of a home network,
//! each with its ground truth, for the monitor's and the gateway's tests, the benchmarks,
//! `gen-scenarios` and `trustgate demo`.
//!
//! **Owns**: the scenarios and their truth files, and the frame and capture-file builders they
//! are written with. **Must not touch**: anything that reads traffic; this crate depends on
//! `mud` (for [`Mac`]) and never on `monitor`, so a detector cannot lean on how the generator
//! happens to build its frames. It is `publish = false`: test fixtures, not product.
//!
//! Layout, by what it makes:
//! - [`frame`]: one Ethernet/IPv4 frame ([`Host`], [`Tcp`], [`tcp_frame`], [`udp_frame`]);
//! - [`pcap`]: the frames in time order ([`Capture`]) and the pcap/pcapng files;
//! - [`exchange`]: whole conversations (DHCP, DNS, mDNS, SSDP, NTP, TCP sessions);
//! - `household`, `mirai`, `traps`, `direction`: the stories below.
//!
//! Scenarios ([`SCENARIOS`], whose precision and recall are the monitor's reference):
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
//!
//! The same name and seed always give the same bytes (`tests/byte_identical.rs` holds the
//! digests).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod exchange;
pub mod frame;
pub mod pcap;

mod direction;
mod household;
mod mirai;
mod traps;

pub use exchange::{
    dhcp_exchange, dns_answer_bytes, dns_query_bytes, mdns_announce, ntp_exchange, ssdp_search,
    DhcpClient, TcpSession,
};
pub use frame::{multicast, random_public, tcp_frame, udp_frame, Host, Tcp};
pub use mud::Mac;
pub use pcap::{write_pcap, write_pcap_record, write_pcapng, Capture, Frames};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::Path;

/// Nanoseconds in a second: packet times are nanoseconds since the Unix epoch.
pub(crate) const NS: u64 = 1_000_000_000;

/// 2026-01-01T00:00:00Z: all scenarios start here.
pub const START_NS: u64 = 1_767_225_600 * NS;
/// Duration of every scenario.
pub const DURATION_S: u64 = 300;
/// The home router's MAC: every frame to or from the internet carries it.
pub const GATEWAY_MAC: Mac = Mac([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
/// The home router's address: DHCP server, default route and resolver.
pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// The home router as a host on the LAN.
pub const GATEWAY: Host = Host {
    mac: GATEWAY_MAC,
    ip: GATEWAY_IP,
};

/// The scenarios whose precision and recall are the monitor's reference; [`write_all`] writes
/// them.
pub const SCENARIOS: [&str; 3] = ["home", "mirai", "traps"];

/// Scenarios about the direction and intent of traffic (not part of [`SCENARIOS`]): see the
/// crate documentation.
pub const DIRECTION_SCENARIOS: [&str; 5] = [
    "inbound-syn-flood",
    "reflection-flood",
    "port-scan",
    "host-sweep",
    "fallback-resolver",
];

/// Ground truth for one device in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TruthDevice {
    /// The device's MAC.
    pub mac: Mac,
    /// What the device is ("thermostat", "ip-camera" …).
    pub role: String,
    /// Whether the device is compromised.
    pub infected: bool,
    /// Packet time of the first scan packet (infected devices), ns since the epoch.
    pub first_scan_ns: Option<u64>,
    /// Event kinds a correct monitor reports for this device.
    pub expected_kinds: Vec<String>,
    /// For benign devices: the false-positive trap it carries, if any.
    pub trap: Option<String>,
}

impl TruthDevice {
    /// A device nothing should be reported for.
    pub fn benign(host: Host, role: &str) -> TruthDevice {
        TruthDevice {
            mac: host.mac,
            role: role.into(),
            infected: false,
            first_scan_ns: None,
            expected_kinds: vec![],
            trap: None,
        }
    }

    /// A benign device carrying a false-positive trap.
    pub fn trap(host: Host, role: &str, trap: &str) -> TruthDevice {
        TruthDevice {
            trap: Some(trap.into()),
            ..TruthDevice::benign(host, role)
        }
    }

    /// The same device, for which a correct monitor reports `kinds`.
    pub fn expecting(self, kinds: &[&str]) -> TruthDevice {
        TruthDevice {
            expected_kinds: kinds.iter().map(|k| k.to_string()).collect(),
            ..self
        }
    }

    /// The same device, compromised, first scanning at `first_scan_ns`.
    pub fn infected(self, first_scan_ns: u64) -> TruthDevice {
        TruthDevice {
            infected: true,
            first_scan_ns: Some(first_scan_ns),
            ..self
        }
    }
}

/// The JSON file written beside each capture.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    /// The scenario's name.
    pub scenario: String,
    /// The seed it was generated from.
    pub seed: u64,
    /// The capture's file name (`<scenario>.pcap` or `.pcapng`).
    pub capture: String,
    /// Frames in the capture.
    pub packets: u64,
    /// The router's MAC.
    pub gateway_mac: Mac,
    /// Every device a monitor should know about.
    pub devices: Vec<TruthDevice>,
}

/// A scenario being written: the frames so far, the seeded generator every random choice is
/// drawn from (in a fixed order, so the same seed gives the same bytes), and the ground truth.
pub struct Scene {
    /// The frames so far.
    pub cap: Capture,
    /// The scenario's one random generator.
    pub rng: ChaCha8Rng,
    /// Ground truth so far.
    pub devices: Vec<TruthDevice>,
}

impl Scene {
    /// An empty scene drawing from `seed`.
    pub fn new(seed: u64) -> Scene {
        Scene {
            cap: Capture::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            devices: Vec::new(),
        }
    }
}

/// Builds one scenario; `None` for an unknown name.
pub fn build(name: &str, seed: u64) -> Option<(Truth, Frames)> {
    if !SCENARIOS.contains(&name) && !DIRECTION_SCENARIOS.contains(&name) {
        return None;
    }
    let mut scene = Scene::new(seed);
    let t0 = START_NS;
    household::background(&mut scene, t0, t0 + DURATION_S * NS);
    match name {
        "home" => {}
        "mirai" => mirai::infected_devices(&mut scene, t0),
        "traps" => traps::traps(&mut scene, t0),
        _ => direction::direction(name, &mut scene, t0),
    }
    let frames = scene.cap.sorted();
    let ext = if name == "traps" { "pcapng" } else { "pcap" };
    let truth = Truth {
        scenario: name.to_string(),
        seed,
        capture: format!("{name}.{ext}"),
        packets: frames.len() as u64,
        gateway_mac: GATEWAY_MAC,
        devices: scene.devices,
    };
    Some((truth, frames))
}

/// Writes every scenario in [`SCENARIOS`] with its `<name>.truth.json` into `dir`.
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
