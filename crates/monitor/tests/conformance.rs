//! MUD conformance on the `home` scenario: the thermostat's MUD file allows what it does and it
//! stays quiet; the speaker's allows only its streaming host, so its time-service connection
//! and its NTP to a public server are reported. Devices without a MUD URL are not checked.

use monitor::{replay_file, Config, EventKind, Monitor, OuiTable, Output};
use scenarios::{build, write_pcap};

/// A MUD file (RFC 8520) with from-device ACEs: (name, dst-dnsname or None, protocol, port).
fn mud_file(url: &str, aces: &[(&str, Option<&str>, u8, u16)]) -> mud::DevicePolicy {
    let ace_json: Vec<String> = aces
        .iter()
        .map(|(name, host, proto, port)| {
            let l4 = if *proto == 6 { "tcp" } else { "udp" };
            let dns = host
                .map(|h| format!(r#""ietf-acldns:dst-dnsname": "{h}","#))
                .unwrap_or_default();
            format!(
                r#"{{"name": "{name}", "matches": {{"ipv4": {{{dns} "protocol": {proto}}},
                   "{l4}": {{"destination-port": {{"operator": "eq", "port": {port}}}}}}},
                   "actions": {{"forwarding": "accept"}}}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"ietf-mud:mud": {{"mud-version": 1, "mud-url": "{url}",
            "last-update": "2026-01-01T00:00:00+00:00", "cache-validity": 48, "is-supported": true,
            "systeminfo": "test", "from-device-policy": {{"access-lists": {{"access-list": [{{"name": "fr"}}]}}}},
            "to-device-policy": {{"access-lists": {{"access-list": [{{"name": "to"}}]}}}}}},
          "ietf-access-control-list:acls": {{"acl": [
            {{"name": "fr", "type": "ipv4-acl-type", "aces": {{"ace": [{}]}}}},
            {{"name": "to", "type": "ipv4-acl-type", "aces": {{"ace": []}}}}]}}}}"#,
        ace_json.join(",")
    );
    match mud::parse::parse(json.as_bytes(), mud::parse::Mode::Lenient) {
        Ok(p) => p.policy,
        Err(e) => panic!("test MUD file invalid: {}: {}\n{json}", e.path, e.rule),
    }
}

#[test]
fn traffic_outside_the_mud_file_is_reported_and_inside_is_not() {
    let thermostat = mud_file(
        "https://thermo.example.com/mud/thermostat.json",
        &[
            ("cloud", Some("api.thermo.example.com"), 6, 443),
            ("ntp", None, 17, 123),
        ],
    );
    let speaker = mud_file(
        "https://audio.example.org/mud/speaker-v2.json",
        &[("stream", Some("stream.audio.example.org"), 6, 443)],
    );
    let (truth, frames) = build("home", 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("home.pcap");
    write_pcap(&path, &frames).unwrap();
    let config = Config {
        policies: vec![thermostat, speaker],
        ..Config::default()
    };
    let mut mon = Monitor::new(config, OuiTable::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    replay_file(&path, |t, f| {
        mon.process(t, f, &mut out);
        events.extend(out.drain(..).filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        }));
    })
    .unwrap();
    let mac_of = |role: &str| truth.devices.iter().find(|d| d.role == role).unwrap().mac;
    let speaker_events: Vec<_> = events
        .iter()
        .filter(|e| e.device == mac_of("speaker"))
        .collect();
    assert!(!speaker_events.is_empty());
    assert!(speaker_events
        .iter()
        .all(|e| e.kind == EventKind::MudViolation && !e.quarantine));
    let dsts: Vec<String> = speaker_events
        .iter()
        .flat_map(|e| e.evidence.iter().map(|p| format!("{}:{}", p.dst, p.dport)))
        .collect();
    assert!(
        dsts.iter()
            .any(|d| d == "192.0.2.41:443" || d == "162.159.200.1:123"),
        "{dsts:?}"
    );
    assert!(
        !dsts.iter().any(|d| d == "192.0.2.40:443"),
        "the allowed host was reported: {dsts:?}"
    );
    assert!(speaker_events[0].explanation.contains("does not allow"));
    // Conforming and unchecked devices: nothing.
    assert!(
        events.iter().all(|e| e.device == mac_of("speaker")),
        "{events:?}"
    );
}
