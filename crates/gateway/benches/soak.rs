//! Soak: an hour of generated household traffic through the monitor and a dry-run gateway as
//! fast as they take it, with device churn (30 devices leave and 30 new ones join every
//! minute, each with a DHCP exchange), DNS, HTTPS flows, and a device turning into a telnet
//! scanner every ten minutes (quarantined for 10 minutes, then released by its TTL). Sampled
//! every simulated minute: resident memory, open files, the journal's size, devices and flows
//! held. Printed as one table, then whether memory and open files stayed flat.
//!
//! Run: `cargo bench -p gateway --bench soak` (no root: the gateway only journals).

#[path = "../tests/common/mod.rs"]
mod common;

use gateway::Gateway;
use monitor::{Config, Monitor, OuiTable, Output};
use scenarios::{
    dhcp_exchange, dns_answer_bytes, dns_query_bytes, tcp_frame, udp_frame, Capture, DhcpClient,
    Host, Tcp, GATEWAY,
};
use std::net::Ipv4Addr;
use std::time::Instant;

const NS: u64 = 1_000_000_000;
const MINUTES: u64 = 60;
const PRESENT: u32 = 300;
const CHURN: u32 = 30;
/// Frames per simulated second across the household.
const RATE: u64 = 1000;
const T0: u64 = 1_767_225_600 * NS;

fn host(n: u32) -> Host {
    let [_, a, b, c] = n.to_be_bytes();
    Host::new(
        [0x02, 0x5a, a, b, c, 0x01],
        [10, 1 + (n / 250 % 200) as u8, 0, 2 + (n % 250) as u8],
    )
}

fn kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// One simulated minute: joins, then traffic from the devices present.
fn minute(m: u64, first: u32) -> scenarios::Frames {
    let mut cap = Capture::new();
    let start = T0 + m * 60 * NS;
    let present = first..first + PRESENT;
    // The newest CHURN devices join this minute.
    for n in first + PRESENT - CHURN..first + PRESENT {
        let t = start + u64::from(n % CHURN) * 1_000_000_000;
        dhcp_exchange(
            &mut cap,
            t,
            host(n),
            &DhcpClient::named(&format!("dev-{n}")),
            n,
        );
    }
    let scanner = (m > 0 && m % 10 == 0).then_some(first + PRESENT / 2);
    let mut rng = m.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for i in 0..RATE * 60 {
        let t = start + i * (NS / RATE);
        let n = present.start + (next() % u64::from(PRESENT)) as u32;
        let d = host(n);
        let r = next() % 100;
        if Some(n) == scanner || (scanner.is_some() && r < 10) {
            // The infected device scans the internet for telnet, Mirai style.
            let s = host(scanner.unwrap());
            let dst = Ipv4Addr::from((next() as u32) | 0x0100_0000);
            let syn = Tcp::new(40_000, 23, u32::from(dst), "S");
            cap.push(t, tcp_frame(s, Host::internet(dst), syn, &[]));
        } else if r < 12 {
            let id = (next() & 0xffff) as u16;
            let name = format!("svc{}.example.com", next() % 50);
            cap.push(
                t,
                udp_frame(
                    d,
                    GATEWAY,
                    40_000 + (id % 20_000),
                    53,
                    &dns_query_bytes(id, &name),
                ),
            );
            let a = Ipv4Addr::new(203, 0, 113, 1 + (next() % 200) as u8);
            cap.push(
                t + 2_000_000,
                udp_frame(
                    GATEWAY,
                    d,
                    53,
                    40_000 + (id % 20_000),
                    &dns_answer_bytes(id, &name, &[a], 300),
                ),
            );
        } else {
            let server = Host::internet(Ipv4Addr::new(203, 0, 113, 1 + (n % 200) as u8));
            let sport = 32_768 + (n % 20_000) as u16;
            let (seq, ack) = (next() as u32, next() as u32);
            let f = match r % 4 {
                0 => tcp_frame(d, server, Tcp::new(sport, 443, seq, "S"), &[]),
                1 => tcp_frame(server, d, Tcp::new(443, sport, seq, "SA").ack(ack), &[]),
                2 => tcp_frame(
                    server,
                    d,
                    Tcp::new(443, sport, seq, "A").ack(ack),
                    &[0x17; 600],
                ),
                _ => tcp_frame(d, server, Tcp::new(sport, 443, seq, "A").ack(ack), &[]),
            };
            cap.push(t, f);
        }
    }
    cap.sorted()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(common::config(dir.path(), 600)).unwrap();
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out: Vec<Output> = Vec::new();
    let journal = dir.path().join("journal.jsonl");
    println!(
        "soak: {MINUTES} simulated minutes, {RATE} frames/s, {PRESENT} devices present, {CHURN} leave and {CHURN} join per minute, a scanner every 10 minutes"
    );
    println!("| minute | frames | wall s | RSS MB | open files | journal KB | monitor devices | flows | gateway devices | quarantined |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let started = Instant::now();
    let mut frames_total = 0u64;
    let mut rss = vec![];
    let mut fds = vec![];
    for m in 0..MINUTES {
        let frames = minute(m, m as u32 * CHURN);
        for (t, f) in &frames {
            mon.process(*t, f, &mut out);
            gw.handle_batch(&out, *t).unwrap();
            out.clear();
        }
        let end = T0 + (m + 1) * 60 * NS;
        gw.tick(end).unwrap();
        gw.write_status().unwrap();
        frames_total += frames.len() as u64;
        let st = gw.status();
        let quarantined = st.devices.iter().filter(|d| d.quarantine.is_some()).count();
        let (r, f) = (kb("VmRSS:") as f64 / 1000.0, open_files());
        rss.push(r);
        fds.push(f);
        println!(
            "| {} | {frames_total} | {:.1} | {r:.1} | {f} | {} | {} | {} | {} | {quarantined} |",
            m + 1,
            started.elapsed().as_secs_f64(),
            std::fs::metadata(&journal).map_or(0, |m| m.len()) / 1024,
            mon.devices().count(),
            mon.flow_count(),
            st.devices.len(),
        );
        gw.warnings.clear();
    }
    let half = rss.len() / 2;
    let (early, late) = (
        rss[..half].iter().cloned().fold(0.0, f64::max),
        rss[half..].iter().cloned().fold(0.0, f64::max),
    );
    println!(
        "peak RSS first half {early:.1} MB, second half {late:.1} MB ({}); open files {}–{}",
        if late <= early * 1.10 { "flat" } else { "GREW" },
        fds.iter().min().unwrap(),
        fds.iter().max().unwrap()
    );
}
