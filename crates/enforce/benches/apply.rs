//! Enforcement benchmark: compile + apply for 1, 100 and 1000 devices, adding one device to
//! 1000, and how the rule count grows. Runs in a private network namespace (needs root and
//! nftables) and prints a table. Anchor, measured in the same run: the same batch applied as
//! libnftables JSON instead of nft's native syntax.
//!
//! Run: `cargo bench -p enforce --bench apply`

use enforce::{BatchFormat, Compiler, Device, Enforcer, Level, MacAddr, NftRunner, Site};
use mud::parse::{parse, Mode};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

struct Netns(String);
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn device(i: u32, policy: &mud::DevicePolicy) -> Device {
    let b = i.to_be_bytes();
    Device {
        mac: MacAddr([0x02, 0, b[0], b[1], b[2], b[3]]),
        ipv4: vec![Ipv4Addr::from(0x0a00_0000 + i)],
        ipv6: vec![format!("fd00::{:x}:{:x}", i >> 16, i & 0xffff)
            .parse()
            .unwrap()],
        level: Level::Declared,
        policy: Some(policy.clone()),
        update_hosts: vec![],
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` compatibility
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("the enforcement benchmark needs root (it creates a network namespace)");
        std::process::exit(2);
    }
    let ns = Netns(format!("tgbench{}", std::process::id()));
    assert!(Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap()
        .success());

    // A real device profile: the NIST sensor MUD file (controller, local-networks, DNS names).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mud/nist/mudfile-server__mudfile-sensor.json"
    );
    let bytes = std::fs::read(path).expect("shared MUD corpus");
    let policy = parse(&bytes, Mode::Lenient)
        .expect("sensor MUD parses")
        .policy;
    let site = Site::default();
    let runner = NftRunner {
        netns: Some(ns.0.clone()),
        format: BatchFormat::Native,
    };
    let json_runner = NftRunner {
        netns: Some(ns.0.clone()),
        format: BatchFormat::Json,
    };

    println!(
        "enforce benchmark: policy {} ({} ACEs), median of {RUNS} runs",
        policy.mud_url,
        policy.rules.len()
    );
    println!();
    println!("| devices | rules | compile ms | apply ms (native syntax) | compile+apply ms | anchor: same batch as nft JSON, ms |");
    println!("|--------:|------:|-----------:|-------------------------:|-----------------:|-----------------------------------:|");
    for n in [1u32, 100, 1000] {
        let devices: Vec<Device> = (1..=n).map(|i| device(i, &policy)).collect();
        let (mut compile, mut apply, mut json) = (Vec::new(), Vec::new(), Vec::new());
        let mut rules = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let c = Compiler::new(&site);
            let mut batch = c.skeleton();
            for d in &devices {
                batch.extend(c.add_device(d).unwrap());
            }
            compile.push(t.elapsed());
            rules = batch.rules_added();
            let t = Instant::now();
            runner.apply(&batch).unwrap();
            apply.push(t.elapsed());
            let t = Instant::now();
            json_runner.apply(&batch).unwrap();
            json.push(t.elapsed());
        }
        let (c, a) = (median(compile), median(apply));
        println!(
            "| {n:>7} | {rules:>5} | {:>10} | {:>24} | {:>16} | {:>34} |",
            ms(c),
            ms(a),
            ms(c + a),
            ms(median(json))
        );
    }

    // One device added to 1000 (and removed again), through the Enforcer as the gateway does it.
    let mut e = Enforcer::new(site.clone(), runner.clone());
    e.apply_all((1..=1000).map(|i| device(i, &policy)).collect())
        .unwrap();
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for k in 0..20u32 {
        let d = device(5000 + k, &policy);
        let mac = d.mac;
        let t = Instant::now();
        e.add(d).unwrap();
        add.push(t.elapsed());
        let t = Instant::now();
        e.remove(&mac).unwrap();
        remove.push(t.elapsed());
    }
    assert!(
        e.verify().unwrap().is_empty(),
        "read-back must match after the churn"
    );
    let t = Instant::now();
    let drift = e.verify().unwrap();
    let verify = t.elapsed();
    assert!(drift.is_empty());

    let c = Compiler::new(&site);
    let per_device = c.add_device(&device(1, &policy)).unwrap().rules_added();
    let skeleton = c.skeleton().rules_added();
    println!();
    println!("| operation (1000 devices installed) | median ms |");
    println!("|-----------------------------------|----------:|");
    println!(
        "| add one device (compile + apply)   | {:>9} |",
        ms(median(add))
    );
    println!(
        "| remove one device                  | {:>9} |",
        ms(median(remove))
    );
    println!("| read back + diff whole table       | {:>9} |", ms(verify));
    println!();
    println!("rule growth: {skeleton} base-chain rules (constant) + {per_device} rules per device of this profile");
    println!(
        "per-packet path: {} dispatch rules (hash-map lookups by MAC / address) + at most {} rules of the device's own chains, whatever the number of devices",
        3,
        per_device
    );
    println!("goals: 1000 devices applied < 1000 ms; one added < 20 ms");
}
