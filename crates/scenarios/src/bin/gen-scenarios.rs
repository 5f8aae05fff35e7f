//! Writes the labelled scenario captures and their ground truth.
#![forbid(unsafe_code)]

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Writes the labelled home-network captures the monitor is measured on: home.pcap (benign
/// devices only), mirai.pcap (four devices infected by Mirai among them) and traps.pcapng
/// (benign traffic that looks suspicious), each with a <name>.truth.json beside it listing every
/// device, whether it is infected, and the event kinds a correct monitor reports.
///
/// The same seed always gives the same bytes.
///
/// Example: gen-scenarios target/scenarios --seed 7
///
/// Exit status: 0 written, 2 bad arguments or the files could not be written.
#[derive(Parser)]
#[command(name = "gen-scenarios", version)]
struct Args {
    /// Directory to write into (created if missing).
    outdir: PathBuf,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the ground truth of every capture as JSON instead of one line each.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let truths = match scenarios::write_all(&args.outdir, args.seed) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: writing scenarios to {}: {e}", args.outdir.display());
            return ExitCode::from(2);
        }
    };
    match print(&args, &truths) {
        // A reader that went away (`gen-scenarios … | head`) is not an error: the files are
        // written.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: printing the summary: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn print(args: &Args, truths: &[scenarios::Truth]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, truths)?;
        return writeln!(out);
    }
    for t in truths {
        let infected = t.devices.iter().filter(|d| d.infected).count();
        writeln!(
            out,
            "{}: {} packets, {} devices ({} infected)",
            args.outdir.join(&t.capture).display(),
            t.packets,
            t.devices.len(),
            infected
        )?;
    }
    Ok(())
}
