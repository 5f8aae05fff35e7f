//! The generated scenarios replayed from their files: every infected device flagged within
//! 10 s (packet time) of its first scan packet with the attacks it ran, no benign device or
//! trap ever flagged; precision and recall printed and asserted.

use monitor::{replay_file, Config, Event, EventKind, Monitor, OuiTable, Output};
use scenarios::{write_all, Truth};
use std::collections::{BTreeMap, BTreeSet};

const NS: u64 = 1_000_000_000;

fn run(dir: &std::path::Path, truth: &Truth) -> (Vec<Event>, Monitor) {
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    let stats = replay_file(&dir.join(&truth.capture), |t, f| {
        mon.process(t, f, &mut out);
        for o in out.drain(..) {
            if let Output::Event(e) = o {
                events.push(e);
            }
        }
    })
    .expect("replay");
    assert_eq!(
        stats.frames, truth.packets,
        "every generated frame is read back"
    );
    assert_eq!(stats.truncated_at, None);
    (events, mon)
}

#[test]
fn scenarios_precision_recall_and_time_to_detect() {
    let dir = tempfile::tempdir().unwrap();
    let truths = write_all(dir.path(), 1).unwrap();
    let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
    let mut worst_delay = 0u64;
    for truth in &truths {
        let (events, mon) = run(dir.path(), truth);
        assert_eq!(mon.stats().malformed, 0, "{}", truth.scenario);
        let mut by_dev: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
        for e in &events {
            by_dev.entry(e.device.to_string()).or_default().push(e);
        }
        for d in &truth.devices {
            let evs = by_dev.remove(&d.mac.to_string()).unwrap_or_default();
            if d.infected {
                if evs.is_empty() {
                    fn_ += 1;
                    eprintln!(
                        "{}: infected {} ({}) not flagged",
                        truth.scenario, d.mac, d.role
                    );
                    continue;
                }
                tp += 1;
                let first_scan = d.first_scan_ns.unwrap();
                let first_bot = evs
                    .iter()
                    .filter(|e| e.quarantine && e.time_ns >= first_scan)
                    .map(|e| e.time_ns)
                    .min()
                    .expect("a bot-behaviour event after the first scan");
                let delay = first_bot - first_scan;
                worst_delay = worst_delay.max(delay);
                assert!(
                    delay <= 10 * NS,
                    "{} flagged {} ns after its first scan",
                    d.mac,
                    delay
                );
                let kinds: BTreeSet<&str> = evs.iter().map(|e| e.kind.as_str()).collect();
                for k in &d.expected_kinds {
                    assert!(
                        kinds.contains(k.as_str()),
                        "{} ({}): expected {k}, got {kinds:?}",
                        d.mac,
                        d.role
                    );
                }
                for e in &evs {
                    assert!(!e.evidence.is_empty(), "{e:?}");
                    assert!(e.evidence.iter().all(|p| p.community_id.starts_with("1:")));
                    assert!(!e.explanation.is_empty());
                }
            } else if !evs.is_empty() {
                fp += 1;
                eprintln!(
                    "{}: benign {} ({}, trap {:?}) flagged: {:?}",
                    truth.scenario,
                    d.mac,
                    d.role,
                    d.trap,
                    evs.iter().map(|e| &e.explanation).collect::<Vec<_>>()
                );
            }
        }
        // Nobody outside the ground truth (the gateway above all) is flagged.
        assert!(
            by_dev.is_empty(),
            "{}: events for unknown devices {:?}",
            truth.scenario,
            by_dev.keys()
        );
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "scenarios: precision {precision:.3} recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_}); worst time to detect {:.3} s",
        worst_delay as f64 / NS as f64
    );
    assert_eq!(tp, 4);
    assert_eq!(precision, 1.0);
    assert_eq!(recall, 1.0);
}

#[test]
fn generator_is_deterministic() {
    let a = scenarios::build("mirai", 7).unwrap();
    let b = scenarios::build("mirai", 7).unwrap();
    let c = scenarios::build("mirai", 8).unwrap();
    assert_eq!(a.0, b.0);
    assert!(a.1 == b.1);
    assert!(a.1 != c.1);
}

#[test]
fn identity_survives_renumbering_and_collects_dhcp_and_mdns_facts() {
    let dir = tempfile::tempdir().unwrap();
    let truths = write_all(dir.path(), 1).unwrap();
    let traps = truths.iter().find(|t| t.scenario == "traps").unwrap();
    let (_, mon) = run(dir.path(), traps);
    let hub = traps
        .devices
        .iter()
        .find(|d| d.trap.as_deref() == Some("dhcp-renumbering"))
        .unwrap();
    let facts = mon.device(&hub.mac).expect("hub known");
    assert_eq!(facts.hostname.as_deref(), Some("hue-hub"));
    let addrs: Vec<String> = facts.addrs.iter().map(|a| a.to_string()).collect();
    assert!(
        addrs.contains(&"192.168.1.25".to_string()) && addrs.contains(&"192.168.1.125".to_string()),
        "{addrs:?}"
    );
    let thermo = traps
        .devices
        .iter()
        .find(|d| d.role == "thermostat")
        .unwrap();
    let t = mon.device(&thermo.mac).unwrap();
    assert_eq!(
        t.mud_url.as_deref(),
        Some("https://thermo.example.com/mud/thermostat.json")
    );
    assert_eq!(t.vendor_class.as_deref(), Some("udhcp 1.30.1"));
    assert_eq!(t.parameter_list, vec![1, 3, 6, 12, 161]);
    assert!(
        t.mdns_names.contains("thermostat.local"),
        "{:?}",
        t.mdns_names
    );
    let plug = traps
        .devices
        .iter()
        .find(|d| d.role == "smart-plug")
        .unwrap();
    assert_eq!(mon.device(&plug.mac).unwrap().mud_url, None);
    // The gateway was recognised and is not a device.
    assert!(mon.gateways().contains(&traps.gateway_mac));
    assert!(mon.device(&traps.gateway_mac).is_none());
    let _ = EventKind::ALL;
}

/// Direction and intent: each scenario's devices get exactly the expected kinds of event; a
/// quarantine only for the compromised ones; nothing for the router (nor anyone else).
fn direction_events(name: &str, config: Config) -> (scenarios::Truth, Vec<Event>) {
    let (truth, frames) = scenarios::build(name, 1).unwrap();
    let mut mon = Monitor::new(config, OuiTable::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    for (t, f) in &frames {
        mon.process(*t, f, &mut out);
        events.extend(out.drain(..).filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        }));
    }
    assert!(mon.gateways().contains(&truth.gateway_mac), "{name}");
    assert!(
        mon.device(&truth.gateway_mac).is_none(),
        "{name}: the router is no device"
    );
    (truth, events)
}

#[test]
fn direction_scenarios_report_victims_scans_and_fallbacks_without_false_quarantines() {
    for name in scenarios::DIRECTION_SCENARIOS {
        let (truth, events) = direction_events(name, Config::default());
        let mut by_dev: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
        for e in &events {
            by_dev.entry(e.device.to_string()).or_default().push(e);
        }
        for d in &truth.devices {
            let evs = by_dev.remove(&d.mac.to_string()).unwrap_or_default();
            let kinds: BTreeSet<&str> = evs.iter().map(|e| e.kind.as_str()).collect();
            let expected: BTreeSet<&str> = d.expected_kinds.iter().map(|k| k.as_str()).collect();
            assert_eq!(
                kinds,
                expected,
                "{name}: {} ({}): {:?}",
                d.mac,
                d.role,
                evs.iter().map(|e| &e.explanation).collect::<Vec<_>>()
            );
            if d.infected {
                let first = evs
                    .iter()
                    .filter(|e| e.quarantine)
                    .map(|e| e.time_ns)
                    .min()
                    .unwrap_or_else(|| panic!("{name}: {} not quarantined", d.role));
                assert!(first - d.first_scan_ns.unwrap() <= 10 * NS, "{name}");
            } else {
                assert!(
                    evs.iter().all(|e| !e.quarantine),
                    "{name}: benign {} quarantined: {evs:?}",
                    d.role
                );
            }
            for e in &evs {
                assert!(!e.evidence.is_empty(), "{e:?}");
            }
        }
        assert!(
            by_dev.is_empty(),
            "{name}: events for devices outside the truth (the router?): {:?}",
            by_dev
        );
        // What the words say.
        let text = |kind: &str| {
            events
                .iter()
                .find(|e| e.kind.as_str() == kind)
                .map(|e| e.explanation.clone())
                .unwrap_or_default()
        };
        match name {
            "inbound-syn-flood" => {
                let t = text("inbound-flood");
                assert!(t.contains("victim") && t.contains("port 80"), "{t}");
            }
            "reflection-flood" => assert!(text("reflection-flood").contains("reflection"), ""),
            "port-scan" => {
                assert!(text("inbound-scan").contains("198.51.100.66"));
                assert!(text("port-scan").contains("port scan"));
            }
            "fallback-resolver" => {
                let t = text("dns-bypass");
                assert!(t.contains("just answered") && t.contains("8.8.8.8"), "{t}");
            }
            _ => {}
        }
    }
}

#[test]
fn an_owner_allowed_resolver_is_not_reported() {
    let (truth, _) = scenarios::build("fallback-resolver", 1).unwrap();
    let hub = truth
        .devices
        .iter()
        .find(|d| d.role == "lock-hub")
        .unwrap()
        .mac;
    // For that device: nothing at all. For another device only: still reported.
    for (allowed, expect_events) in [
        (format!("{hub}=8.8.8.8"), false),
        ("8.8.8.8".to_string(), false),
        ("02:00:00:00:00:99=8.8.8.8".to_string(), true),
    ] {
        let config = Config {
            allowed_resolvers: vec![allowed.parse().unwrap()],
            ..Config::default()
        };
        let (_, events) = direction_events("fallback-resolver", config);
        assert_eq!(!events.is_empty(), expect_events, "{allowed}: {events:?}");
    }
    assert!("nonsense"
        .parse::<monitor::monitor::AllowedResolver>()
        .is_err());
}
