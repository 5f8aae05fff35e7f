//! Time the stages of one assessment: `cargo run --release -p assess --example stages IMAGE`.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("IMAGE");
    let bytes = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let u = assess::unpack::unpack(&bytes, assess::Limits::default(), &|_| {}).unwrap();
    let unpack = t.elapsed();
    let t = Instant::now();
    let r = assess::assess(&path, &bytes, &assess::Options::default()).unwrap();
    let full = t.elapsed();
    println!(
        "{} MB image, {} MB extracted: unpack {:?}, full assessment {:?}, {} findings",
        bytes.len() / 1_000_000,
        u.total_bytes / 1_000_000,
        unpack,
        full,
        r.findings.len()
    );
}
