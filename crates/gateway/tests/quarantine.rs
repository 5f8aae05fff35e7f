//! Quarantine decisions without root: dry-run mode records every change in the journal and
//! touches no nftables; TTL expiry, owner release, and restoring a running quarantine after a
//! restart. (The live nftables path is tested in crates/trustgate/tests/monitor_gateway.rs.)

mod common;

use common::config;
use gateway::{Gateway, OwnerRequest, RequestError};
use monitor::{Config, Mac, Monitor, OuiTable, Output};
use scenarios::{build, Frames};
use std::time::Duration;

const NS: u64 = 1_000_000_000;

fn journal(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Feed the mirai scenario through monitor and gateway up to packet time `until`.
fn feed(gw: &mut Gateway, frames: &Frames, until: u64) -> u64 {
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out: Vec<Output> = Vec::new();
    let mut last = 0;
    for (t, f) in frames.iter().take_while(|(t, _)| *t <= until) {
        mon.process(*t, f, &mut out);
        for o in out.drain(..) {
            gw.handle(&o, *t).unwrap();
        }
        last = *t;
    }
    last
}

#[test]
fn dry_run_records_quarantine_expiry_and_release() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, frames) = build("mirai", 1).unwrap();
    let infected: Vec<Mac> = truth
        .devices
        .iter()
        .filter(|d| d.infected)
        .map(|d| d.mac)
        .collect();
    let benign: Vec<Mac> = truth
        .devices
        .iter()
        .filter(|d| !d.infected)
        .map(|d| d.mac)
        .collect();
    let mut gw = Gateway::new(config(dir.path(), 30)).unwrap();
    let first_scan = truth
        .devices
        .iter()
        .filter_map(|d| d.first_scan_ns)
        .min()
        .unwrap();
    let now = feed(&mut gw, &frames, first_scan + 5 * NS);
    assert!(gw.warnings.is_empty(), "{:?}", gw.warnings);
    let first = infected[0];
    assert!(gw.is_quarantined(&first));
    assert_eq!(gw.level(&first), Some(enforce::Level::Isolated));
    for b in &benign {
        assert!(!gw.is_quarantined(b));
    }
    let j = journal(dir.path());
    let q = j.iter().find(|e| e["action"] == "quarantine").unwrap();
    assert_eq!(q["device"], first.to_string());
    assert_eq!(q["dry_run"], true);
    assert_eq!(q["from"], "default");
    assert_eq!(q["to"], "isolated");
    assert!(q["until_ns"].as_u64().unwrap() > now);
    assert!(!q["evidence"].as_array().unwrap().is_empty());
    assert!(j.iter().filter(|e| e["action"] == "contain").count() >= benign.len());

    // TTL: 30 s later the quarantine ends by itself and is recorded as such.
    gw.tick(now + 31 * NS).unwrap();
    assert!(!gw.is_quarantined(&first));
    assert_eq!(gw.level(&first), Some(enforce::Level::Default));
    assert!(journal(dir.path())
        .iter()
        .any(|e| e["action"] == "expire" && e["device"] == first.to_string() && e["by"] == "ttl"));
}

#[test]
fn owner_release_and_restart_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, frames) = build("mirai", 1).unwrap();
    let infected: Vec<Mac> = truth
        .devices
        .iter()
        .filter(|d| d.infected)
        .map(|d| d.mac)
        .collect();
    let end = frames.last().unwrap().0;
    {
        let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
        feed(&mut gw, &frames, end);
        for m in &infected {
            assert!(gw.is_quarantined(m), "{m}");
        }
        // A second gateway on the same state directory refuses to start.
        let err = Gateway::new(config(dir.path(), 3600))
            .err()
            .expect("locked");
        assert!(err.to_string().contains("already running"), "{err}");
        // The owner releases one through the CLI's request, which waits for the gateway.
        let (d, m) = (dir.path().to_path_buf(), infected[1]);
        let asked = std::thread::spawn(move || {
            gateway::owner_request(
                &d,
                OwnerRequest::Release { for_s: None },
                m,
                Duration::from_secs(10),
            )
        });
        while !asked.is_finished() {
            gw.tick(end).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let entry = asked.join().unwrap().unwrap().expect("a journal entry");
        assert_eq!(
            (entry.action, entry.by),
            (gateway::Action::Release, gateway::By::Owner)
        );
        assert!(!gw.is_quarantined(&infected[1]));
        // A device that is not quarantined is refused before anything is written.
        let err = gateway::owner_request(
            dir.path(),
            OwnerRequest::Release { for_s: None },
            Mac([2, 0, 0, 0, 0, 0x99]),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, RequestError::NotQuarantined(..)), "{err}");
        assert!(journal(dir.path()).iter().any(|e| e["action"] == "release"
            && e["by"] == "owner"
            && e["device"] == infected[1].to_string()));
    }
    // No gateway running now: a request fails and says so; so does a directory that is not a
    // gateway's.
    let err = gateway::owner_request(
        dir.path(),
        OwnerRequest::Release { for_s: None },
        infected[0],
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(matches!(err, RequestError::NotRunning(_)), "{err}");
    let elsewhere = tempfile::tempdir().unwrap();
    let err = gateway::owner_request(
        elsewhere.path(),
        OwnerRequest::Release { for_s: None },
        infected[0],
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(matches!(err, RequestError::NoState(_)), "{err}");
    // Restart: the still-running quarantines come back; the released one does not.
    let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    for (i, m) in infected.iter().enumerate() {
        assert_eq!(gw.is_quarantined(m), i != 1, "{m}");
    }
    // When the device shows up again it is contained at isolated straight away.
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    for (t, f) in frames.iter().take(20_000) {
        mon.process(*t, f, &mut out);
        for o in out.drain(..) {
            gw.handle(&o, *t).unwrap();
        }
    }
    assert_eq!(gw.level(&infected[0]), Some(enforce::Level::Isolated));
}

#[test]
fn corrupt_journal_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("journal.jsonl"),
        "{\"not\": \"an entry\"}\n",
    )
    .unwrap();
    let err = Gateway::new(config(dir.path(), 60)).err().expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("journal.jsonl line 1"), "{msg}");
}

#[test]
fn mud_url_learned_later_moves_the_device_to_declared_and_is_recorded() {
    let url = "https://dev.example.com/mud/cam.json";
    let json = format!(
        r#"{{"ietf-mud:mud": {{"mud-version": 1, "mud-url": "{url}",
            "last-update": "2026-01-01T00:00:00+00:00", "cache-validity": 48, "is-supported": true,
            "systeminfo": "cam", "from-device-policy": {{"access-lists": {{"access-list": [{{"name": "fr"}}]}}}}}},
          "ietf-access-control-list:acls": {{"acl": [
            {{"name": "fr", "type": "ipv4-acl-type", "aces": {{"ace": [
              {{"name": "cloud", "matches": {{"ipv4": {{"ietf-acldns:dst-dnsname": "cloud.example", "protocol": 6}},
                 "tcp": {{"destination-port": {{"operator": "eq", "port": 443}}}}}},
                 "actions": {{"forwarding": "accept"}}}}]}}}}]}}}}"#
    );
    let policy = mud::parse::parse(json.as_bytes(), mud::parse::Mode::Lenient)
        .map_err(|e| format!("{}: {}", e.path, e.rule))
        .unwrap()
        .policy;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 60);
    cfg.policies = vec![policy];
    let mut gw = Gateway::new(cfg).unwrap();
    let mac = Mac([2, 0, 0, 0, 0, 5]);
    let mut facts = monitor::DeviceFacts::new(mac, 1);
    facts.add_addr("192.168.1.5".parse().unwrap());
    gw.handle(&Output::Device(facts.clone()), 1).unwrap();
    assert_eq!(gw.level(&mac), Some(enforce::Level::Default));
    facts.mud_url = Some(url.into());
    gw.handle(&Output::Device(facts.clone()), 2).unwrap();
    assert_eq!(gw.level(&mac), Some(enforce::Level::Declared));
    // An unknown MUD URL (no verified file) stays at default.
    let other = Mac([2, 0, 0, 0, 0, 6]);
    let mut f2 = monitor::DeviceFacts::new(other, 1);
    f2.add_addr("192.168.1.6".parse().unwrap());
    f2.mud_url = Some("https://unknown.example/mud.json".into());
    gw.handle(&Output::Device(f2), 3).unwrap();
    assert_eq!(gw.level(&other), Some(enforce::Level::Default));
    let j = journal(dir.path());
    let change = j
        .iter()
        .find(|e| e["action"] == "level")
        .expect("level change recorded");
    assert_eq!(
        (change["from"].as_str(), change["to"].as_str()),
        (Some("default"), Some("declared"))
    );
    assert!(change["explanation"].as_str().unwrap().contains(url));
    // The device then announces a different MUD URL: neither is believed, back to default,
    // recorded with both URLs.
    facts.mud_url_changed_to = Some("https://evil.example/open.json".into());
    gw.handle(&Output::Device(facts.clone()), 4).unwrap();
    assert_eq!(gw.level(&mac), Some(enforce::Level::Default));
    let j = journal(dir.path());
    let back = j.iter().rev().find(|e| e["action"] == "level").unwrap();
    assert_eq!(
        (back["from"].as_str(), back["to"].as_str()),
        (Some("declared"), Some("default"))
    );
    assert!(back["explanation"]
        .as_str()
        .unwrap()
        .contains("https://evil.example/open.json"));
}

#[test]
fn device_cap_bounds_containment_under_spoofed_macs() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 60);
    cfg.max_devices = 10;
    let mut gw = Gateway::new(cfg).unwrap();
    for i in 0..1000u32 {
        let mac = Mac([2, 9, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        let mut f = monitor::DeviceFacts::new(mac, 1);
        f.add_addr(std::net::IpAddr::from([10, 9, (i >> 8) as u8, i as u8]));
        gw.handle(&Output::Device(f), 1).unwrap();
    }
    let contained = journal(dir.path())
        .iter()
        .filter(|e| e["action"] == "contain")
        .count();
    assert_eq!(contained, 10);
    // Warned, but not once per spoofed frame.
    assert!(
        !gw.warnings.is_empty() && gw.warnings.len() <= 12,
        "{}",
        gw.warnings.len()
    );
    assert!(gw.warnings[0].contains("configured maximum"));
}

/// A power loss mid-write leaves half a line at the end of the journal: the gateway starts,
/// drops that tail with a warning, and keeps every complete entry (a running quarantine too).
#[test]
fn a_torn_last_journal_line_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, frames) = build("mirai", 1).unwrap();
    let first_scan = truth
        .devices
        .iter()
        .filter_map(|d| d.first_scan_ns)
        .min()
        .unwrap();
    {
        let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
        feed(&mut gw, &frames, first_scan + 5 * NS);
    }
    let path = dir.path().join("journal.jsonl");
    let whole = std::fs::read(&path).unwrap();
    let entries = journal(dir.path()).len();
    assert!(entries > 1);
    // Half of one more entry, no newline.
    let last_line = whole[..whole.len() - 1]
        .rsplit(|b| *b == b'\n')
        .next()
        .unwrap()
        .to_vec();
    let mut torn = whole.clone();
    torn.extend_from_slice(&last_line[..last_line.len() / 2]);
    std::fs::write(&path, &torn).unwrap();
    let gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    assert!(
        gw.warnings.iter().any(|w| w.contains("half-written")),
        "{:?}",
        gw.warnings
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        whole,
        "complete entries kept, tail dropped"
    );
    assert_eq!(journal(dir.path()).len(), entries);
    drop(gw);
    // A corrupt line that is not the tail is still an error naming the line.
    let mut bad = b"{not json}\n".to_vec();
    bad.extend_from_slice(&whole);
    std::fs::write(&path, &bad).unwrap();
    let err = Gateway::new(config(dir.path(), 3600)).err().unwrap();
    assert!(err.to_string().contains("line 1"), "{err}");
}

/// At the device cap, a device idle for `IDLE_EVICT_S` makes room for a new one (journal
/// `evict`); when every device is active, the newcomer is not taken in (it stays under the
/// catch-all) and a warning says so.
#[test]
fn the_device_cap_evicts_idle_devices_and_never_active_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 3600);
    cfg.max_devices = 2;
    let mut gw = Gateway::new(cfg).unwrap();
    let facts = |i: u8, t: u64| {
        let mut f = monitor::DeviceFacts::new(Mac([2, 0, 0, 0, 0, i]), t);
        f.add_addr(format!("192.168.1.{}", 10 + i).parse().unwrap());
        f
    };
    let t0 = 1_700_000_000 * NS;
    gw.handle(&Output::Device(facts(1, t0)), t0).unwrap();
    gw.handle(&Output::Device(facts(2, t0)), t0).unwrap();
    // Both active a minute later: the third device gets no place.
    let t1 = t0 + 60 * NS;
    gw.note_seen(&Mac([2, 0, 0, 0, 0, 1]), t1);
    gw.note_seen(&Mac([2, 0, 0, 0, 0, 2]), t1);
    gw.handle(&Output::Device(facts(3, t1)), t1).unwrap();
    assert_eq!(gw.level(&Mac([2, 0, 0, 0, 0, 3])), None);
    assert!(
        gw.warnings.iter().any(|w| w.contains("not contained")),
        "{:?}",
        gw.warnings
    );
    // Device 1 goes quiet; past the idle limit it is evicted for the newcomer.
    gw.note_seen(&Mac([2, 0, 0, 0, 0, 2]), t1 + 400 * NS);
    let t2 = t1 + (gateway::IDLE_EVICT_S + 10) * NS;
    gw.handle(&Output::Device(facts(3, t2)), t2).unwrap();
    assert_eq!(
        gw.level(&Mac([2, 0, 0, 0, 0, 3])),
        Some(enforce::Level::Default)
    );
    assert_eq!(gw.level(&Mac([2, 0, 0, 0, 0, 1])), None);
    assert_eq!(
        gw.level(&Mac([2, 0, 0, 0, 0, 2])),
        Some(enforce::Level::Default)
    );
    let j = journal(dir.path());
    assert!(j
        .iter()
        .any(|e| e["action"] == "evict" && e["device"] == "02:00:00:00:00:01"));
    assert!(!j
        .iter()
        .any(|e| e["action"] == "evict" && e["device"] == "02:00:00:00:00:02"));
}
