//! `trustgate gateway run` (live capture, containment and quarantine) and `trustgate gateway
//! release`: argument handling and output over the `gateway` crate.

use crate::monitor_cmd::load_policies;
use crate::Finding;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use monitor::Config;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Watch a LAN interface live and quarantine devices that behave like bots.
    ///
    /// Without --apply it only reports (like `trustgate monitor` on live traffic). With --apply
    /// every device seen is put under containment in nftables (level `default`, or `declared`
    /// when --policies has its MUD file) and bot behaviour moves it to `isolated` for --ttl
    /// seconds; --dry-run records what would change without touching nftables. Every change
    /// is appended to journal.jsonl in --state. Laptops, phones and other general-purpose
    /// devices you own would lose printing, casting, SSH and mail at `default`: name them with
    /// --trusted (or later `trustgate gateway trust MAC`) to keep their internet and LAN access.
    /// Needs root.
    ///
    /// Example: trustgate gateway run --iface br-lan --gateway-ip 192.168.1.1 --apply --ttl 3600
    Run(RunArgs),
    /// Release a quarantined device now (the owner's decision), and wait until the running
    /// gateway has done it.
    ///
    /// Fails (exit 2, saying why) when no gateway is running with --state, the directory is not
    /// a gateway's, the device is not quarantined, or the gateway does not answer in 10 s. The
    /// device goes back to its level before the quarantine, with the DNS answers it had.
    ///
    /// Example: trustgate gateway release --state /var/lib/trustgate/gateway 02:ca:3e:00:00:01
    Release(OwnerArgs),
    /// Trust a general-purpose device (a laptop, a phone, a printer): it keeps the internet and
    /// the LAN instead of being held at `default`. Recorded in the journal, kept across restarts.
    /// Bot behaviour still quarantines it.
    ///
    /// Example: trustgate gateway trust --state /var/lib/trustgate/gateway 3c:22:fb:12:34:56
    Trust(OwnerArgs),
    /// Withdraw trust: the device goes back to `default` (or `declared` with a verified MUD file).
    Untrust(OwnerArgs),
}

#[derive(Args)]
pub struct OwnerArgs {
    /// The device's MAC address.
    pub mac: mud::Mac,
    /// The running gateway's state directory (its --state).
    #[arg(long, default_value = DEFAULT_STATE_DIR)]
    pub state: PathBuf,
    /// Print the journal entry recording the change as JSON.
    #[arg(long)]
    pub json: bool,
}

const DEFAULT_STATE_DIR: &str = "/var/lib/trustgate/gateway";

#[derive(Args)]
pub struct RunArgs {
    /// The LAN interface to watch (a bridge such as br-lan sees every device).
    #[arg(long)]
    pub iface: String,
    /// A directory of MUD files (*.json): devices announcing one of their URLs get `declared`.
    /// Each NAME.json needs its detached signature NAME.p7s beside it, verified against
    /// --mud-ca; a file that is unsigned, badly signed or not strictly valid RFC 8520 is not
    /// used (its devices stay at `default`) and a warning says why.
    #[arg(long, requires = "mud_ca")]
    pub policies: Option<PathBuf>,
    /// Trust anchors (PEM) for the signatures of the --policies files.
    #[arg(long = "mud-ca")]
    pub mud_ca: Option<PathBuf>,
    /// Put devices under containment in nftables and quarantine bots (needs root).
    #[arg(long)]
    pub apply: bool,
    /// With --apply: record every change in the journal, change nothing in nftables.
    #[arg(long)]
    pub dry_run: bool,
    /// The gateway's own addresses (DNS/NTP/DHCP server for the devices). Repeat for several.
    #[arg(long = "gateway-ip")]
    pub gateway_ips: Vec<IpAddr>,
    /// Local networks (default: RFC 1918, fc00::/7, fe80::/10).
    #[arg(long = "local")]
    pub locals: Vec<ipnet::IpNet>,
    /// The LAN is a Linux bridge (frames between devices are filtered too).
    #[arg(long)]
    pub bridged_lan: bool,
    /// Seconds a quarantine lasts unless the owner releases the device first.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
    /// Where the journal (journal.jsonl) and owner release requests live.
    #[arg(long, default_value = DEFAULT_STATE_DIR)]
    pub state: PathBuf,
    /// Most devices held under containment. At the limit, a device idle for 5 minutes makes
    /// room for a new one; when none is idle the new device stays under the catch-all (no
    /// traffic but DHCP, DNS and neighbour discovery to the gateway).
    #[arg(long, default_value_t = gateway::DEFAULT_MAX_DEVICES)]
    pub max_devices: usize,
    /// A public resolver you allow a device to use (MAC=IP), or every device (IP): its DNS
    /// queries there are not reported. Repeat for several.
    #[arg(long = "allow-resolver")]
    pub allowed_resolvers: Vec<monitor::monitor::AllowedResolver>,
    /// A device you trust (laptop, phone): held at `trusted` (internet and LAN, only replies
    /// come in from outside) instead of `default`. Repeat for several.
    #[arg(long = "trusted")]
    pub trusted: Vec<mud::Mac>,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run_gateway(cmd: GatewayCommand) -> Result<Option<Finding>> {
    match cmd {
        GatewayCommand::Run(args) => {
            let policies = match &args.policies {
                Some(dir) => load_policies(
                    dir,
                    args.mud_ca
                        .as_deref()
                        .expect("clap requires --mud-ca with --policies"),
                )?,
                None => vec![],
            };
            let mut site = enforce::Site {
                gateway: args.gateway_ips.clone(),
                bridged_lan: args.bridged_lan,
                // Fail closed: what arrives on the LAN from a device not (yet) contained goes
                // nowhere but to the gateway's DHCP, DNS and neighbour discovery.
                lan_interfaces: vec![args.iface.clone()],
                ..enforce::Site::default()
            };
            if !args.locals.is_empty() {
                site.local_networks = args.locals.clone();
            }
            let monitor_cfg = Config {
                resolvers: args.gateway_ips.clone(),
                // Configured local networks are the LAN's prefixes too (besides those the
                // gateway's router advertisements announce): addresses in them are local.
                lan_prefixes: args.locals.clone(),
                policies: policies.clone(),
                allowed_resolvers: args.allowed_resolvers.clone(),
                ..Config::default()
            };
            let gw_cfg = gateway::GatewayConfig {
                site,
                nft: enforce::NftRunner::default(),
                apply: args.apply,
                dry_run: args.dry_run,
                quarantine_ttl_s: args.ttl,
                state_dir: args.state.clone(),
                policies,
                max_devices: args.max_devices,
                trusted: args.trusted.clone(),
            };
            let deadline = args
                .duration
                .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
            let json = args.json;
            eprintln!(
                "watching {}{}",
                args.iface,
                match (args.apply, args.dry_run) {
                    (true, false) => format!(", enforcing; journal in {}", args.state.display()),
                    (true, true) => format!(", dry run; journal in {}", args.state.display()),
                    _ => ", reporting only".to_string(),
                }
            );
            if args.apply {
                eprintln!(
                    "every device seen is held at `default` (HTTPS and NTP out, DNS via the gateway, no LAN peers) or `declared` (its verified MUD file); {} trusted device(s) keep the internet and the LAN. To keep a laptop or phone working: --trusted MAC, or `trustgate gateway trust --state {} MAC` while running",
                    args.trusted.len(),
                    args.state.display()
                );
            }
            let events = gateway::run_live(
                &args.iface,
                monitor_cfg,
                gw_cfg,
                || deadline.is_some_and(|d| std::time::Instant::now() >= d),
                |e| {
                    let mut w = std::io::stdout().lock();
                    let _ = if json {
                        serde_json::to_writer(&mut w, e)
                            .map_err(std::io::Error::other)
                            .and_then(|_| writeln!(w))
                    } else {
                        writeln!(
                            w,
                            "{}  {}  {:<17}  {}",
                            e.time,
                            e.device,
                            e.kind.as_str(),
                            e.explanation
                        )
                    };
                    let _ = w.flush();
                },
                |warning| eprintln!("warning: {warning}"),
            )
            .with_context(|| format!("gateway on {}", args.iface))?;
            Ok((events > 0).then_some(Finding))
        }
        GatewayCommand::Release(a) => owner(a, gateway::OwnerRequest::Release),
        GatewayCommand::Trust(a) => owner(a, gateway::OwnerRequest::Trust),
        GatewayCommand::Untrust(a) => owner(a, gateway::OwnerRequest::Untrust),
    }
}

/// Hand an owner's request to the running gateway and report what it did.
fn owner(a: OwnerArgs, request: gateway::OwnerRequest) -> Result<Option<Finding>> {
    let entry =
        gateway::owner_request(&a.state, request, a.mac, std::time::Duration::from_secs(10))
            .with_context(|| format!("{} of {}", request.dir(), a.mac))?;
    let mut w = std::io::stdout().lock();
    match (&entry, a.json) {
        (Some(e), true) => writeln!(w, "{}", serde_json::to_string(e)?)?,
        (None, true) => writeln!(w, "null")?,
        (Some(e), false) => writeln!(
            w,
            "{} of {}: now {}{}",
            request.dir(),
            a.mac,
            e.to,
            if e.applied || e.dry_run {
                String::new()
            } else {
                format!(
                    " (nftables did not take it: {})",
                    e.error.as_deref().unwrap_or("unknown")
                )
            }
        )?,
        (None, false) => writeln!(w, "{}: nothing to change for {}", request.dir(), a.mac)?,
    }
    Ok(None)
}
