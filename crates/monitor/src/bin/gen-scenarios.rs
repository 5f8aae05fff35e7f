//! Write the labelled scenario captures and their ground truth.
//!
//! Usage: gen-scenarios OUTDIR [--seed N]
//! Example: cargo run -p monitor --bin gen-scenarios -- target/scenarios
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir: Option<PathBuf> = None;
    let mut seed = 1u64;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--seed" => {
                let Some(v) = args.get(i + 1).and_then(|s| s.parse().ok()) else {
                    eprintln!("error: --seed needs a number");
                    return ExitCode::from(2);
                };
                seed = v;
                i += 1;
            }
            "-h" | "--help" => {
                println!("usage: gen-scenarios OUTDIR [--seed N]\n\nWrites home.pcap, mirai.pcap, traps.pcapng and a <name>.truth.json beside each.");
                return ExitCode::SUCCESS;
            }
            other if dir.is_none() => dir = Some(PathBuf::from(other)),
            other => {
                eprintln!("error: unexpected argument {other:?}");
                return ExitCode::from(2);
            }
        }
        i += 1;
    }
    let Some(dir) = dir else {
        eprintln!("usage: gen-scenarios OUTDIR [--seed N]");
        return ExitCode::from(2);
    };
    match monitor::scenarios::write_all(&dir, seed) {
        Ok(truths) => {
            for t in truths {
                let infected = t.devices.iter().filter(|d| d.infected).count();
                println!(
                    "{}: {} packets, {} devices ({} infected)",
                    dir.join(&t.capture).display(),
                    t.packets,
                    t.devices.len(),
                    infected
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: writing scenarios to {}: {e}", dir.display());
            ExitCode::from(2)
        }
    }
}
