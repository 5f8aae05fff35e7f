//! Enforcement benchmark: compile + apply for 1, 100 and 1000 devices, adding one device to
//! 1000, and how the rule count grows. Runs in a private network namespace (needs root and
//! nftables) and prints a table. Anchor, measured in the same run: the same batch applied as
//! libnftables JSON instead of nft's native syntax.
//!
//! Run: `cargo bench -p enforce --bench apply`

use enforce::{BatchFormat, Compiler, Device, Enforcer, Level, Mac, NftRunner, Site};
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
        mac: Mac([0x02, 0, b[0], b[1], b[2], b[3]]),
        ipv4: vec![Ipv4Addr::from(0x0a00_0000 + i)],
        ipv6: vec![format!("fd00::{:x}:{:x}", i >> 16, i & 0xffff)
            .parse()
            .unwrap()],
        level: Level::Declared,
        policy: Some(policy.clone()),
        update_hosts: vec![],
        exceptions: vec![],
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// `--blast ADDR PORT COUNT`: run inside a device namespace (the bench re-executes itself there);
/// sends COUNT small UDP datagrams and prints the seconds it took. On veth the gateway's
/// forwarding (and our ruleset) runs in the sender's softirq, so this time includes it.
fn blast(args: &[String]) {
    let (addr, port, count): (std::net::IpAddr, u16, u32) = (
        args[0].parse().unwrap(),
        args[1].parse().unwrap(),
        args[2].parse().unwrap(),
    );
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let payload = [0u8; 18];
    let t = Instant::now();
    for _ in 0..count {
        let _ = sock.send_to(&payload, (addr, port));
    }
    println!("{}", t.elapsed().as_secs_f64());
}

fn sh(ns: &str, script: &str) {
    let st = Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", script])
        .status()
        .unwrap();
    assert!(st.success(), "{script}");
}

/// Packets per second the gateway evaluates for one device's traffic, from the nft counter of
/// the rule that finally drops it (so packets lost before the ruleset are not counted).
fn packet_rate(gw: &str, dev: &str, counter_query: &dyn Fn() -> u64) -> f64 {
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let before = counter_query();
        let out = Command::new("ip")
            .args(["netns", "exec", dev])
            .arg(std::env::current_exe().unwrap())
            .args(["--blast", "10.78.0.2", "9", "200000"])
            .output()
            .unwrap();
        let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let seen = counter_query() - before;
        rates.push(seen as f64 / secs);
    }
    let _ = gw;
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rates[rates.len() / 2]
}

fn counter_of(gw: &str, table: &str, chain: &str) -> u64 {
    let out = Command::new("ip")
        .args([
            "netns", "exec", gw, "nft", "-j", "list", "chain", "inet", table, chain,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get("rule"))
        .filter_map(|r| r["expr"].as_array()?.iter().find_map(|e| e.get("counter")))
        .map(|c| c["packets"].as_u64().unwrap_or(0))
        .sum()
}

/// `--learn`: run inside the gateway namespace (the bench re-executes itself there, since a
/// netlink socket belongs to the namespace it was opened in). With 1000 devices installed,
/// one DNS answer at a time is learned through `nft` (the per-process path) and then over
/// netlink; prints the per-answer times and checks the last address is in the kernel's set.
fn learn_in_namespace(policy: &mud::DevicePolicy) {
    const NFT_ANSWERS: u32 = 100;
    const NETLINK_ANSWERS: u32 = 1000;
    let mut e = Enforcer::new(Site::default(), NftRunner::default());
    e.apply_all((1..=1000).map(|i| device(i, policy)).collect())
        .unwrap();
    let name = "www.nist.local";
    let answer = |k: u32| std::net::IpAddr::from(Ipv4Addr::from(0xc633_6400 + k));
    let learn = |e: &mut Enforcer, n: u32, base: u32| -> Vec<Duration> {
        (0..n)
            .map(|k| {
                let mac = device(1 + (k % 1000), policy).mac;
                let t = Instant::now();
                assert!(e.learn_dns(&mac, name, answer(base + k), 300).unwrap());
                t.elapsed()
            })
            .collect()
    };
    let by_nft = learn(&mut e, NFT_ANSWERS, 0);
    e.learn_over_netlink().unwrap();
    let by_netlink = learn(&mut e, NETLINK_ANSWERS, 10_000);
    // The last answer really is in the device's set, with its timeout.
    let last = NETLINK_ANSWERS - 1;
    let mac = device(1 + (last % 1000), policy).mac;
    let set = format!("{}_n0_4", enforce::nft_id(&mac));
    let out = Command::new("nft")
        .args(["list", "set", "inet", "trustgate", &set])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains(&answer(10_000 + last).to_string()) && listing.contains("expires"),
        "netlink-learned address missing from {set}:\n{listing}"
    );
    for (what, mut v) in [("nft", by_nft), ("netlink", by_netlink)] {
        v.sort();
        println!(
            "{what} {} {} {} {}",
            v.len(),
            v[0].as_secs_f64() * 1e3,
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() * 99 / 100].as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--blast") {
        return blast(&args[i + 1..]);
    }
    if args.iter().any(|a| a == "--learn") {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/mud/nist/mudfile-server__mudfile-sensor.json"
        );
        let policy = parse(&std::fs::read(path).unwrap(), Mode::Lenient)
            .unwrap()
            .policy;
        return learn_in_namespace(&policy);
    }
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

    // DNS learning, one answer at a time with 1000 devices installed: through nft (a process
    // per answer) against the netlink message the gateway sends.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(&exe)
        .arg("--learn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "learning bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!();
    println!(
        "| DNS answer learned (1000 devices installed) | answers | min ms | median ms | p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let what = if f[0] == "nft" {
            "anchor: `nft` process per answer"
        } else {
            "netlink NEWSETELEM (the gateway)"
        };
        let n = |i: usize| f[i].parse::<f64>().unwrap();
        println!(
            "| {what} | {} | {:.3} | {:.3} | {:.3} |",
            f[1],
            n(2),
            n(3),
            n(4)
        );
    }
    println!("goal: learning one answer < 1 ms");

    // Per-packet cost against the number of devices: a device namespace sends UDP through the
    // gateway; its own chain drops the packets at the end (worst case: every rule evaluated).
    let dev = Netns(format!("tgbdev{}", std::process::id()));
    assert!(Command::new("ip")
        .args(["netns", "add", &dev.0])
        .status()
        .unwrap()
        .success());
    let (va, vb) = (
        format!("tgb{}a", std::process::id()),
        format!("tgb{}b", std::process::id()),
    );
    assert!(Command::new("ip")
        .args(["link", "add", &va, "type", "veth", "peer", "name", &vb])
        .status()
        .unwrap()
        .success());
    assert!(Command::new("ip")
        .args(["link", "set", &va, "netns", &dev.0])
        .status()
        .unwrap()
        .success());
    assert!(Command::new("ip")
        .args(["link", "set", &vb, "netns", &ns.0])
        .status()
        .unwrap()
        .success());
    sh(&dev.0, &format!("ip link set {va} up && ip addr add 10.77.0.2/24 dev {va} && ip route add default via 10.77.0.1"));
    sh(
        &ns.0,
        &format!(
            "ip link set {vb} up && ip addr add 10.77.0.1/24 dev {vb} && ip link add d0 type veth peer name d1 && ip link set d1 up && \
             ip link set d0 up && ip addr add 10.78.0.1/24 dev d0 && sysctl -qw net.ipv4.ip_forward=1"
        ),
    );
    let mac_out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &dev.0,
            "cat",
            &format!("/sys/class/net/{va}/address"),
        ])
        .output()
        .unwrap();
    let mac: Mac = String::from_utf8_lossy(&mac_out.stdout)
        .trim()
        .parse()
        .unwrap();
    let mut me = device(0, &policy);
    me.mac = mac;
    me.ipv4 = vec!["10.77.0.2".parse().unwrap()];
    me.ipv6 = vec![];
    let chain = format!("{}_out", enforce::nft_id(&mac));

    let mut rows = Vec::new();
    for n in [1u32, 1000] {
        let mut devices: Vec<Device> = (1..n).map(|i| device(i, &policy)).collect();
        devices.push(me.clone());
        let mut e = Enforcer::new(site.clone(), runner.clone());
        e.apply_all(devices).unwrap();
        let rate = packet_rate(&ns.0, &dev.0, &|| counter_of(&ns.0, "trustgate", &chain));
        rows.push((format!("trustgate, {n} device(s) installed"), rate));
    }
    // Anchor: the obvious design, one `ether saddr X` rule per device in a linear chain, with
    // this device last among 1000.
    sh(&ns.0, "nft delete table inet trustgate");
    let mut text = String::from("add table inet linear\nadd chain inet linear per_mac { type filter hook forward priority filter; policy accept; }\n");
    for i in 1..1000u32 {
        text.push_str(&format!(
            "add rule inet linear per_mac ether saddr {} counter drop\n",
            device(i, &policy).mac
        ));
    }
    text.push_str(&format!(
        "add rule inet linear per_mac ether saddr {mac} counter drop\n"
    ));
    let path = std::env::temp_dir().join(format!("tgbench-linear-{}.nft", std::process::id()));
    std::fs::write(&path, text).unwrap();
    sh(&ns.0, &format!("nft -f {}", path.display()));
    let _ = std::fs::remove_file(&path);
    let rate = packet_rate(&ns.0, &dev.0, &|| counter_of(&ns.0, "linear", "per_mac"));
    rows.push(("anchor: linear per-MAC rules, 1000 devices".into(), rate));

    println!();
    println!("| per-packet path (UDP through the gateway, dropped at the end of the device chain) | packets/s evaluated |");
    println!("|---|---:|");
    for (what, rate) in rows {
        println!("| {what} | {:>10.0} |", rate);
    }
}
