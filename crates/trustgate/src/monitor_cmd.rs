//! `trustgate monitor`: replay a capture through the monitor, argument handling and output
//! over the `monitor` crate.

use crate::{read_bounded, Finding};
use anyhow::{Context, Result};
use clap::Args;
use monitor::{replay_file_links, Config, Monitor, OuiTable, Output};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct MonitorArgs {
    /// The capture to replay: pcap or pcapng, optionally gzip-compressed (.pcap.gz), of
    /// Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback, PPP, NFLOG or 802.11
    /// (with or without radiotap) frames. Its own timestamps drive the clock. On links
    /// without MAC addresses devices are named by IP address (0a:00:c0:a8:01:05 is
    /// 192.168.1.5).
    pub capture: PathBuf,
    /// A directory of MUD files (*.json): devices announcing one of their MUD URLs by DHCP are
    /// checked against it, and traffic it does not allow is reported. Each NAME.json needs its
    /// detached signature NAME.p7s beside it, verified against --mud-ca; a file that is
    /// unsigned, badly signed or not strictly valid RFC 8520 is not used (and says why).
    #[arg(long, requires = "mud_ca")]
    pub policies: Option<PathBuf>,
    /// Trust anchors (PEM) for the signatures of the --policies files.
    #[arg(long = "mud-ca")]
    pub mud_ca: Option<PathBuf>,
    /// The resolver devices should use (default: the DNS servers DHCP hands out in the
    /// capture). Repeat for several.
    #[arg(long = "resolver")]
    pub resolvers: Vec<IpAddr>,
    /// A public resolver you allow a device to use (MAC=IP), or every device (IP): its DNS
    /// queries there are not reported. Repeat for several.
    /// Example: --allow-resolver 02:00:00:00:00:07=9.9.9.9
    #[arg(long = "allow-resolver")]
    pub allowed_resolvers: Vec<monitor::monitor::AllowedResolver>,
    /// Also print what was learned about each device (MAC, vendor, DHCP/mDNS facts, addresses).
    #[arg(long)]
    pub devices: bool,
    /// One JSON object per line: events (device, kind, time, evidence, explanation), then a
    /// summary.
    #[arg(long)]
    pub json: bool,
}

/// The verified MUD policies in `dir`: each `NAME.json` with its detached CMS signature
/// `NAME.p7s` verified against the anchors in `ca`, then parsed strictly (RFC 8520). Files that
/// fail are not used and each gets a warning on stderr saying why (fail closed: their devices
/// stay at `default`).
pub(crate) fn load_policies(dir: &Path, ca: &Path) -> Result<Vec<mud::DevicePolicy>> {
    let anchors_pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
    let anchors = mud::signature::TrustAnchors::from_pem(&anchors_pem)
        .with_context(|| format!("trust anchors in {}", ca.display()))?;
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the policy directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let bytes = read_bounded(&path, mud::parse::MAX_MUD_BYTES, "MUD files")?;
        let sig_path = path.with_extension("p7s");
        let sig = match std::fs::read(&sig_path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "warning: {}: not used, no signature {} ({e})",
                    path.display(),
                    sig_path.display()
                );
                continue;
            }
        };
        if let Err(e) = mud::signature::verify_detached(&bytes, &sig, &anchors, None) {
            eprintln!(
                "warning: {}: not used, its signature {} does not verify: {e}",
                path.display(),
                sig_path.display()
            );
            continue;
        }
        match mud::parse::parse(&bytes, mud::parse::Mode::Strict) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    eprintln!("warning: {}: {}: {}", path.display(), w.path, w.message);
                }
                out.push(parsed.policy)
            }
            Err(e) => eprintln!(
                "warning: {}: not used, invalid MUD file: {}: {}",
                path.display(),
                e.path,
                e.rule
            ),
        }
    }
    Ok(out)
}

pub fn run_monitor(args: MonitorArgs) -> Result<Option<Finding>> {
    let mut config = Config {
        resolvers: args.resolvers.clone(),
        allowed_resolvers: args.allowed_resolvers.clone(),
        ..Config::default()
    };
    if let Some(dir) = &args.policies {
        let ca = args
            .mud_ca
            .as_deref()
            .expect("clap requires --mud-ca with --policies");
        config.policies = load_policies(dir, ca)?;
    }
    let oui = OuiTable::load_default();
    let mut mon = Monitor::new(config, oui);
    let mut out = Vec::new();
    let mut events = 0u64;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("reading capture");
        Some(bar)
    } else {
        None
    };
    let mut write_err: Option<std::io::Error> = None;
    let result = replay_file_links(&args.capture, |t, link, frame| {
        mon.process_link(t, link, frame, &mut out);
        if let Some(bar) = &progress {
            if mon.stats().frames % 65_536 == 0 {
                bar.set_message(format!("{} frames", mon.stats().frames));
                bar.tick();
            }
        }
        for o in out.drain(..) {
            if let Output::Event(e) = o {
                events += 1;
                if let Err(err) = write_event(&mut w, &e, args.json) {
                    write_err.get_or_insert(err);
                }
            }
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(e) = write_err {
        return Err(e).context("writing events");
    }
    if args.devices {
        let mut devices: Vec<_> = mon.devices().cloned().collect();
        devices.sort_by_key(|d| d.mac);
        for d in devices {
            if args.json {
                writeln!(w, "{}", json!({"type": "device", "device": d}))?;
            } else {
                writeln!(
                    w,
                    "device {}  vendor {}  hostname {}  mud-url {}  addresses {:?}",
                    d.mac,
                    d.vendor.as_deref().unwrap_or("-"),
                    d.hostname.as_deref().unwrap_or("-"),
                    d.mud_url.as_deref().unwrap_or("-"),
                    d.addrs
                )?;
            }
        }
    }
    let replay = result.with_context(|| {
        format!(
            "{} (events before the problem were printed above)",
            args.capture.display()
        )
    });
    let stats = mon.stats().clone();
    match &replay {
        Ok(r) => {
            if args.json {
                writeln!(
                    w,
                    "{}",
                    json!({"type": "summary", "capture": args.capture, "events": events,
                           "replay": r, "monitor": stats})
                )?;
            }
            w.flush()?;
            if let Some(at) = r.truncated_at {
                eprintln!(
                    "warning: {}: the file ends inside a record at byte {at} (an interrupted capture?); the {} frames before it were processed",
                    args.capture.display(),
                    r.frames
                );
            }
            let other: Vec<String> = r
                .other_linktypes
                .iter()
                .map(|l| monitor::link::linktype_name(*l))
                .collect();
            if r.skipped_linktype > 0 {
                eprintln!(
                    "warning: {}: skipped {} frames of link types the monitor does not read: {}",
                    args.capture.display(),
                    r.skipped_linktype,
                    other.join(", ")
                );
            }
            if stats.malformed > 0 {
                eprintln!(
                    "warning: {}: skipped {} malformed frames",
                    args.capture.display(),
                    stats.malformed
                );
            }
            // Analysed: frames whose link layer was decoded (IP or not).
            let analysed = stats.ip_packets + stats.not_ip;
            if analysed == 0 {
                let why = if r.frames > 0 {
                    format!(
                        "none of its {} frames ({}) could be decoded",
                        r.frames,
                        r.link_types.join(", ")
                    )
                } else if r.skipped_linktype > 0 {
                    format!(
                        "all its {} frames are of link types the monitor does not read ({}); it reads Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback, PPP, NFLOG and 802.11/radiotap",
                        r.skipped_linktype,
                        other.join(", ")
                    )
                } else {
                    "it holds no frames".to_string()
                };
                anyhow::bail!(
                    "{}: nothing was analysed: {why} (nothing about this capture is known to be fine)",
                    args.capture.display()
                );
            }
            if stats.ip_packets == 0 {
                eprintln!(
                    "warning: {}: no IP packets (the {analysed} frames analysed are ARP or other non-IP traffic); the detectors look at IP traffic",
                    args.capture.display()
                );
            }
            eprintln!(
                "{}: {} frames ({}{}), {} analysed ({} IP), {} devices, {} events",
                args.capture.display(),
                r.frames,
                r.link_types.join(", "),
                if r.compression.is_some() {
                    ", gzip"
                } else {
                    ""
                },
                analysed,
                stats.ip_packets,
                stats.devices,
                events
            );
        }
        Err(_) => {
            w.flush()?;
        }
    }
    replay?;
    Ok((events > 0).then_some(Finding))
}

/// One event as a line: JSON, or `time  device  kind  sentence` (the gateway prints the same).
pub(crate) fn write_event(
    w: &mut impl std::io::Write,
    e: &monitor::Event,
    json: bool,
) -> std::io::Result<()> {
    if json {
        serde_json::to_writer(&mut *w, e).map_err(std::io::Error::other)?;
        writeln!(w)
    } else {
        writeln!(
            w,
            "{}  {}  {:<17}  {}",
            e.time,
            e.device,
            e.kind.as_str(),
            e.explanation
        )
    }
}
