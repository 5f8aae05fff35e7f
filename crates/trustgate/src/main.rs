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
mod demo;
mod gateway_cmd;
mod gateway_config;
mod label_cmd;
mod monitor_cmd;
mod registry_cmd;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use enforce::{Compiler, Device, Level, Mac, Site};
use mud::parse::{parse, Mode, ParseError, Warning};
use serde_json::json;
use std::net::IpAddr;
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
    Mud(MudCommand),
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
    Baseline(label_cmd::BaselineCommand),
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

#[derive(Args)]
struct InputOpts {
    /// The MUD file (JSON, at most 1 MiB).
    file: PathBuf,
    /// Accept draft-era names (access-lists, ethernet-acl-type, lower-port/upper-port …) with
    /// warnings instead of rejecting them.
    #[arg(long)]
    lenient: bool,
}

#[derive(Subcommand)]
enum MudCommand {
    /// Check a MUD file against RFC 8520 / RFC 8519 and report every problem with its JSON path.
    ///
    /// Example: trustgate mud validate device.json --lenient
    Validate {
        #[command(flatten)]
        input: InputOpts,
        #[arg(long)]
        json: bool,
    },
    /// Verify a MUD file's detached CMS signature (RFC 8520 §13) against trust anchors.
    ///
    /// Only the certificates in --ca are trusted; the system store is never consulted.
    /// Example: trustgate mud verify device.json --sig device.p7s --ca vendor-ca.pem --at 2019-01-01T00:00:00Z
    Verify {
        file: PathBuf,
        /// Detached DER CMS signature (the file `mud-signature` points to).
        #[arg(long)]
        sig: PathBuf,
        /// PEM file with one or more trusted CA certificates.
        #[arg(long)]
        ca: PathBuf,
        /// Validate certificates at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Sign a MUD file for publication: writes a detached DER CMS signature.
    ///
    /// Example: trustgate mud sign device.json --key signer.key --cert signer.pem -o device.p7s
    Sign {
        file: PathBuf,
        /// Signer private key (PEM). Read here and never copied anywhere else.
        #[arg(long)]
        key: PathBuf,
        /// Signer certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// Intermediate certificates to include (PEM).
        #[arg(long)]
        chain: Option<PathBuf>,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Compile a MUD file into an nftables ruleset for one device (prints it; applies nothing).
    ///
    /// The output is accepted by `nft -c -f -`; with --json it is libnftables JSON (`nft -j -f`).
    /// Example: trustgate mud compile device.json --mac 02:00:00:00:00:01 --ip 192.168.1.20
    Compile {
        #[command(flatten)]
        input: InputOpts,
        /// The device's MAC address.
        #[arg(long)]
        mac: Mac,
        /// The device's IPv4/IPv6 addresses (repeat for several).
        #[arg(long = "ip")]
        ips: Vec<IpAddr>,
        /// Containment level: declared (exactly what the MUD file allows), default (DNS, NTP and
        /// DHCP via the gateway, HTTPS out, no LAN peers), update-only (DNS and the vendor's
        /// update hosts), isolated (DHCP and DNS to the gateway only) or trusted (an owner's
        /// laptop or phone: the internet and LAN peers, only replies come in from outside).
        #[arg(long, default_value = "declared")]
        level: Level,
        /// The gateway's own addresses (DNS/NTP/DHCP server).
        #[arg(long = "gateway")]
        gateways: Vec<IpAddr>,
        /// Local networks for the `local-networks` abstraction (default: RFC 1918, fc00::/7, fe80::/10).
        #[arg(long = "local")]
        locals: Vec<ipnet::IpNet>,
        #[arg(long)]
        json: bool,
    },
    /// Say in plain words what a device with this MUD file may do on a home network.
    Explain {
        #[command(flatten)]
        input: InputOpts,
        #[arg(long)]
        json: bool,
    },
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
        Command::Mud(cmd) => run_mud(cmd),
        Command::Keygen {
            output,
            public,
            json,
        } => label_cmd::keygen(&output, public, json),
        Command::Label(cmd) => label_cmd::run(cmd),
        Command::Assess(args) => assess_cmd::run(args),
        Command::Baseline(cmd) => label_cmd::baseline(cmd),
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

fn read_mud(path: &Path) -> Result<Vec<u8>> {
    read_bounded(path, mud::parse::MAX_MUD_BYTES, "MUD files")
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

/// Read and parse the MUD file named by `input`. A file that does not parse is a finding: it
/// is reported here (as JSON when `json`) and `None` is returned.
fn load_policy(input: &InputOpts, json: bool) -> Result<Option<mud::parse::Parsed>> {
    let bytes = read_mud(&input.file)?;
    match parse(&bytes, mode(input.lenient)) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(e) => {
            report_parse_error(&input.file, &e, json)?;
            if !input.lenient && !json && parse(&bytes, Mode::Lenient).is_ok() {
                eprintln!(
                    "hint: {} uses draft-era names; --lenient accepts it with warnings",
                    input.file.display()
                );
            }
            Ok(None)
        }
    }
}

fn mode(lenient: bool) -> Mode {
    if lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    }
}

fn print_warnings(file: &Path, warnings: &[Warning]) {
    for w in warnings {
        eprintln!("warning: {}: {}: {}", file.display(), w.path, w.message);
    }
}

fn report_parse_error(file: &Path, e: &ParseError, json: bool) -> Result<()> {
    if json {
        outln!("{}", json!({"file": file, "valid": false, "error": e}));
    } else {
        eprintln!("invalid: {}: {}: {}", file.display(), e.path, e.rule);
    }
    Ok(())
}

fn run_mud(cmd: MudCommand) -> Result<Option<Finding>> {
    match cmd {
        MudCommand::Validate { input, json } => match load_policy(&input, json)? {
            Some(parsed) => {
                if json {
                    outln!(
                        "{}",
                        json!({"file": input.file, "valid": true, "warnings": parsed.warnings,
                                   "mud_url": parsed.policy.mud_url, "rules": parsed.policy.rules.len()})
                    );
                } else {
                    print_warnings(&input.file, &parsed.warnings);
                    outln!(
                        "valid: {} ({}, {} rules, {} warnings)",
                        input.file.display(),
                        parsed.policy.mud_url,
                        parsed.policy.rules.len(),
                        parsed.warnings.len()
                    );
                }
                Ok(None)
            }
            None => Ok(Some(Finding)),
        },
        MudCommand::Verify {
            file,
            sig,
            ca,
            at,
            json,
        } => {
            let content = read_mud(&file)?;
            let signature =
                std::fs::read(&sig).with_context(|| format!("cannot read {}", sig.display()))?;
            let anchors_pem =
                std::fs::read(&ca).with_context(|| format!("cannot read {}", ca.display()))?;
            let anchors = mud::signature::TrustAnchors::from_pem(&anchors_pem)
                .with_context(|| format!("trust anchors in {}", ca.display()))?;
            let at = parse_at(at)?;
            match mud::signature::verify_detached(&content, &signature, &anchors, at) {
                Ok(v) => {
                    if json {
                        outln!("{}", json!({"file": file, "valid": true, "signer": v}));
                    } else {
                        outln!(
                            "valid: {} signed by {} (issuer {}), checked at {}",
                            file.display(),
                            v.signer_subject,
                            v.signer_issuer,
                            v.validated_at
                        );
                    }
                    Ok(None)
                }
                Err(e) => {
                    if json {
                        outln!(
                            "{}",
                            json!({"file": file, "valid": false, "reason": e.to_string()})
                        );
                    } else {
                        eprintln!("NOT valid: {}: {e}", file.display());
                    }
                    Ok(Some(Finding))
                }
            }
        }
        MudCommand::Sign {
            file,
            key,
            cert,
            chain,
            output,
        } => {
            let content = read_mud(&file)?;
            // Refuse to sign what a gateway would refuse to load.
            if let Err(e) = parse(&content, Mode::Strict) {
                report_parse_error(&file, &e, false)?;
                return Ok(Some(Finding));
            }
            let key_pem =
                std::fs::read(&key).with_context(|| format!("cannot read {}", key.display()))?;
            let cert_pem =
                std::fs::read(&cert).with_context(|| format!("cannot read {}", cert.display()))?;
            let chain_pem = chain
                .map(|c| std::fs::read(&c).with_context(|| format!("cannot read {}", c.display())))
                .transpose()?;
            let der =
                mud::signature::sign_detached(&content, &key_pem, &cert_pem, chain_pem.as_deref())?;
            std::fs::write(&output, der)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("wrote {}", output.display());
            Ok(None)
        }
        MudCommand::Compile {
            input,
            mac,
            ips,
            level,
            gateways,
            locals,
            json,
        } => {
            let Some(parsed) = load_policy(&input, false)? else {
                return Ok(Some(Finding));
            };
            print_warnings(&input.file, &parsed.warnings);
            let mut site = Site {
                gateway: gateways,
                ..Site::default()
            };
            if !locals.is_empty() {
                site.local_networks = locals;
            }
            let device = Device {
                mac,
                ipv4: ips
                    .iter()
                    .filter_map(|a| match a {
                        IpAddr::V4(v) => Some(*v),
                        _ => None,
                    })
                    .collect(),
                ipv6: ips
                    .iter()
                    .filter_map(|a| match a {
                        IpAddr::V6(v) => Some(*v),
                        _ => None,
                    })
                    .collect(),
                level,
                policy: Some(parsed.policy),
                update_hosts: vec![],
            };
            let c = Compiler::new(&site);
            let mut batch = c.skeleton();
            batch.extend(c.add_device(&device)?);
            if json {
                outln!("{}", serde_json::to_string_pretty(&batch.to_json())?);
            } else {
                out!("{}", batch.to_text());
            }
            Ok(None)
        }
        MudCommand::Explain { input, json } => {
            let Some(parsed) = load_policy(&input, json)? else {
                return Ok(Some(Finding));
            };
            let text = mud::explain::explain(&parsed.policy);
            if json {
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                outln!(
                    "{}",
                    json!({"file": input.file, "mud_url": parsed.policy.mud_url,
                           "is_supported": parsed.policy.is_supported, "explanation": lines})
                );
            } else {
                print_warnings(&input.file, &parsed.warnings);
                out!("{text}");
                if !text.ends_with('\n') {
                    outln!();
                }
            }
            Ok(None)
        }
    }
}
