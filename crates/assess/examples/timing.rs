//! Median, fastest and slowest of repeated complete assessments of each image, in this
//! process on bytes in memory (the library call the benchmark's "ours" column times):
//! `cargo run --release -p assess --example timing -- RUNS IMAGE...`.
use std::time::{Duration, Instant};
fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().expect("RUNS IMAGE...").parse().expect("RUNS");
    for path in args {
        let bytes = std::fs::read(&path).unwrap();
        let options = assess::Options::default();
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let r = assess::assess(&path, &bytes, &options);
                let el = t.elapsed();
                assert!(r.is_ok(), "{path}");
                el
            })
            .collect();
        times.sort();
        println!(
            "{path}: median {:.1} ms (min {:.1}, max {:.1}, {runs} runs, {} threads)",
            times[runs / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[runs - 1].as_secs_f64() * 1e3,
            options.threads
        );
    }
}
