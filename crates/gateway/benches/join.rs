//! Join benchmark: 1000 devices join within one second, each announcing its own MUD URL in
//! a real DHCP exchange (option 161). The frames go through the monitor into the gateway as
//! in the live loop; the MUD manager fetches every file over HTTPS from a server on loopback
//! (rustls, throwaway CA; Cisco's Luminaire file with its `mud-url` set, signed by a vendor
//! certificate naming the host) and verifies it; the gateway contains each device in real
//! nftables, in a private network namespace. Measured: from the first join until all 1000
//! are at `declared` in the kernel, and the process's memory. Anchor in the same run: the
//! 1000 files fetched by `curl` in one process (one TLS connection, reused), nothing checked.
//!
//! Needs root (the namespace) and curl. Run: `cargo bench -p gateway --bench join`.

use gateway::{Gateway, GatewayConfig};
use monitor::{Monitor, OuiTable, Output};
use scenarios::{dhcp_exchange, Capture, DhcpClient, Host};
use std::process::Command;
use std::time::{Duration, Instant};

const DEVICES: u32 = 1000;
const NS: u64 = 1_000_000_000;

struct Netns(String);
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// VmRSS and VmHWM of this process, in MB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1000.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

fn luminaire_for(url: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mud/cisco/Luminaire_150.json"
    );
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("shared MUD corpus")).unwrap();
    let m = v["ietf-mud:mud"].as_object_mut().unwrap();
    m.insert("mud-url".into(), url.into());
    m.remove("mud-signature");
    serde_json::to_vec_pretty(&v).unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("the join benchmark needs root (it creates a network namespace)");
        std::process::exit(2);
    }
    let ns = Netns(format!("tgjoin{}", std::process::id()));
    assert!(Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap()
        .success());

    // The vendor's HTTPS host: 1000 signed files.
    let files = tempfile::tempdir().unwrap();
    let tls = manager::serve::throwaway_tls(&["localhost"]).unwrap();
    let server = manager::serve::serve_dir(
        files.path(),
        "127.0.0.1:0".parse().unwrap(),
        &tls.cert_pem,
        &tls.key_pem,
    )
    .unwrap();
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let urls: Vec<String> = (0..DEVICES)
        .map(|i| format!("https://localhost:{}/dev{i}.json", server.addr.port()))
        .collect();
    for (i, url) in urls.iter().enumerate() {
        let body = luminaire_for(url);
        let sig =
            mud::signature::sign_detached(&body, &pki.signer_key_pem, &pki.signer_cert_pem, None)
                .unwrap();
        std::fs::write(files.path().join(format!("dev{i}.json")), &body).unwrap();
        std::fs::write(files.path().join(format!("dev{i}.p7s")), sig).unwrap();
    }

    // 1000 DHCP joins spread over one second.
    let mut cap = Capture::new();
    let t0 = wall_ns();
    for i in 0..DEVICES {
        let b = i.to_be_bytes();
        let host = Host::new(
            [0x02, 0x4a, 0x00, b[1], b[2], b[3]],
            [10, 20 + (i / 250) as u8, 0, 1 + (i % 250) as u8],
        );
        let client = DhcpClient {
            hostname: Some(format!("lamp-{i}")),
            vendor_class: None,
            mud_url: Some(urls[i as usize].clone()),
        };
        dhcp_exchange(
            &mut cap,
            u64::from(i) * NS / u64::from(DEVICES),
            host,
            &client,
            i,
        );
    }
    let frames = cap.sorted();

    let state = tempfile::tempdir().unwrap();
    let mut m = manager::ManagerConfig::new(state.path().to_path_buf());
    m.anchors = Some(mud::signature::TrustAnchors::from_pem(&pki.ca_cert_pem).unwrap());
    m.tls_roots_pem = vec![tls.ca_pem.clone().into_bytes()];
    m.builtin_roots = false;
    let site = enforce::Site {
        gateway: vec!["10.20.0.254".parse().unwrap()],
        ..enforce::Site::default()
    };
    let cfg = GatewayConfig {
        site,
        nft: enforce::NftRunner {
            netns: Some(ns.0.clone()),
            format: enforce::BatchFormat::Native,
        },
        apply: true,
        dry_run: false,
        quarantine_ttl_s: 3600,
        state_dir: state.path().to_path_buf(),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: Some(m),
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    };
    let mut mon = Monitor::new(
        monitor::Config {
            gateway_macs: vec![scenarios::GATEWAY_MAC],
            ..monitor::Config::default()
        },
        OuiTable::default(),
    );
    let mut gw = Gateway::new(cfg).unwrap();
    let (rss_before, _) = memory();

    // Replay the joins at their own pace (the second they span), ticking as the live loop
    // does, then tick until every device is at `declared`.
    let start = Instant::now();
    let mut out: Vec<Output> = Vec::new();
    let mut last_tick = Instant::now();
    // As the live loop: frames that arrived while the gateway was busy are one batch.
    for (t, f) in &frames {
        let due = Duration::from_nanos(*t);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            gw.handle_batch(&out, wall_ns()).unwrap();
            out.clear();
            std::thread::sleep(wait);
        }
        mon.process(t0 + t, f, &mut out);
        if last_tick.elapsed() >= Duration::from_millis(200) {
            gw.tick(wall_ns()).unwrap();
            last_tick = Instant::now();
        }
    }
    gw.handle_batch(&out, wall_ns()).unwrap();
    out.clear();
    let joined = start.elapsed();
    let macs: Vec<mud::Mac> = frames_macs(DEVICES);
    let declared = loop {
        gw.tick(wall_ns()).unwrap();
        let n = macs
            .iter()
            .filter(|m| gw.level(m) == Some(enforce::Level::Declared))
            .count();
        if n == macs.len() {
            break start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {n} of {DEVICES} at declared after 120 s; warnings: {:?}",
            gw.warnings.iter().take(5).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (rss_after, hwm) = memory();
    // The kernel really holds them: every device's from-device chain is in the table.
    let listing = Command::new("ip")
        .args(["netns", "exec", &ns.0, "nft", "list", "chains", "inet"])
        .output()
        .unwrap();
    let chains = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("chain d") && l.contains("_out"))
        .count();
    assert_eq!(chains, DEVICES as usize, "device chains in nftables");

    // Anchor: the same 1000 files (not the signatures) fetched by curl, one process, one
    // connection.
    let ca = files.path().join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let t = Instant::now();
    let curl = Command::new("curl")
        .args(["-s", "--fail", "--cacert", ca.to_str().unwrap()])
        .args(urls.iter().flat_map(|u| ["-o", "/dev/null", u.as_str()]))
        .status()
        .expect("curl (apt-get install curl)");
    let curl_s = t.elapsed();
    assert!(curl.success(), "curl failed");

    println!("join benchmark: {DEVICES} devices, each with its own MUD URL, joining within 1 s");
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| last DHCP join replayed after | {:.2} s |",
        joined.as_secs_f64()
    );
    println!(
        "| all {DEVICES} at `declared` (fetched over HTTPS, signature verified, applied in nftables) after the first join | **{:.2} s** |",
        declared.as_secs_f64()
    );
    println!(
        "| anchor: curl fetching the {DEVICES} files in one process (one TLS connection, nothing verified) | {:.2} s |",
        curl_s.as_secs_f64()
    );
    println!(
        "| process RSS before the joins / after (gateway, monitor, manager and the in-process HTTPS server) | {rss_before:.1} MB / {rss_after:.1} MB |"
    );
    println!("| peak RSS (VmHWM, incl. signing the 1000 files) | {hwm:.1} MB |");
    println!();
    println!("goal: all {DEVICES} at declared in < 10 s");
    drop(server);
}

fn frames_macs(n: u32) -> Vec<mud::Mac> {
    (0..n)
        .map(|i| {
            let b = i.to_be_bytes();
            mud::Mac([0x02, 0x4a, 0x00, b[1], b[2], b[3]])
        })
        .collect()
}
