//! `trustgate assess` end to end on the firmware corpus: exit codes, JSON/SARIF/SBOM files,
//! deterministic bytes, hostile archives writing nothing, same-model comparison, feeds, and
//! `label issue --assessment`.

#[path = "../../assess/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

fn trustgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run trustgate")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn image(name: &str) -> String {
    common::corpus().join(name).to_string_lossy().into_owned()
}

#[test]
fn clean_image_passes_and_outputs_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let args = |tag: &str| {
        vec![
            "assess".to_string(),
            image("clean.squashfs"),
            "--json".into(),
            "--as-of".into(),
            "2025-06-01".into(),
            "--sarif".into(),
            p(&format!("{tag}.sarif")),
            "--sbom".into(),
            p(&format!("{tag}.cdx.json")),
        ]
    };
    let run = |tag: &str| {
        let a = args(tag);
        trustgate(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            dir.path(),
        )
    };
    let first = run("a");
    assert_eq!(
        code(&first),
        0,
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run("b");
    assert_eq!(first.stdout, second.stdout, "same image, same JSON bytes");
    for ext in ["sarif", "cdx.json"] {
        assert_eq!(
            std::fs::read(p(&format!("a.{ext}"))).unwrap(),
            std::fs::read(p(&format!("b.{ext}"))).unwrap(),
            "same {ext} bytes"
        );
    }
    let r: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(r["image"]["name"], "clean.squashfs");
    // Every provision passes except the two the embedded sample feed cannot speak for.
    for v in r["verdicts"].as_array().unwrap() {
        if v["provision"] == "5.3-8" || v["provision"] == "5.2-3" {
            assert_eq!(v["verdict"], "cannot-tell", "{v}");
            assert!(
                v["reason"].as_str().unwrap().contains("curated sample"),
                "{v}"
            );
        } else {
            assert_eq!(v["verdict"], "pass", "{v}");
        }
    }
    assert_eq!(r["coverage"]["root_filesystem_opened"], true);
    assert_eq!(r["coverage"]["not_opened"].as_array().unwrap().len(), 0);
    assert_eq!(r["schema"], "urn:trustgate:schema:assessment:2");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("a.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("a.cdx.json")).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.6");
    assert_eq!(sbom["components"].as_array().unwrap().len(), 3);
}

/// Files that are not firmware (a PDF from binwalk's test inputs, random bytes, a text
/// file, a packet capture) open nothing: no provision passes, the report says what the file
/// is, and the exit is non-zero with a message saying so.
#[test]
fn nothing_opened_gets_no_pass_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let shared = common::workspace().join("../shared/data/realworld");
    let random: Vec<u8> = (0u32..65536)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("random.bin"), random).unwrap();
    std::fs::write(
        dir.path().join("notes.txt"),
        "root:admin\nnot firmware at all\n",
    )
    .unwrap();
    let pcap = std::fs::read_dir(shared.join("pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .min()
        .expect("a capture");
    for (path, kind) in [
        (shared.join("firmware/binwalk/pdf.bin"), "PDF document"),
        (dir.path().join("random.bin"), "data in no known format"),
        (dir.path().join("notes.txt"), "text"),
        (pcap, "packet capture"),
    ] {
        let p = path.to_string_lossy().into_owned();
        let out = trustgate(&["assess", &p, "--json"], dir.path());
        assert_eq!(code(&out), 1, "{p}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("nothing in the image was opened") && err.contains("no provision passes"),
            "{p}: {err}"
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["coverage"]["root_filesystem_opened"], false, "{p}");
        assert_eq!(r["coverage"]["opened"].as_array().unwrap().len(), 0, "{p}");
        let not = &r["coverage"]["not_opened"][0];
        assert!(not["format"].as_str().unwrap().contains(kind), "{p}: {not}");
        assert_eq!(not["offset"], 0);
        assert_eq!(not["size"], std::fs::metadata(&path).unwrap().len());
        for v in r["verdicts"].as_array().unwrap() {
            assert_ne!(v["verdict"], "pass", "{p}: {v}");
        }
        let human = trustgate(&["assess", &p], dir.path());
        assert_eq!(code(&human), 1);
        assert!(String::from_utf8_lossy(&human.stdout).contains("none passed: see coverage"));
    }
}

/// A feed that is current and names every component found can pass 5.3-8; the same records
/// judged a year later, or a feed without records for a component found, cannot.
#[test]
fn feed_coverage_decides_whether_silence_is_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let feed = tempfile::tempdir().unwrap();
    let clean = image("clean.squashfs");
    let shipped = common::workspace().join("crates/assess/feed");
    for e in std::fs::read_dir(&shipped).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, feed.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let f = feed.path().to_string_lossy().into_owned();
    let verdict = |as_of: &str| {
        let out = trustgate(
            &["assess", &clean, "--json", "--feed", &f, "--as-of", as_of],
            dir.path(),
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["provision"] == "5.3-8")
            .cloned()
            .unwrap()
    };
    // The newest shipped record is from 2025-06-01; busybox, dropbear and openssl all have
    // records.
    assert_eq!(verdict("2025-06-20")["verdict"], "pass");
    let late = verdict("2026-06-01");
    assert_eq!(late["verdict"], "cannot-tell", "{late}");
    assert!(
        late["reason"]
            .as_str()
            .unwrap()
            .contains("days before the assessment date"),
        "{late}"
    );
    for e in std::fs::read_dir(feed.path()).unwrap() {
        let p = e.unwrap().path();
        if std::fs::read_to_string(&p).unwrap().contains("dropbear") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let partial = verdict("2025-06-20");
    assert_eq!(partial["verdict"], "cannot-tell", "{partial}");
    assert!(
        partial["reason"]
            .as_str()
            .unwrap()
            .contains("no record for dropbear"),
        "{partial}"
    );
}

#[test]
fn planted_problem_exits_1_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let out = trustgate(&["assess", &image("telnet.squashfs")], dir.path());
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("telnet-enabled"), "{text}");
    assert!(text.contains("at /etc/inittab, byte 26 (line 2)"), "{text}");
    assert!(text.contains("5.6-1"), "{text}");
    assert!(text.contains("mandatory provision(s) FAILED"), "{text}");
}

#[test]
fn hostile_archives_exit_2_and_write_nothing() {
    for (name, says) in [
        ("traversal.tar", "path traversal"),
        ("symlink-escape.tar", "symlink escape"),
        ("bomb.gz", "decompression bomb"),
        ("bomb.squashfs", "decompression bomb"),
        ("truncated.squashfs", "truncated squashfs"),
        ("truncated.tar.gz", "truncated gzip"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = trustgate(&["assess", &image(name), "--json"], dir.path());
        assert_eq!(code(&out), 2, "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: no report on error");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{name} wrote into cwd"
        );
        assert!(
            !Path::new("/tmp/trustgate-pwned").exists(),
            "{name} escaped to /tmp"
        );
    }
}

#[test]
fn same_model_flags_a_universal_default() {
    let dir = tempfile::tempdir().unwrap();
    let alone = trustgate(&["assess", &image("universal-a.squashfs")], dir.path());
    assert_eq!(code(&alone), 0);
    let both = trustgate(
        &[
            "assess",
            &image("universal-a.squashfs"),
            "--same-model",
            &image("universal-b.squashfs"),
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code(&both), 1);
    let r: serde_json::Value = serde_json::from_slice(&both.stdout).unwrap();
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "universal-default-password")
        .expect("universal default found");
    assert_eq!(f["rule"], "universal-default-password");
    assert_eq!(f["evidence"][0]["path"], "/etc/shadow");
    assert!(
        !f["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("$6$"),
        "hash not copied"
    );
}

#[test]
fn feed_option() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let outdated = image("outdated.squashfs");
    assert_eq!(code(&trustgate(&["assess", &outdated], dir.path())), 1);
    // With an empty feed nothing is known to be vulnerable.
    let out = trustgate(
        &[
            "assess",
            &outdated,
            "--feed",
            &empty.path().to_string_lossy(),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::write(empty.path().join("broken.json"), "{").unwrap();
    let out = trustgate(
        &[
            "assess",
            &outdated,
            "--feed",
            &empty.path().to_string_lossy(),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
    let out = trustgate(&["assess", &outdated, "--as-of", "June"], dir.path());
    assert_eq!(code(&out), 2);
    let out = trustgate(&["assess", "/nonexistent.bin"], dir.path());
    assert_eq!(code(&out), 2);
}

#[test]
fn label_issue_takes_the_assessment() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let clean = image("clean.squashfs");
    let out = trustgate(
        &["assess", &clean, "--json", "--as-of", "2025-06-01"],
        dir.path(),
    );
    assert_eq!(code(&out), 0);
    std::fs::write(p("report.json"), &out.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        code(&trustgate(&["keygen", "-o", &p("a.key")], dir.path())),
        0
    );
    let mut claims = label::example_claims();
    claims.software[0].image_sha256 = label::Sha256Digest::of(&std::fs::read(&clean).unwrap());
    std::fs::write(p("claims.json"), claims.to_json_pretty()).unwrap();
    let out = trustgate(
        &[
            "label",
            "issue",
            &p("claims.json"),
            "--key",
            &p("a.key"),
            "-o",
            &p("l.cose"),
            "--assessment",
            &p("report.json"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let shown = trustgate(&["label", "show", &p("l.cose"), "--json"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let a = &v["claims"]["assessment"];
    assert_eq!(a["method"], "firmware-analysis");
    assert_eq!(a["date"], "2025-06-01");
    let verdicts = a["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), report["verdicts"].as_array().unwrap().len());
    for (lv, rv) in verdicts.iter().zip(report["verdicts"].as_array().unwrap()) {
        assert_eq!(lv["provision"], rv["provision"]);
        assert_eq!(lv["verdict"], rv["verdict"]);
        if !rv["evidence"].as_array().unwrap().is_empty() {
            assert_eq!(lv["evidence"][0], rv["evidence_sha256"]);
        }
    }
    // A report about another image is refused.
    let out = trustgate(&["assess", &image("telnet.squashfs"), "--json"], dir.path());
    std::fs::write(p("other.json"), &out.stdout).unwrap();
    let out = trustgate(
        &[
            "label",
            "issue",
            &p("claims.json"),
            "--key",
            &p("a.key"),
            "-o",
            &p("m.cose"),
            "--assessment",
            &p("other.json"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not among the label's software images"));
    assert!(!Path::new(&p("m.cose")).exists());
}

#[test]
fn vendor_claims_settle_disclosure() {
    // A bare root filesystem (tar made by GNU tar) with no security.txt.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/shadow"), "root:*:19000::::::\n").unwrap();
    let tar = dir.path().join("fw.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let tar = tar.to_string_lossy().into_owned();
    let verdict_52 = |out: &Output| {
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["provision"] == "5.2-1")
            .cloned()
            .unwrap()
    };
    let alone = trustgate(&["assess", &tar, "--json"], dir.path());
    assert_eq!(verdict_52(&alone)["verdict"], "cannot-tell");
    let claims = dir.path().join("claims.json");
    std::fs::write(&claims, label::example_claims().to_json_pretty()).unwrap();
    let with = trustgate(
        &[
            "assess",
            &tar,
            "--json",
            "--claims",
            &claims.to_string_lossy(),
        ],
        dir.path(),
    );
    let v = verdict_52(&with);
    assert_eq!(v["verdict"], "pass", "{v}");
    assert_eq!(v["evidence"][0], "vendor-claims:claims.json");
}

/// A filesystem that opens but holds no root filesystem (FACT's three-file squashfs test
/// image): no provision passes, `coverage.root_filesystem_opened` is false (what `label
/// issue` reads), and the exit is 1 with a message saying so.
#[test]
fn no_root_filesystem_gets_no_pass_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let image = common::workspace()
        .join("../shared/data/realworld/firmware/fact/squashFS/test/data/gzip.sqfs");
    let out = trustgate(&["assess", &image.to_string_lossy(), "--json"], dir.path());
    assert_eq!(code(&out), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no root filesystem was opened") && err.contains("no provision passes"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["coverage"]["root_filesystem_opened"], false);
    assert_eq!(
        r["coverage"]["opened"][0]["format"],
        "squashfs (little endian)"
    );
    assert!(r["extracted"]["files"].as_u64().unwrap() >= 3);
    for v in r["verdicts"].as_array().unwrap() {
        assert_ne!(v["verdict"], "pass", "{v}");
    }
}
