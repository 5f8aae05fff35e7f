//! The firmware corpus, built once by `scripts/build-firmware-corpus` and cached under
//! `target/firmware-corpus/<hash of the script>`; concurrent test processes wait on a lock.
#![allow(dead_code)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// The corpus directory, building it if needed (needs apt-get, squashfs-tools,
/// u-boot-tools, cpio, python3; see the script's header).
pub fn corpus() -> PathBuf {
    let root = workspace();
    let script = root.join("scripts/build-firmware-corpus");
    let text = std::fs::read(&script).expect("read the corpus script");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = base
        .join("firmware-corpus")
        .join(format!("{:016x}", h.finish()));
    if !dir.join(".complete").exists() {
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let lock = dir.with_extension("lock");
        let out = Command::new("flock")
            .arg(&lock)
            .arg(&script)
            .arg(&dir)
            .output()
            .expect("run flock + scripts/build-firmware-corpus");
        assert!(
            out.status.success(),
            "building the firmware corpus failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// The expected-results file of one corpus image.
pub fn expected(image: &str) -> serde_json::Value {
    let p = workspace()
        .join("testdata/firmware")
        .join(format!("{image}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Every image that has an expected-results file.
pub fn expected_images() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(workspace().join("testdata/firmware"))
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .strip_suffix(".expected.json")
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

/// Read one file out of a squashfs image with squashfs-tools (independent of our unpacker).
pub fn unsquashfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let out = Command::new("unsquashfs")
        .arg("-cat")
        .arg(image)
        .arg(path)
        .output()
        .expect("run unsquashfs");
    assert!(out.status.success(), "unsquashfs -cat {path} failed");
    out.stdout
}
