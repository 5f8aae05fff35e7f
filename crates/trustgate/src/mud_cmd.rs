//! `trustgate mud …`: validate, sign, verify, compile and explain MUD files, over the `mud`
//! and `enforce` crates.

use crate::{parse_at, read_bounded, Finding};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use enforce::{Compiler, Device, Level, Mac, Site};
use mud::parse::{parse, Mode, ParseError, Warning};
use serde_json::json;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct InputOpts {
    /// The MUD file (JSON, at most 1 MiB).
    file: PathBuf,
    /// Accept draft-era names (access-lists, ethernet-acl-type, lower-port/upper-port …) with
    /// warnings instead of rejecting them.
    #[arg(long)]
    lenient: bool,
}

#[derive(Subcommand)]
pub enum MudCommand {
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
    /// Say in plain words what a device with this MUD file may do on a home network, in
    /// English or French.
    ///
    /// Example: trustgate mud explain camera.json --lang fr
    Explain {
        #[command(flatten)]
        input: InputOpts,
        /// The language: en (English) or fr (French, Canada). Default: fr when $LANG starts
        /// with fr, else en.
        #[arg(long, value_parser = ["en", "fr"])]
        lang: Option<String>,
        /// Print JSON: the file, its MUD URL, whether it is supported, the language and the
        /// explanation's lines.
        #[arg(long)]
        json: bool,
    },
}

fn read_mud(path: &Path) -> Result<Vec<u8>> {
    read_bounded(path, mud::parse::MAX_MUD_BYTES, "MUD files")
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

pub fn run(cmd: MudCommand) -> Result<Option<Finding>> {
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
                exceptions: vec![],
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
        MudCommand::Explain { input, lang, json } => {
            let Some(parsed) = load_policy(&input, json)? else {
                return Ok(Some(Finding));
            };
            let lang = match lang.as_deref() {
                Some("fr") => mud::explain::Lang::Fr,
                Some(_) => mud::explain::Lang::En,
                None if std::env::var("LANG").is_ok_and(|l| l.starts_with("fr")) => {
                    mud::explain::Lang::Fr
                }
                None => mud::explain::Lang::En,
            };
            let text = mud::explain::explain_in(&parsed.policy, lang);
            if json {
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                let code = if lang == mud::explain::Lang::Fr {
                    "fr"
                } else {
                    "en"
                };
                outln!(
                    "{}",
                    json!({"file": input.file, "mud_url": parsed.policy.mud_url,
                           "is_supported": parsed.policy.is_supported, "lang": code,
                           "explanation": lines})
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
