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
    /// With --for the release lasts that long (for instance 1h, 30m, 90s; at most a week) and
    /// then the quarantine starts again for what was left of it.
    ///
    /// Example: trustgate gateway release --state /var/lib/trustgate/gateway 02:ca:3e:00:00:01
    /// Example: trustgate gateway release --for 1h 02:ca:3e:00:00:01
    Release(ReleaseArgs),
    /// Isolate a device now (block it): it keeps only DHCP and DNS to the gateway until you
    /// release it. Undo with `trustgate gateway release MAC`.
    ///
    /// Example: trustgate gateway isolate 02:ca:3e:00:00:01
    Isolate(OwnerArgs),
    /// Give a device a name of your own (shown instead of its DHCP host name and vendor), or
    /// take it away with --clear.
    ///
    /// Example: trustgate gateway rename 02:ca:3e:00:00:01 "Kitchen camera"
    Rename(RenameArgs),
    /// Acknowledge a new device as yours: it no longer shows as new. Its level does not change.
    ///
    /// Example: trustgate gateway approve 02:ca:3e:00:00:01
    Approve(OwnerArgs),
    /// Remove a device from the gateway: its containment, name, approval and trust go. Until
    /// it is seen again it reaches nothing but DHCP, DNS and neighbour discovery; then it is
    /// a new device.
    ///
    /// Example: trustgate gateway forget 02:ca:3e:00:00:01
    Forget(OwnerArgs),
    /// Let one device reach one more destination beside what its level allows: a DNS name
    /// (resolved from the answers the device itself gets), an address or a network,
    /// optionally only one protocol and port. The device may open connections there and get
    /// the replies; nothing there may open a connection to the device. Shown as your exception
    /// beside its maker's profile; ignored while the device is isolated. At most 16 per device.
    /// Undo with `trustgate gateway disallow` and the same destination.
    ///
    /// Example: trustgate gateway allow 02:ca:3e:00:00:01 weather.example.com --proto tcp --port 443
    /// Example: trustgate gateway allow 02:ca:3e:00:00:01 192.0.2.0/24
    Allow(ExceptionArgs),
    /// Take away a destination given with `trustgate gateway allow` (same destination,
    /// protocol and port).
    ///
    /// Example: trustgate gateway disallow 02:ca:3e:00:00:01 weather.example.com --proto tcp --port 443
    Disallow(ExceptionArgs),
    /// Trust a general-purpose device (a laptop, a phone, a printer): it keeps the internet and
    /// the LAN instead of being held at `default`. Recorded in the journal, kept across restarts.
    /// Bot behaviour still quarantines it.
    ///
    /// Example: trustgate gateway trust --state /var/lib/trustgate/gateway 3c:22:fb:12:34:56
    Trust(OwnerArgs),
    /// Withdraw trust: the device goes back to `default` (or `declared` with a verified MUD file).
    Untrust(OwnerArgs),
    /// Write a commented default configuration file for `gateway run --config`.
    ///
    /// The file says what each setting does: the LAN interface, the gateway's addresses, the
    /// state directory, the MUD trust anchors (whose signatures make a MUD file count), the
    /// label registry and its log key, and what devices without a label get. Refuses to
    /// overwrite an existing file.
    ///
    /// Example: trustgate gateway init --config /etc/trustgate/gateway.toml
    Init(InitArgs),
    /// Print every device the running gateway holds: MAC, name, MUD URL, whether its MUD file
    /// verified, its label and the label's status, its level and the reason for it.
    ///
    /// Reads the status the gateway writes in its state directory (at most a second old while
    /// it runs); says so when no gateway is running and the status is from an earlier run.
    ///
    /// Example: trustgate gateway status --state /var/lib/trustgate/gateway
    Status(StatusArgs),
    /// Set the owner's password for the household dashboard (read from standard input, one
    /// line; at least 10 characters). Stored as an argon2id hash in the state directory; a
    /// running dashboard uses it at the next sign-in.
    ///
    /// Example: trustgate gateway passwd --state /var/lib/trustgate/gateway < password.txt
    Passwd(PasswdArgs),
}

#[derive(Args)]
pub struct PasswdArgs {
    /// The gateway's state directory.
    #[arg(long, default_value = DEFAULT_STATE_DIR)]
    pub state: PathBuf,
}

#[derive(Args)]
pub struct InitArgs {
    /// Where to write the configuration.
    #[arg(long, default_value = "/etc/trustgate/gateway.toml")]
    pub config: PathBuf,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The gateway's state directory.
    #[arg(long, default_value = DEFAULT_STATE_DIR, conflicts_with = "config")]
    pub state: PathBuf,
    /// Read the state directory from this configuration file instead.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print JSON (the status file as the gateway wrote it, plus `running`).
    #[arg(long)]
    pub json: bool,
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
pub struct ReleaseArgs {
    #[command(flatten)]
    pub owner: OwnerArgs,
    /// Release only for this long (1h, 30m, 90s …; at most a week), then quarantine again.
    #[arg(long = "for", value_parser = parse_duration_s)]
    pub for_s: Option<u64>,
}

#[derive(Args)]
pub struct RenameArgs {
    #[command(flatten)]
    pub owner: OwnerArgs,
    /// The name (at most 64 characters).
    #[arg(required_unless_present = "clear")]
    pub name: Option<String>,
    /// Take the device's name away instead.
    #[arg(long, conflicts_with = "name")]
    pub clear: bool,
}

#[derive(Args)]
pub struct ExceptionArgs {
    #[command(flatten)]
    pub owner: OwnerArgs,
    /// Where to: a DNS name (weather.example.com), an address (192.0.2.10) or a network
    /// (192.0.2.0/24).
    pub destination: String,
    /// Only this protocol (tcp or udp; default: any, or tcp when --port is given).
    #[arg(long, value_parser = ["tcp", "udp"])]
    pub proto: Option<String>,
    /// Only this destination port.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
}

impl ExceptionArgs {
    fn exception(&self) -> Result<enforce::Exception> {
        let mut spec = self.destination.clone();
        match (&self.proto, self.port) {
            (None, None) => {}
            (proto, port) => {
                spec.push(' ');
                spec.push_str(proto.as_deref().unwrap_or("tcp"));
                if let Some(p) = port {
                    spec.push_str(&format!("/{p}"));
                }
            }
        }
        spec.parse()
            .map_err(|e| anyhow::Error::new(crate::registry_cmd::UsageError(format!("{e}"))))
    }
}

/// "1h", "30m", "90s", "3600": seconds.
fn parse_duration_s(s: &str) -> Result<u64, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    humantime::parse_duration(s)
        .map(|d| d.as_secs())
        .map_err(|e| format!("{s:?} is not a duration such as 1h, 30m or 90s: {e}"))
}

#[derive(Args)]
pub struct RunArgs {
    /// Read every setting from a configuration file (`trustgate gateway init` writes one):
    /// with it the gateway also fetches each device's MUD file over HTTPS, verifies it
    /// against the configured trust anchors and asks the label registry about the device.
    /// Only --duration and --json may be given with it.
    #[arg(long, conflicts_with_all = ["iface", "policies", "apply", "dry_run", "gateway_ips", "locals", "bridged_lan", "trusted", "allowed_resolvers", "dns_hold"])]
    pub config: Option<PathBuf>,
    /// The LAN interface to watch (a bridge such as br-lan sees every device).
    #[arg(long, required_unless_present = "config")]
    pub iface: Option<String>,
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
    /// Answer the devices' DNS queries through the gateway (redirected from port 53 to UDP
    /// port 10053), learning each answer's addresses before the device has it, so its first
    /// connection to a name its MUD file allows is never dropped. The first --gateway-ip
    /// (port 53) is asked. The configuration file turns this on by default ([dns] hold).
    #[arg(long, requires_all = ["apply", "gateway_ips"])]
    pub dns_hold: bool,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run_gateway(cmd: GatewayCommand) -> Result<Option<Finding>> {
    match cmd {
        GatewayCommand::Run(args) if args.config.is_some() => run_configured(args),
        GatewayCommand::Init(a) => init(a),
        GatewayCommand::Status(a) => status(a),
        GatewayCommand::Run(args) => {
            let iface = args
                .iface
                .clone()
                .expect("clap requires --iface without --config");
            let policies = match &args.policies {
                Some(dir) => load_policies(
                    dir,
                    args.mud_ca
                        .as_deref()
                        .expect("clap requires --mud-ca with --policies"),
                )?,
                None => vec![],
            };
            let site = lan_site(&iface, &args.gateway_ips, &args.locals, args.bridged_lan);
            let monitor_cfg = monitor_config(
                &args.gateway_ips,
                &args.locals,
                &policies,
                args.allowed_resolvers.clone(),
            );
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
                manager: None,
                unlabelled: enforce::Level::Declared,
                dns_hold: args.dns_hold.then(|| gateway::DnsHoldConfig {
                    port: gateway::DEFAULT_HOLD_PORT,
                    upstream: (args.gateway_ips[0], 53).into(),
                }),
            };
            let deadline = args
                .duration
                .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
            let json = args.json;
            eprintln!(
                "watching {}{}",
                iface,
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
                &iface,
                monitor_cfg,
                gw_cfg,
                || deadline.is_some_and(|d| std::time::Instant::now() >= d),
                |e| print_event(e, json),
                |warning| eprintln!("warning: {warning}"),
            )
            .with_context(|| format!("gateway on {iface}"))?;
            Ok((events > 0).then_some(Finding))
        }
        GatewayCommand::Release(a) => {
            owner(a.owner, gateway::OwnerRequest::Release { for_s: a.for_s })
        }
        GatewayCommand::Trust(a) => owner(a, gateway::OwnerRequest::Trust),
        GatewayCommand::Untrust(a) => owner(a, gateway::OwnerRequest::Untrust),
        GatewayCommand::Isolate(a) => owner(a, gateway::OwnerRequest::Isolate),
        GatewayCommand::Rename(a) => owner(a.owner, gateway::OwnerRequest::Rename { name: a.name }),
        GatewayCommand::Approve(a) => owner(a, gateway::OwnerRequest::Approve),
        GatewayCommand::Forget(a) => owner(a, gateway::OwnerRequest::Forget),
        GatewayCommand::Allow(a) => {
            let exception = a.exception()?;
            owner(a.owner, gateway::OwnerRequest::Allow { exception })
        }
        GatewayCommand::Disallow(a) => {
            let exception = a.exception()?;
            owner(a.owner, gateway::OwnerRequest::Disallow { exception })
        }
        GatewayCommand::Passwd(a) => passwd(a),
    }
}

/// `gateway passwd`: the owner's dashboard password from standard input.
fn passwd(a: PasswdArgs) -> Result<Option<Finding>> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    dashboard::auth::set_password(&a.state, password)
        .with_context(|| format!("setting the owner password in {}", a.state.display()))?;
    eprintln!(
        "owner password set ({})",
        dashboard::auth::password_path(&a.state).display()
    );
    Ok(None)
}

/// Hand an owner's request to the running gateway and report what it did.
fn owner(a: OwnerArgs, request: gateway::OwnerRequest) -> Result<Option<Finding>> {
    let entry = gateway::owner_request(
        &a.state,
        request.clone(),
        a.mac,
        std::time::Duration::from_secs(10),
    )
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

/// The site the gateway contains: its addresses, the LAN interface whose uncontained sources
/// the catch-all holds, local networks (default: RFC 1918, fc00::/7, fe80::/10).
fn lan_site(
    iface: &str,
    gateway: &[IpAddr],
    locals: &[ipnet::IpNet],
    bridged: bool,
) -> enforce::Site {
    let mut site = enforce::Site {
        gateway: gateway.to_vec(),
        bridged_lan: bridged,
        // Fail closed: what arrives on the LAN from a device not (yet) contained goes
        // nowhere but to the gateway's DHCP, DNS and neighbour discovery.
        lan_interfaces: vec![iface.to_string()],
        ..enforce::Site::default()
    };
    if !locals.is_empty() {
        site.local_networks = locals.to_vec();
    }
    site
}

/// The monitor's configuration for a live gateway: the gateway is the resolver; configured
/// local networks are the LAN's prefixes too (besides those its router advertisements announce).
fn monitor_config(
    gateway: &[IpAddr],
    locals: &[ipnet::IpNet],
    policies: &[mud::DevicePolicy],
    allowed_resolvers: Vec<monitor::monitor::AllowedResolver>,
) -> Config {
    Config {
        resolvers: gateway.to_vec(),
        lan_prefixes: locals.to_vec(),
        policies: policies.to_vec(),
        allowed_resolvers,
        ..Config::default()
    }
}

fn print_event(e: &monitor::Event, json: bool) {
    let mut w = std::io::stdout().lock();
    let _ = crate::monitor_cmd::write_event(&mut w, e, json);
    let _ = w.flush();
}

/// `gateway run --config FILE`.
fn run_configured(args: RunArgs) -> Result<Option<Finding>> {
    let path = args.config.clone().expect("checked by the caller");
    let file = crate::gateway_config::read(&path)?;
    let policies = match &file.mud.policies {
        Some(dir) => {
            let Some(first) = file.mud.trust_anchors.first() else {
                anyhow::bail!(
                    "{}: mud.policies needs mud.trust-anchors to verify its files",
                    path.display()
                );
            };
            load_policies(dir, first)?
        }
        None => vec![],
    };
    let mgr = crate::gateway_config::manager_config(&file)
        .with_context(|| format!("configuration {}", path.display()))?;
    let trusted = file
        .trusted
        .iter()
        .map(|m| {
            m.parse::<monitor::Mac>()
                .map_err(|e| anyhow::anyhow!("{}: trusted {m:?}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let allowed_resolvers = file
        .allow_resolvers
        .iter()
        .map(|r| {
            r.parse()
                .map_err(|e| anyhow::anyhow!("{}: allow-resolvers {r:?}: {e}", path.display()))
        })
        .collect::<Result<Vec<monitor::monitor::AllowedResolver>>>()?;
    let site = lan_site(
        &file.interface,
        &file.gateway_addresses,
        &file.local_networks,
        file.bridged_lan,
    );
    let monitor_cfg = monitor_config(
        &file.gateway_addresses,
        &file.local_networks,
        &policies,
        allowed_resolvers,
    );
    let registry = mgr.registry.as_ref().map(|r| r.url.clone());
    let anchors = mgr.anchors.as_ref().map_or(0, |a| a.len());
    let gw_cfg = gateway::GatewayConfig {
        site,
        nft: enforce::NftRunner::default(),
        apply: file.apply,
        dry_run: file.dry_run,
        quarantine_ttl_s: file.quarantine_ttl_s,
        state_dir: file.state_dir.clone(),
        policies,
        max_devices: file.max_devices,
        trusted,
        manager: Some(mgr),
        unlabelled: if file.mud.unlabelled == "default" {
            enforce::Level::Default
        } else {
            enforce::Level::Declared
        },
        dns_hold: file.dns_hold(),
    };
    eprintln!(
        "watching {}{}; MUD files fetched over HTTPS and verified against {anchors} trust anchor(s); {}",
        file.interface,
        match (file.apply, file.dry_run) {
            (true, false) => format!(", enforcing; journal in {}", file.state_dir.display()),
            (true, true) => format!(", dry run; journal in {}", file.state_dir.display()),
            _ => ", reporting only".to_string(),
        },
        match registry {
            Some(u) => format!("labels from {u}"),
            None => "no label registry configured".into(),
        }
    );
    if let Some(dcfg) = file.dashboard() {
        let started = dashboard::start(dcfg).context("the dashboard")?;
        for a in &started.addrs {
            eprintln!("dashboard: {}://{a}/", started.scheme);
        }
        if let Some(fp) = &started.fingerprint {
            eprintln!("dashboard certificate SHA-256 fingerprint: {fp}");
        }
        if let Some(code) = &started.setup_code {
            eprintln!(
                "dashboard: no owner password yet; open the dashboard and enter this one-time code to choose it: {code} (or run `trustgate gateway passwd`)"
            );
        }
    }
    if let Some(acfg) = file
        .alerts()
        .with_context(|| format!("configuration {}", path.display()))?
    {
        dashboard::start_alerts(acfg).context("the alerts")?;
    }
    let deadline = args
        .duration
        .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
    let json = args.json;
    let events = gateway::run_live(
        &file.interface,
        monitor_cfg,
        gw_cfg,
        || deadline.is_some_and(|d| std::time::Instant::now() >= d),
        |e| print_event(e, json),
        |warning| eprintln!("warning: {warning}"),
    )
    .with_context(|| format!("gateway on {}", file.interface))?;
    Ok((events > 0).then_some(Finding))
}

fn init(a: InitArgs) -> Result<Option<Finding>> {
    if a.config.exists() {
        anyhow::bail!(
            "{} exists; not overwritten (remove it first, or give another --config)",
            a.config.display()
        );
    }
    if let Some(dir) = a.config.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&a.config, crate::gateway_config::DEFAULT_CONFIG)
        .with_context(|| format!("cannot write {}", a.config.display()))?;
    outln!(
        "wrote {}; edit interface, gateway-addresses and [mud] trust-anchors, then run: trustgate gateway run --config {}",
        a.config.display(),
        a.config.display()
    );
    Ok(None)
}

fn status(a: StatusArgs) -> Result<Option<Finding>> {
    let state = match &a.config {
        Some(c) => crate::gateway_config::read(c)?.state_dir,
        None => a.state.clone(),
    };
    let path = state.join(gateway::STATUS_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no status in {} (has a gateway run with this state directory?)",
            state.display()
        )
    })?;
    let file: gateway::StatusFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a gateway status file", path.display()))?;
    let running = gateway::is_running(&state);
    if a.json {
        let mut v = serde_json::to_value(&file)?;
        v["running"] = running.into();
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(None);
    }
    if !running {
        eprintln!(
            "no gateway is running with {}; this is the status its last run left",
            state.display()
        );
    }
    outln!(
        "{:<17}  {:<12}  {:<16}  {:<12}  {:<24}  reason",
        "device",
        "level",
        "name",
        "MUD file",
        "label"
    );
    for d in &file.devices {
        outln!(
            "{:<17}  {:<12}  {:<16}  {:<12}  {:<24}  {}",
            d.mac,
            d.level.to_string(),
            d.hostname.as_deref().or(d.vendor.as_deref()).unwrap_or("-"),
            d.mud.as_ref().map_or("-", |m| m.state.as_str()),
            d.label.as_ref().map_or("-".to_string(), |l| {
                let mut s = l.status.clone();
                if let Some(since) = l.registry_unreachable_since {
                    s.push_str(&format!(
                        " (registry unreachable since {})",
                        unix_text(since)
                    ));
                }
                s
            }),
            d.reason
        );
        if let Some(u) = &d.mud_url {
            outln!("{:<17}  MUD URL {u}", "");
        }
        for x in &d.exceptions {
            outln!("{:<17}  owner exception: {x}", "");
        }
        if let Some(t) = &d.traffic {
            outln!(
                "{:<17}  {} packets let through, {} blocked ({} in the last 24 h)",
                "",
                t.allowed_packets,
                t.blocked_packets,
                t.blocked_24h
            );
        }
    }
    Ok(None)
}

fn unix_text(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}
