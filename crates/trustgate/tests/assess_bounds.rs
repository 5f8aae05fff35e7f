//! `trustgate assess` refuses unbounded requests with a clear error and exit code 2, never a
//! panic (exit 134) or unbounded memory: a huge `--threads`, an input with no end.

use std::process::Command;
use std::time::{Duration, Instant};

fn trustgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustgate"))
        .args(args)
        .output()
        .expect("run trustgate")
}

fn tiny_image(dir: &std::path::Path) -> String {
    std::fs::create_dir_all(dir.join("root/etc")).unwrap();
    std::fs::write(dir.join("root/etc/shadow"), "root:*:19000:0:99999:7:::\n").unwrap();
    let p = dir.join("tiny.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(dir.join("root"))
        .arg("-cf")
        .arg(&p)
        .arg("etc")
        .status()
        .expect("tar");
    assert!(st.success());
    p.to_string_lossy().into_owned()
}

#[test]
fn threads_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let img = tiny_image(dir.path());
    for n in ["100000", "0", "-3"] {
        let o = trustgate(&["assess", &img, &format!("--threads={n}")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--threads {n}: {err}");
        assert!(err.contains("--threads"), "{err}");
        assert!(err.contains("1..=1024") || err.contains("1024"), "{err}");
    }
    // In range it runs (exit 0: the tiny image fails no mandatory provision, or 1 if it does;
    // never 2).
    let o = trustgate(&["assess", &img, "--threads", "3"]);
    assert_ne!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_ne!(o.status.code(), Some(134));
}

#[test]
fn an_endless_input_stops_at_the_size_cap() {
    let t = Instant::now();
    let o = trustgate(&["assess", "/dev/zero"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("1073741824 bytes"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}
