//! `trustgate monitor` through the real binary on every capture of
//! `shared/data/realworld/pcap/`: each is analysed (exit 0, or 1 with events; the summary
//! counts the frames analysed) or refused with exit 2 and a message saying nothing was
//! analysed; gzip-compressed captures are read. A capture of a link type the monitor does not
//! read is refused the same way, never "0 events".

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trustgate");
const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/realworld/pcap"
);

#[test]
fn every_realworld_capture_is_analysed_or_refused_with_exit_2() {
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 30);
    let (mut analysed, mut refused) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let out = Command::new(BIN)
            .args(["monitor", "--json", f.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) | Some(1) => {
                analysed += 1;
                let summary: serde_json::Value = serde_json::from_str(
                    String::from_utf8_lossy(&out.stdout).lines().last().unwrap(),
                )
                .unwrap();
                assert_eq!(summary["type"], "summary", "{name}");
                let frames = summary["replay"]["frames"].as_u64().unwrap();
                let decoded = summary["monitor"]["ip_packets"].as_u64().unwrap()
                    + summary["monitor"]["not_ip"].as_u64().unwrap();
                assert!(frames > 0 && decoded > 0, "{name}: {summary}");
                assert!(err.contains(" analysed ("), "{name}: {err}");
                if name.ends_with(".gz") {
                    assert_eq!(summary["replay"]["compression"], "gzip", "{name}");
                }
                // Exit 1 only with events, exit 0 only without.
                let events = summary["events"].as_u64().unwrap();
                assert_eq!(out.status.code() == Some(1), events > 0, "{name}");
            }
            Some(2) => {
                refused += 1;
                assert!(err.contains("nothing was analysed"), "{name}: {err}");
            }
            other => panic!("{name}: exit {other:?}: {err}"),
        }
    }
    // Only the NFLOG trace whose one TLV has a bad length decodes to nothing.
    assert_eq!((analysed, refused), (29, 1));
    // SSH password guessing is found in its trace (exit 1).
    let out = Command::new(BIN)
        .args([
            "monitor",
            Path::new(DIR)
                .join("zeek__ssh__sshguess.pcap")
                .to_str()
                .unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("brute-force"));
}

#[test]
fn an_unread_link_type_or_an_empty_capture_is_refused_not_ok() {
    let dir = tempfile::tempdir().unwrap();
    // A pcap of USB frames (LINKTYPE_USB_LINUX, 189).
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&4u16.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&65535u32.to_le_bytes());
    bytes.extend_from_slice(&189u32.to_le_bytes());
    for i in 0..3u32 {
        bytes.extend_from_slice(&(1_700_000_000 + i).to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&48u32.to_le_bytes());
        bytes.extend_from_slice(&48u32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 48]);
    }
    let usb = dir.path().join("usb.pcap");
    std::fs::write(&usb, &bytes).unwrap();
    let out = Command::new(BIN)
        .args(["monitor", usb.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing was analysed"), "{err}");
    assert!(err.contains("189 (USB_LINUX)"), "{err}");
    // The same header with no records: nothing to analyse either.
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, &bytes[..24]).unwrap();
    let out = Command::new(BIN)
        .args(["monitor", empty.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("holds no frames"), "{err}");
    // A gzip-compressed generated scenario reads like the plain file (events, exit 1).
    scenarios::write_all(dir.path(), 1).unwrap();
    let plain = std::fs::read(dir.path().join("mirai.pcap")).unwrap();
    let gz = dir.path().join("mirai.pcap.gz");
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    std::io::Write::write_all(&mut enc, &plain).unwrap();
    enc.finish().unwrap();
    let run = |p: &Path| {
        Command::new(BIN)
            .args(["monitor", p.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let a = run(&dir.path().join("mirai.pcap"));
    let b = run(&gz);
    assert_eq!(b.status.code(), Some(1));
    assert_eq!(a.stdout, b.stdout, "the same events from the .gz");
    // A compressed stream cut short is an input error, exit 2, saying gzip.
    let mut bad = std::fs::read(&gz).unwrap();
    bad.truncate(bad.len() / 2);
    let badp = dir.path().join("bad.pcap.gz");
    std::fs::write(&badp, &bad).unwrap();
    let out = run(&badp);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("gzip"), "{err}");
}

#[test]
fn direction_scenarios_through_the_cli_and_an_allowed_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let (_, frames) = scenarios::build(name, 1).unwrap();
        let p = dir.path().join(format!("{name}.pcap"));
        scenarios::write_pcap(&p, &frames).unwrap();
        p
    };
    let events = |out: &std::process::Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v.get("kind").is_some())
            .collect()
    };
    // An inbound flood: reported on the victim, nobody quarantined, the router never named.
    let flood = write("inbound-syn-flood");
    let out = Command::new(BIN)
        .args(["monitor", "--json", flood.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let evs = events(&out);
    assert!(!evs.is_empty());
    let router = scenarios::GATEWAY_MAC.to_string();
    for e in &evs {
        assert_eq!(e["kind"], "inbound-flood", "{e}");
        assert_eq!(e["quarantine"], false, "{e}");
        assert_ne!(e["device"], router.as_str(), "{e}");
    }
    // The fallback resolver: reported, not quarantined; allowed by the owner: nothing.
    let fallback = write("fallback-resolver");
    let out = Command::new(BIN)
        .args(["monitor", "--json", fallback.to_str().unwrap()])
        .output()
        .unwrap();
    let evs = events(&out);
    assert!(!evs.is_empty());
    assert!(evs
        .iter()
        .all(|e| e["kind"] == "dns-bypass" && e["quarantine"] == false));
    let hub = evs[0]["device"].as_str().unwrap().to_string();
    let out = Command::new(BIN)
        .args([
            "monitor",
            fallback.to_str().unwrap(),
            "--allow-resolver",
            &format!("{hub}=8.8.8.8"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A malformed allowance is a usage error.
    let out = Command::new(BIN)
        .args([
            "monitor",
            fallback.to_str().unwrap(),
            "--allow-resolver",
            "x=y",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
