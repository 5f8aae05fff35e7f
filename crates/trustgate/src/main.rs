//! trustgate — the command-line front end over the workspace's crates.
//!
//! Owns: argument handling, reading files named on the command line, and printing results
//! (plain text for people, `--json` for programs). Must not: hold logic beyond that; anything
//! worth testing lives in a library crate.
//!
//! Exit codes, for every command: 0 ok, 1 a finding (invalid file, failed verification),
//! 2 an error (unreadable input, bad arguments).
#![forbid(unsafe_code)]

/// `println!` through a locked stdout that returns the write error instead of panicking: a
/// reader that closes the pipe early (`trustgate baseline list | head -1`) ends the command
/// quietly with exit 0, as ripgrep does (`main` recognises the broken pipe in the chain).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

mod assess_cmd;
mod baseline_cmd;
mod demo;
mod gateway_cmd;
mod gateway_config;
mod label_cmd;
mod monitor_cmd;
mod mud_cmd;
mod registry_cmd;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "trustgate",
    version,
    about = "Prove IoT devices are secure, and contain the ones that are not.",
    long_about = "Prove IoT devices are secure, and contain the ones that are not.\n\n\
        Vendors describe the traffic a device needs in a MUD file (RFC 8520) and sign it; \
        gateways verify the signature and let through only that traffic.\n\n\
        Start with `trustgate demo`: it runs the whole flow on a sample device, needs no root, \
        and prints each step.\n\n\
        Exit codes: 0 ok, 1 finding (invalid file, failed verification), 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main flow end to end on a sample device (no root, no network).
    Demo {
        /// Print the steps as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Work with MUD files (RFC 8520): validate, sign, verify, compile, explain.
    #[command(subcommand)]
    Mud(mud_cmd::MudCommand),
    /// Create an Ed25519 key pair for signing labels (private key written with mode 600).
    ///
    /// Example: trustgate keygen -o assessor.key   (public key goes to assessor.pub)
    Keygen {
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Where to write the public key (default: OUTPUT with extension .pub).
        #[arg(long = "public")]
        public: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Security labels: issue, show, verify (offline).
    #[command(subcommand)]
    Label(label_cmd::LabelCommand),
    /// Assess a firmware image against ETSI EN 303 645: unpack it in memory, check credentials,
    /// services, secrets, updates and components; a verdict per provision with evidence.
    ///
    /// Exit 0 when no mandatory provision fails, 1 when one does, 2 on error (e.g. a hostile
    /// archive). Example: trustgate assess firmware.bin --sarif out.sarif --sbom sbom.json
    Assess(assess_cmd::AssessArgs),
    /// The security baseline requirement catalog.
    #[command(subcommand)]
    Baseline(baseline_cmd::BaselineCommand),
    /// Replay a capture (pcap/pcapng) through the gateway monitor and report bot behaviour.
    ///
    /// Events: Mirai scanning, telnet scans, brute force, SYN/UDP/ACK floods, DNS past the
    /// router's resolver, DNS water torture, traffic outside a device's MUD file (--policies).
    /// Exit 1 if anything was reported.
    /// Example: trustgate monitor home.pcap --json
    Monitor(monitor_cmd::MonitorArgs),
    /// The gateway daemon: live monitoring, containment and quarantine.
    #[command(subcommand)]
    Gateway(gateway_cmd::GatewayCommand),
    /// The label registry: serve it, register assessors, submit/revoke/fetch labels.
    #[command(subcommand)]
    Registry(registry_cmd::RegistryCommand),
}

/// A result that is not an error but a finding (exit code 1).
struct Finding;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(Finding)) => ExitCode::from(1),
        // The reader went away (`| head`): nothing is wrong, there is just no one to tell.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether writing to stdout failed because its reader closed the pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<Option<Finding>> {
    match cli.command {
        Command::Demo { json } => demo::run(json),
        Command::Mud(cmd) => mud_cmd::run(cmd),
        Command::Keygen {
            output,
            public,
            json,
        } => label_cmd::keygen(&output, public, json),
        Command::Label(cmd) => label_cmd::run(cmd),
        Command::Assess(args) => assess_cmd::run(args),
        Command::Baseline(cmd) => baseline_cmd::run(cmd),
        Command::Monitor(args) => monitor_cmd::run_monitor(args),
        Command::Gateway(cmd) => gateway_cmd::run_gateway(cmd),
        Command::Registry(cmd) => registry_cmd::run(cmd),
    }
}

/// Read a file named on the command line, refusing before reading anything larger than
/// `limit`: a multi-gigabyte "MUD file" or "label" must not be loaded into memory.
pub(crate) fn read_bounded(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > limit as u64 {
        anyhow::bail!(
            "{}: {} bytes is over the {limit} byte limit for {what}",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `--at`: a validation time in RFC 3339; `None` when the option was not given.
pub(crate) fn parse_at(at: Option<String>) -> Result<Option<time::OffsetDateTime>> {
    at.map(|s| {
        time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
            .with_context(|| {
                format!("--at {s:?} is not an RFC 3339 time like 2019-01-01T00:00:00Z")
            })
    })
    .transpose()
}
