//! MUD URLs announced by LLDP (RFC 8520 §10: an organizationally specific TLV, OUI 00-00-5E,
//! subtype 1): read like DHCP option 161, only about the sender itself, first one kept, a
//! changed or non-https one an event. Frames are built TLV by TLV per IEEE 802.1AB §8.

use monitor::{Config, EventKind, Mac, Monitor, OuiTable, Output};
use scenarios::{udp_frame, Host, GATEWAY};

const NS: u64 = 1_000_000_000;

fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
    let head = (kind << 9) | value.len() as u16;
    let mut v = head.to_be_bytes().to_vec();
    v.extend_from_slice(value);
    v
}

/// An LLDPDU from `src` to the nearest-bridge group address carrying `url`.
fn lldp(src: Mac, url: &str) -> Vec<u8> {
    let mut f = vec![0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x88, 0xcc]);
    let mut chassis = vec![4]; // subtype 4: MAC address
    chassis.extend_from_slice(&src.0);
    f.extend(tlv(1, &chassis));
    f.extend(tlv(2, b"\x07eth0")); // port id, subtype 7: locally assigned
    f.extend(tlv(3, &120u16.to_be_bytes())); // TTL
    f.extend(tlv(5, b"luminaire")); // system name
    let mut mud = vec![0x00, 0x00, 0x5e, 0x01];
    mud.extend_from_slice(url.as_bytes());
    f.extend(tlv(127, &mud));
    f.extend(tlv(0, &[])); // end
    f
}

fn run(frames: &[(u64, Vec<u8>)]) -> Vec<Output> {
    let mut m = Monitor::new(Config::default(), OuiTable::default());
    let mut out = vec![];
    for (t, f) in frames {
        m.process(*t, f, &mut out);
    }
    out
}

const DEV: Mac = Mac([0x02, 0x00, 0x00, 0x00, 0x11, 0x01]);
const URL: &str = "https://luminaire.example.com/Luminaire_150";

fn hello(t: u64) -> (u64, Vec<u8>) {
    (
        t,
        udp_frame(
            Host {
                mac: DEV,
                ip: "192.168.1.60".parse().unwrap(),
            },
            GATEWAY,
            40000,
            123,
            &[0u8; 48],
        ),
    )
}

fn last_url(out: &[Output]) -> Option<String> {
    out.iter()
        .rev()
        .find_map(|o| match o {
            Output::Device(f) if f.mac == DEV => Some(f.mud_url.clone()),
            _ => None,
        })
        .flatten()
}

#[test]
fn a_device_s_lldp_mud_url_is_its_mud_url() {
    let out = run(&[hello(NS), (2 * NS, lldp(DEV, URL))]);
    assert_eq!(last_url(&out).as_deref(), Some(URL));
}

#[test]
fn lldp_from_a_device_not_seen_yet_names_nobody() {
    let out = run(&[(NS, lldp(DEV, URL))]);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_second_url_is_an_event_and_the_first_is_kept() {
    let out = run(&[
        hello(NS),
        (2 * NS, lldp(DEV, URL)),
        (40 * NS, lldp(DEV, "https://evil.example/other.json")),
    ]);
    assert!(
        out.iter().any(|o| matches!(o, Output::Event(e) if e.kind == EventKind::MudUrlChanged && e.device == DEV)),
        "{out:?}"
    );
    let facts = out
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Device(f) if f.mac == DEV => Some(f.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(facts.mud_url.as_deref(), Some(URL));
    assert_eq!(
        facts.mud_url_changed_to.as_deref(),
        Some("https://evil.example/other.json")
    );
}

#[test]
fn an_http_url_over_lldp_is_refused_as_an_event() {
    let out = run(&[
        hello(NS),
        (2 * NS, lldp(DEV, "http://luminaire.example.com/x.json")),
    ]);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Event(e) if e.kind == EventKind::MudUrlInvalid)),
        "{out:?}"
    );
    assert_eq!(last_url(&out), None);
}

#[test]
fn truncated_and_endless_lldp_frames_are_harmless() {
    let good = lldp(DEV, URL);
    let mut frames = vec![hello(NS)];
    for cut in 14..good.len() {
        frames.push((2 * NS, good[..cut].to_vec()));
    }
    // A TLV claiming more bytes than the frame has.
    let mut long = good[..14].to_vec();
    long.extend_from_slice(&[0xfe, 0xff, 0x00, 0x00]);
    frames.push((3 * NS, long));
    let out = run(&frames);
    // Cut before the MUD TLV is complete, no URL is taken; once complete (before End) it is.
    assert!(last_url(&out).is_none() || last_url(&out).as_deref() == Some(URL));
}
