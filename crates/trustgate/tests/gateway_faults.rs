//! Fault injection on the live gateway (`trustgate gateway run --apply` in network namespaces,
//! real nftables; needs root): the `nft` binary disappears while the gateway runs.
//!
//! A refused batch (nft runs and says no) is covered by `monitor_gateway.rs`
//! (`a_refused_nft_batch_is_recorded_held_closed_and_retried`) and a batch refused half-way
//! leaving the table as it was by `enforce/tests/netns.rs`
//! (`failed_apply_leaves_previous_ruleset_intact`). Here nft cannot even be started: the
//! table is left exactly as it was, a new device stays under the catch-all (reaches nothing),
//! a level change that could not be made is journalled `applied: false` with an `error` that
//! names the cause and the level the device is really held at, and once nft is back every
//! refused change is retried and journalled `retry`.
//!
//! And the gateway killed (SIGKILL) at random moments while the owner moves devices between
//! levels: after each restart the journal and nftables agree.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
mod common;
use common::netns::*;

fn which(tool: &str) -> String {
    let out = cmd_ok(&["sh", "-c", &format!("command -v {tool}")]);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `trustgate gateway run --apply` in `gw`; with `bin`, `PATH` is set to that directory only,
/// so the gateway finds nft (and sysctl) only through the links put there.
fn start_gateway(gw: &Netns, state: &str, bin: Option<&Path>) -> Guard {
    let mut cmd = Command::new(which("ip"));
    cmd.args(["netns", "exec", &gw.name, BIN, "gateway", "run"])
        .args(["--iface", "br-lan", "--gateway-ip", "192.168.1.1"])
        .args(["--local", "192.168.1.0/24", "--apply", "--ttl", "600"])
        .args(["--state", state, "--json", "--duration", "60"]);
    if let Some(bin) = bin {
        cmd.env("PATH", bin);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trustgate");
    let stderr = child.stderr.take().unwrap();
    let guard = Guard(child);
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("the gateway stopped before watching")
            .unwrap();
        if line.starts_with("watching br-lan") {
            break;
        }
        assert!(line.starts_with("warning: "), "{line}");
    }
    std::thread::spawn(move || for _ in lines {});
    guard
}

/// The gateway's table as nft lists it, without what traffic changes (counters, set element
/// expiry).
fn table(gw: &Netns) -> String {
    let text = String::from_utf8_lossy(&gw.sh("nft list table inet trustgate").stdout).to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut kept = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            // `counter packets N bytes M`, `expires 59m58s`: their values move with time.
            "packets" | "bytes" | "expires" => i += 2,
            w => {
                kept.push(w);
                i += 1;
            }
        }
    }
    kept.join(" ")
}

fn last_entry(state: &Path, mac: &str) -> serde_json::Value {
    journal(state)
        .into_iter()
        .rfind(|e| e["device"] == mac)
        .unwrap_or_else(|| panic!("no journal entry for {mac}"))
}

#[test]
fn nft_missing_mid_run_keeps_the_table_holds_new_devices_closed_says_so_and_retries() {
    let (gw, dev_a, dev_b, inet) = topology();
    let (mac_a, mac_b) = (dev_a.mac("eth0"), dev_b.mac("eth0"));
    // B stays silent until nft is gone (no IPv6 router solicitations to give it away).
    dev_b.sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1");
    let _https = listen(&inet, 443);
    let _mail = listen(&inet, 587);
    let bin = tempfile::tempdir().unwrap();
    let nft_link = bin.path().join("nft");
    std::os::unix::fs::symlink(which("nft"), &nft_link).unwrap();
    std::os::unix::fs::symlink(which("sysctl"), bin.path().join("sysctl")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_s = state.path().to_str().unwrap().to_string();
    let _gateway = start_gateway(&gw, &state_s, Some(bin.path()));
    std::thread::sleep(Duration::from_millis(300));

    // A is contained at `default` and then trusted by the owner (mail out).
    let _ = reach(&dev_a, "203.0.113.2", 443, 0.5);
    wait_for("A contained", Duration::from_secs(5), || {
        journal(state.path()).iter().any(|e| {
            e["device"] == mac_a.as_str() && e["action"] == "contain" && e["applied"] == true
        })
    });
    cmd_ok(&[BIN, "gateway", "trust", &mac_a, "--state", &state_s]);
    assert!(
        reach(&dev_a, "203.0.113.2", 587, 2.0),
        "trusted A sends mail"
    );
    let before = table(&gw);
    assert!(before.contains(&mac_a), "{before}");

    // nft is gone.
    std::fs::remove_file(&nft_link).unwrap();

    // A new device: its containment cannot be applied; it is held by the catch-all.
    let _ = reach(&dev_b, "203.0.113.2", 443, 0.5);
    wait_for(
        "B's contain journalled as not applied",
        Duration::from_secs(5),
        || {
            journal(state.path()).iter().any(|e| {
                e["device"] == mac_b.as_str() && e["action"] == "contain" && e["applied"] == false
            })
        },
    );
    let b = last_entry(state.path(), &mac_b);
    let err = b["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("could not run nft") && err.contains("catch-all") && err.contains("retry"),
        "{b}"
    );
    for _ in 0..2 {
        assert!(
            !reach(&dev_b, "203.0.113.2", 443, 1.0),
            "an uncontained device got out while nft was missing"
        );
    }

    // The owner takes A's trust back: the change cannot be made either, and the journal says
    // which level A is really held at — the one nftables still has.
    let _ = Command::new(BIN)
        .args(["gateway", "untrust", &mac_a, "--state", &state_s])
        .output()
        .unwrap();
    wait_for(
        "A's untrust journalled as not applied",
        Duration::from_secs(5),
        || {
            let e = last_entry(state.path(), &mac_a);
            e["action"] == "untrust" && e["applied"] == false
        },
    );
    let a = last_entry(state.path(), &mac_a);
    let err = a["error"].as_str().unwrap_or_default();
    assert!(err.contains("could not run nft"), "{a}");
    assert!(err.contains("held at trusted"), "{a}");
    assert!(
        reach(&dev_a, "203.0.113.2", 587, 2.0),
        "the journal says A is held at trusted; nftables must agree"
    );
    // Nothing in the table changed.
    assert_eq!(
        table(&gw),
        before,
        "the table changed while nft was missing"
    );

    // nft is back: both refused changes are retried, applied and journalled `retry`.
    std::os::unix::fs::symlink(which("nft"), &nft_link).unwrap();
    wait_for("both retried", Duration::from_secs(30), || {
        let j = journal(state.path());
        [&mac_a, &mac_b].iter().all(|m| {
            j.iter().any(|e| {
                e["device"] == m.as_str() && e["action"] == "retry" && e["applied"] == true
            })
        })
    });
    assert_eq!(last_entry(state.path(), &mac_a)["to"], "default");
    assert_eq!(last_entry(state.path(), &mac_b)["to"], "default");
    wait_for("B out at default", Duration::from_secs(3), || {
        reach(&dev_b, "203.0.113.2", 443, 0.5)
    });
    assert!(
        !reach(&dev_a, "203.0.113.2", 587, 1.0),
        "A kept its mail after the untrust was retried"
    );
    assert!(reach(&dev_a, "203.0.113.2", 443, 2.0));
}

/// The level nftables holds `mac` at: the `default-deny:LEVEL` comment closing its out chain
/// (`None`: the device has no chain).
fn nft_level(gw: &Netns, mac: &str) -> Option<String> {
    let chain = format!("d{}_out", mac.replace(':', ""));
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &gw.name,
            "nft",
            "list",
            "chain",
            "inet",
            "trustgate",
        ])
        .arg(&chain)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text.find("default-deny:")? + "default-deny:".len();
    Some(text[at..].split('"').next().unwrap().to_string())
}

/// The level of the device's last journal entry nftables took.
fn journal_level(state: &Path, mac: &str) -> Option<String> {
    journal(state)
        .into_iter()
        .rfind(|e| e["device"] == mac && e["applied"] == true)
        .map(|e| e["to"].as_str().unwrap().to_string())
}

fn pending_requests(state: &Path) -> usize {
    ["trust", "untrust", "release"]
        .iter()
        .filter_map(|d| std::fs::read_dir(state.join(d)).ok())
        .map(|r| r.count())
        .sum()
}

#[test]
fn sigkill_at_random_moments_while_levels_change_leaves_journal_and_nftables_agreeing() {
    let (gw, dev_a, dev_b, inet) = topology();
    let macs = [dev_a.mac("eth0"), dev_b.mac("eth0")];
    let _https = listen(&inet, 443);
    let state = tempfile::tempdir().unwrap();
    let state_s = state.path().to_str().unwrap().to_string();
    // A small generator, seeded from the clock and printed, so a failing run can be repeated.
    let mut seed = std::env::var("FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
        });
    eprintln!("FAULTS_SEED={seed}");
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut contains_seen = 0;
    for round in 0..6 {
        let gateway = start_gateway(&gw, &state_s, None);
        std::thread::sleep(Duration::from_millis(200));
        for d in [&dev_a, &dev_b] {
            let _ = reach(d, "203.0.113.2", 443, 0.3);
        }
        wait_for(
            "both devices contained after the (re)start",
            Duration::from_secs(10),
            || {
                let j = journal(state.path());
                macs.iter().all(|m| {
                    j.iter()
                        .filter(|e| e["device"] == m.as_str() && e["action"] == "contain")
                        .count()
                        > round
                })
            },
        );
        // Requests left by the previous round's killed CLI calls are answered first.
        wait_for("no request left", Duration::from_secs(10), || {
            pending_requests(state.path()) == 0
        });
        std::thread::sleep(Duration::from_millis(300));
        // Journal and nftables agree for every device.
        for m in &macs {
            let (j, n) = (journal_level(state.path(), m), nft_level(&gw, m));
            assert!(
                j.is_some() && j == n,
                "round {round}, {m}: journal says {j:?}, nftables holds {n:?}"
            );
        }
        contains_seen = round + 1;
        // The owner moves devices while the gateway is killed at a random moment.
        let mut cli = vec![];
        for _ in 0..4 {
            let m = &macs[next(2) as usize];
            let verb = if next(2) == 0 { "trust" } else { "untrust" };
            cli.push(Guard(
                Command::new(BIN)
                    .args(["gateway", verb, m, "--state", &state_s])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            ));
            std::thread::sleep(Duration::from_millis(next(300)));
        }
        std::thread::sleep(Duration::from_millis(next(400)));
        drop(gateway); // SIGKILL
        drop(cli);
        if round == 2 {
            // A power loss in the middle of a write: half a line at the end of the journal.
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(state.path().join("journal.jsonl"))
                .unwrap();
            f.write_all(br#"{"time_ns":1,"device":"02:00:00:00:00:01","act"#)
                .unwrap();
        }
    }
    assert_eq!(contains_seen, 6);
    // Levels did change between the kills (the owner's requests were carried out).
    let changes = journal(state.path())
        .iter()
        .filter(|e| (e["action"] == "trust" || e["action"] == "untrust") && e["applied"] == true)
        .count();
    assert!(changes >= 3, "only {changes} level changes were made");
    eprintln!("{changes} level changes across 6 kills");
    // The last restart recovered the torn line: every line of the journal is whole.
    let text = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
