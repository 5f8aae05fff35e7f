//! The default-password check bounds its work: an image's own hash parameters cannot stall
//! the assessment. A real squashfs (mksquashfs) whose /etc/shadow holds a sha512crypt hash
//! with rounds=999999999 and a bcrypt hash of cost 31 is assessed in seconds, and those
//! accounts make 5.1-1 `cannot-tell`, never `pass`; ordinary hashes are still checked.

use std::process::Command;
use std::time::{Duration, Instant};

use assess::{Options, Verdict};

const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b64ish(n: usize, seed: usize) -> String {
    (0..n)
        .map(|i| ALPHABET[(i * 7 + seed) % 64] as char)
        .collect()
}

fn squashfs(shadow: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nslow:x:1000:1000::/home/slow:/bin/sh\nbf:x:1001:1001::/home/bf:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/shadow"), shadow).unwrap();
    // A root filesystem (/etc beside /bin), so the verdicts are the checks' own.
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("bin/sh"), "#!/bin/false\n").unwrap();
    let out = dir.path().join("img.squashfs");
    let st = Command::new("mksquashfs")
        .arg(&root)
        .arg(&out)
        .args(["-noappend", "-quiet", "-comp", "gzip", "-all-root"])
        .status()
        .expect("mksquashfs (squashfs-tools)");
    assert!(st.success());
    std::fs::read(out).unwrap()
}

fn options() -> Options {
    Options {
        as_of: "2025-06-01".into(),
        ..Options::default()
    }
}

#[test]
fn hostile_hash_costs_are_not_tried_and_give_cannot_tell() {
    let slow = format!("$6$rounds=999999999$saltsalt${}", b64ish(86, 1));
    let bf = format!("$2b$31${}", b64ish(53, 2));
    let image = squashfs(&format!(
        "root:*:19000:0:99999:7:::\nslow:{slow}:19000:0:99999:7:::\nbf:{bf}:19000:0:99999:7:::\n"
    ));
    let t = Instant::now();
    let r = assess::assess("costly.squashfs", &image, &options()).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    for p in ["5.1-1", "5.1-2"] {
        let v = r.verdict(p).unwrap();
        assert_eq!(v.verdict, Verdict::CannotTell, "{p}: {v:?}");
        assert!(
            v.reason.contains("account \"slow\"") && v.reason.contains("999999999 rounds"),
            "{}",
            v.reason
        );
        assert!(
            v.reason.contains("account \"bf\"") && v.reason.contains("cost 31"),
            "{}",
            v.reason
        );
        assert!(
            v.evidence.iter().any(|e| e.contains("/etc/shadow")),
            "{v:?}"
        );
    }
    // The weak-scheme provision is still decided (neither hash is a weak scheme).
    assert_eq!(r.verdict("5.1-3").unwrap().verdict, Verdict::Pass);
}

#[test]
fn a_default_password_next_to_a_costly_hash_is_still_found() {
    let root = pwhash::sha512_crypt::hash_with("$6$saltsalt$", "admin").unwrap();
    let slow = format!("$5$rounds=5000000$saltsalt${}", b64ish(43, 3));
    let image = squashfs(&format!(
        "root:{root}:19000:0:99999:7:::\nslow:{slow}:19000:0:99999:7:::\n"
    ));
    let r = assess::assess("mixed.squashfs", &image, &options()).unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "default-password" && f.message.contains("\"root\"")),
        "{:?}",
        r.findings
    );
    // A failing finding decides the provision; the unchecked account does not hide it.
    assert_eq!(r.verdict("5.1-1").unwrap().verdict, Verdict::Fail);
}

#[test]
fn ordinary_costs_are_checked_and_pass() {
    let user =
        pwhash::sha512_crypt::hash_with("$6$rounds=20000$saltsalt$", "a-unique-passphrase-91")
            .unwrap();
    let image = squashfs(&format!("root:{user}:19000:0:99999:7:::\n"));
    let r = assess::assess("ok.squashfs", &image, &options()).unwrap();
    assert_eq!(r.verdict("5.1-1").unwrap().verdict, Verdict::Pass);
}

#[test]
fn the_per_image_budget_stops_at_many_hashes() {
    // 500 distinct sha512crypt hashes at 5000 rounds: 2.5 M rounds, past the 2 M budget.
    // Cheap to build (the strings need not be real hashes of anything).
    let mut shadow = String::new();
    for i in 0..500 {
        shadow.push_str(&format!(
            "u{i}:$6$s{i:07}${}:19000:0:99999:7:::\n",
            b64ish(86, i)
        ));
    }
    let image = squashfs(&shadow);
    let t = Instant::now();
    let r = assess::assess("many.squashfs", &image, &options()).unwrap();
    let v = r.verdict("5.1-1").unwrap();
    assert_eq!(v.verdict, Verdict::CannotTell, "{v:?}");
    assert!(v.reason.contains("per image"), "{}", v.reason);
    assert!(v.reason.contains("account \"u499\""), "{}", v.reason);
    assert!(!v.reason.contains("account \"u0\""), "{}", v.reason);
    eprintln!("500 hashes: {:?}", t.elapsed());
}
