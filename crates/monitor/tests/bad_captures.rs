//! Truncated, corrupt and giant-snaplen captures: a clear error or a skip with a count, never
//! a crash, and never unbounded memory.

use monitor::capture::{replay_reader, MAX_RECORD_BYTES};
use monitor::{replay_file, CaptureError, Config, Monitor, OuiTable, Output};
use proptest::prelude::*;
use scenarios::{build, write_pcap, write_pcap_record};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn mirai_pcap() -> Vec<u8> {
    let (_, frames) = build("mirai", 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.pcap");
    write_pcap(&p, &frames[..2000]).unwrap();
    std::fs::read(p).unwrap()
}

/// Replay bytes through a monitor; returns the replay result and the number of events.
fn replay_bytes(bytes: &[u8]) -> (Result<monitor::ReplayStats, CaptureError>, usize) {
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out: Vec<Output> = Vec::new();
    let r = replay_reader(Path::new("input.pcap"), bytes, |t, f| {
        mon.process(t, f, &mut out)
    });
    (
        r,
        out.iter().filter(|o| matches!(o, Output::Event(_))).count(),
    )
}

#[test]
fn truncated_inside_a_record_processes_what_is_there_and_says_where() {
    let full = mirai_pcap();
    let (full_stats, _) = replay_bytes(&full);
    let full_stats = full_stats.unwrap();
    assert_eq!(full_stats.frames, 2000);
    let cut = &full[..full.len() - 7];
    let (r, events) = replay_bytes(cut);
    let stats = r.expect("a truncated capture is not an error");
    assert_eq!(stats.frames, 1999);
    let at = stats.truncated_at.expect("reported as truncated");
    assert!(at > 24 && (at as usize) < cut.len(), "{at}");
    assert!(events > 0, "the frames before the cut were monitored");
}

#[test]
fn not_a_capture_and_empty_are_clear_errors() {
    let (r, _) = replay_bytes(b"this is a text file, not a capture at all....");
    let e = r.unwrap_err();
    assert!(matches!(e, CaptureError::NotACapture { .. }), "{e}");
    assert!(e.to_string().contains("not a pcap or pcapng"), "{e}");
    let (r, _) = replay_bytes(b"");
    assert!(matches!(r.unwrap_err(), CaptureError::Empty { .. }));
    // A pcap header cut short.
    let full = mirai_pcap();
    let (r, _) = replay_bytes(&full[..10]);
    assert!(r.is_err());
}

#[test]
fn corrupt_record_length_is_an_error_with_offset_and_count() {
    let full = mirai_pcap();
    // Find the 11th record and set its captured length to 3 GB.
    let mut off = 24usize;
    for _ in 0..10 {
        let caplen = u32::from_le_bytes(full[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + caplen;
    }
    let mut bad = full.clone();
    bad[off + 8..off + 12].copy_from_slice(&0xC000_0000u32.to_le_bytes());
    let (r, events) = replay_bytes(&bad);
    match r {
        Err(CaptureError::Corrupt {
            offset,
            frames,
            ref detail,
            ..
        }) => {
            assert_eq!(frames, 10);
            assert_eq!(offset as usize, off);
            assert!(detail.contains("limit"), "{detail}");
        }
        other => panic!("expected a corruption error, got {other:?}"),
    }
    let _ = events;
}

#[test]
fn giant_snaplen_header_and_large_records_are_fine_up_to_the_limit() {
    let (_, frames) = build("home", 1).unwrap();
    let mut bytes = Vec::new();
    let mut header = pcap_parser::PcapHeader::new();
    header.snaplen = u32::MAX; // the header's snaplen is advice, not an allocation size
    use pcap_parser::ToVec;
    bytes.extend(header.to_vec().unwrap());
    for (t, f) in frames.iter().take(50) {
        write_pcap_record(&mut bytes, *t, f).unwrap();
    }
    // A 300 000-byte frame (beyond pcap's usual 262 144 snaplen, below our 1 MiB limit).
    let mut big = frames[0].1.clone();
    big.resize(300_000, 0);
    write_pcap_record(&mut bytes, frames[50].0, &big).unwrap();
    for (t, f) in frames.iter().skip(51).take(20) {
        write_pcap_record(&mut bytes, *t, f).unwrap();
    }
    let (r, _) = replay_bytes(&bytes);
    let stats = r.unwrap();
    assert_eq!(stats.frames, 71);
    // One record over the limit is refused, not allocated.
    let mut too_big = bytes.clone();
    let mut huge = frames[0].1.clone();
    huge.resize(MAX_RECORD_BYTES + 1, 0);
    write_pcap_record(&mut too_big, frames[80].0, &huge).unwrap();
    let (r, _) = replay_bytes(&too_big);
    assert!(
        matches!(r, Err(CaptureError::Corrupt { frames: 71, .. })),
        "{r:?}"
    );
}

#[test]
fn garbage_frames_inside_a_valid_file_are_counted_not_fatal() {
    let (_, frames) = build("home", 1).unwrap();
    let mut bytes = Vec::new();
    let header = pcap_parser::PcapHeader::new();
    use pcap_parser::ToVec;
    bytes.extend(header.to_vec_raw().unwrap());
    let t = frames[0].0;
    write_pcap_record(&mut bytes, t, &[0xde, 0xad]).unwrap(); // shorter than Ethernet
    write_pcap_record(&mut bytes, t, &[0u8; 0]).unwrap(); // empty
    let mut bad_ip = frames[0].1.clone();
    bad_ip[14] = 0x4f; // IHL 15 words: header longer than the frame
    bad_ip.truncate(30);
    write_pcap_record(&mut bytes, t, &bad_ip).unwrap();
    for (t, f) in frames.iter().take(10) {
        write_pcap_record(&mut bytes, *t, f).unwrap();
    }
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let stats = replay_reader(Path::new("x.pcap"), &bytes[..], |t, f| {
        mon.process(t, f, &mut out)
    })
    .unwrap();
    assert_eq!(stats.frames, 13);
    assert_eq!(mon.stats().malformed, 3);
    assert_eq!(mon.stats().ip_packets, 10);
}

#[test]
fn pcapng_buffer_growth_and_other_link_types() {
    let mut frames = 0;
    let s = replay_file(&data("err-buffertoosmall.pcapng"), |_, _| frames += 1).unwrap();
    assert_eq!(s.format, "pcapng");
    assert_eq!(s.frames, 27);
    // A pcap of link type RAW (101) is skipped with a count.
    let mut bytes = Vec::new();
    let mut header = pcap_parser::PcapHeader::new();
    header.network = pcap_parser::Linktype::RAW;
    use pcap_parser::ToVec;
    bytes.extend(header.to_vec_raw().unwrap());
    write_pcap_record(&mut bytes, 1, &[0x45, 0, 0, 20]).unwrap();
    let (r, _) = replay_bytes(&bytes);
    let s = r.unwrap();
    assert_eq!((s.frames, s.skipped_linktype), (0, 1));
    assert_eq!(s.other_linktypes, vec![101]);
}

#[test]
fn real_lan_capture_is_quiet() {
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    let s = replay_file(&data("wireshark_samples-test.pcapng"), |t, f| {
        mon.process(t, f, &mut out);
        events.extend(out.drain(..).filter(|o| matches!(o, Output::Event(_))));
    })
    .unwrap();
    assert_eq!(s.frames, 5898);
    assert!(mon.stats().devices >= 10);
    assert!(events.is_empty(), "{events:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any byte flips anywhere in a capture: an error or a result, never a panic.
    #[test]
    fn mutated_captures_never_panic(flips in proptest::collection::vec((0usize..40_000, any::<u8>()), 1..20), cut in 0usize..40_000) {
        static PCAP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let mut bytes = PCAP.get_or_init(mirai_pcap).clone();
        bytes.truncate(40_000);
        for (i, v) in flips {
            if i < bytes.len() { bytes[i] = v; }
        }
        bytes.truncate(cut.max(1));
        let _ = replay_bytes(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Frames of every kind the generator makes (DHCP, DNS, mDNS, TCP, UDP) with bytes changed:
    /// the decoders (etherparse, dhcproto, simple-dns) are fed hostile input and must not
    /// take the monitor down.
    #[test]
    fn mutated_frames_never_panic(pick in 0usize..1000, flips in proptest::collection::vec((0usize..600, any::<u8>()), 1..12), cut in 14usize..700) {
        static FRAMES: std::sync::OnceLock<scenarios::Frames> = std::sync::OnceLock::new();
        let frames = FRAMES.get_or_init(|| build("traps", 2).unwrap().1[..300].to_vec());
        let mut f = frames[pick % 300].1.clone();
        for (i, v) in flips {
            let n = f.len();
            f[i % n] = v;
        }
        f.truncate(cut);
        let mut mon = Monitor::new(Config::default(), OuiTable::default());
        let mut out = Vec::new();
        mon.process(1, &frames[0].1, &mut out);
        mon.process(2, &f, &mut out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// DHCPv4/v6, DNS and mDNS payloads of random bytes behind valid headers: no panic in the
    /// decoders (dhcproto 0.14 has two that the monitor guards against).
    #[test]
    fn random_dhcp_and_dns_payloads_never_panic(kind in 0u8..4, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut payload = match kind {
            0 => vec![1, 0x12, 0x34, 0x56],            // DHCPv6 Solicit header
            1 => { let mut v = vec![1u8, 1, 6, 0]; v.resize(236, 0); v.extend_from_slice(&[99, 130, 83, 99]); v } // BOOTP + magic
            _ => vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0], // DNS response header
        };
        payload.extend_from_slice(&body);
        let _ = monitor::identity::parse_dhcpv6(&payload);
        let _ = monitor::identity::parse_dhcpv4(&payload);
        let _ = monitor::identity::parse_mdns_names(&payload);
        // And through the monitor as DNS answers, DHCP and mDNS frames.
        let dev = scenarios::Host::new([2, 0, 0, 0, 0, 1], [192, 168, 1, 9]);
        let gw = scenarios::GATEWAY;
        let mut mon = Monitor::new(Config::default(), OuiTable::default());
        let mut out = Vec::new();
        for (from, to, sp, dp) in [(dev, gw, 68, 67), (gw, dev, 67, 68), (dev, gw, 546, 547), (gw, dev, 53, 5000), (dev, gw, 5353, 5353), (dev, gw, 5000, 53)] {
            let f = scenarios::udp_frame(from, to, sp, dp, &payload);
            mon.process(1, &f, &mut out);
        }
    }
}
