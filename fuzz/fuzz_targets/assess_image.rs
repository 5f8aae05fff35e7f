//! `assess::assess` on a small image with small limits: unpacking plus every check (services,
//! credentials and password hashes, secrets, updates, components and OSV matching), the report
//! and its SARIF and CycloneDX renderings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn options() -> &'static assess::Options {
    static O: OnceLock<assess::Options> = OnceLock::new();
    O.get_or_init(|| assess::Options {
        limits: assess::Limits {
            max_total_bytes: 16 << 20,
            max_entries: 2048,
            max_depth: 3,
            max_ratio: 100,
            ratio_floor: 1 << 20,
        },
        feed: assess::Feed::embedded(),
        as_of: "2026-01-01".into(),
        threads: 1,
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 << 10 {
        return;
    }
    if let Ok(report) = assess::assess("fuzz.bin", data, options()) {
        let _ = serde_json::to_string(&report).unwrap();
        let _ = assess::sarif::to_sarif(&report);
        let _ = assess::sbom::to_cyclonedx(&report);
    }
});
