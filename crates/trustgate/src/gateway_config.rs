//! The gateway daemon's configuration file (TOML): `trustgate gateway init` writes a commented
//! default, `trustgate gateway run --config FILE` reads it. Unknown keys are errors (a typo must
//! not silently leave a device less contained), and every path is checked at start.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The commented default `gateway init` writes.
pub const DEFAULT_CONFIG: &str = r#"# trustgate gateway configuration (written by `trustgate gateway init`).
# Start it with: trustgate gateway run --config THIS_FILE   (needs root)

# The LAN interface to watch and contain (a bridge such as br-lan sees every device).
interface = "br-lan"
# The gateway's own addresses on the LAN: the devices' DNS, DHCP and NTP server.
gateway-addresses = ["192.168.1.1"]
# Local networks (default: RFC 1918, fc00::/7, fe80::/10).
# local-networks = ["192.168.1.0/24"]
# The LAN is a Linux bridge: frames between devices are filtered too.
bridged-lan = false
# Journal, owner requests, cached MUD files and label answers live here.
state-dir = "/var/lib/trustgate/gateway"
# Put devices under containment in nftables. false: only report what is seen.
apply = true
# Record every change in the journal but change nothing in nftables.
dry-run = false
# Seconds a quarantine (bot behaviour) lasts unless the owner releases the device first.
quarantine-ttl-s = 3600
# Most devices held under containment.
max-devices = 1024
# Devices you vouch for (laptops, phones): internet and LAN, like a home router gives.
trusted = []
# Public resolvers you allow (IP, or MAC=IP for one device).
allow-resolvers = []

[dns]
# Answer the devices' DNS queries through the gateway, which puts each answer's addresses in
# the device's allowed sets before the device has the answer (otherwise a device's first
# connection to a name its MUD file allows can be dropped). Queries to the gateway's port 53
# are redirected to hold-port, and asked of the resolver below.
hold = true
hold-port = 10053
# The resolver that answers (default: the first gateway address, port 53).
# resolver = "192.168.1.1:53"

[dashboard]
# The household's dashboard (devices, events, release / isolate / approve), in English and
# French. It listens only on the addresses given here: the gateway's LAN addresses (the
# default: each gateway address, port 8443), never on every interface.
enabled = true
# listen = ["192.168.1.1:8443"]
# HTTPS with a certificate the gateway makes on first start (its fingerprint is printed);
# false serves plain HTTP.
tls = true
# Names the certificate holds besides the listen addresses (e.g. "gateway.home.arpa").
names = []
# The owner's password: set it with `trustgate gateway passwd`, or on first visit with the
# one-time code the gateway prints when it starts.

# Alerts (a new device, a quarantine, a label withdrawn, support ended), with the dashboard's
# sentence; one per device and kind per hour, at most 5 every 10 minutes.
# [alerts]
# language = "fr"                            # en or fr
# webhook = "https://ntfy.sh/my-home-topic"  # an ntfy topic, or any URL taking a JSON POST
# webhook-format = "ntfy"                    # ntfy (text + Title header) or json
# [alerts.smtp]
# host = "smtp.example.net"
# port = 587
# starttls = true
# user = "me@example.net"
# password-file = "/etc/trustgate/smtp-password"   # read at start, never logged
# from = "gateway@example.net"
# to = ["me@example.net"]

[mud]
# Manufacturer trust anchors (PEM files): a MUD file counts only when its signature chains to
# one of them and its signer names the MUD URL's host. Without anchors no MUD file is used.
trust-anchors = []
# Signers allowed to speak for hosts their certificates do not name, e.g.
# [[mud.signer]]
# signer = "mud-signing.acme.example"
# hosts = ["cdn.acme-devices.example"]
# CA certificates (PEM files) for the HTTPS fetch, besides the bundled Mozilla roots.
tls-roots = []
builtin-roots = true
# A device with a verified MUD file but no active label: "declared" (only what its
# manufacturer declared) or "default" (require a label for "declared").
unlabelled = "declared"
# Read MUD files leniently (draft-era names, MUDgee quirks), with warnings.
lenient = false
# Seconds one fetch (connect, TLS, every byte) may take.
fetch-timeout-s = 20
# Most fetches at once.
concurrent-fetches = 16
# A directory of MUD files (NAME.json + NAME.p7s) to use besides fetched ones.
# policies = "/etc/trustgate/policies"

# The security-label registry asked about each device's MUD URL. Its answers are used only
# after their proofs verify with the log key below.
# [registry]
# url = "https://registry.example"
# log-key = "/etc/trustgate/registry-log.vkey"   # a file, or the key text itself
# assessor-keys = ["/etc/trustgate/assessor.pub"]
# operator-keys = ["/etc/trustgate/operator.pub"]
# refresh-s = 3600     # ask again about each label this often
# poll-s = 60          # look for a grown log (and refresh at once) this often
"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    pub interface: String,
    #[serde(default)]
    pub gateway_addresses: Vec<IpAddr>,
    #[serde(default)]
    pub local_networks: Vec<ipnet::IpNet>,
    #[serde(default)]
    pub bridged_lan: bool,
    pub state_dir: PathBuf,
    #[serde(default)]
    pub apply: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default = "ttl")]
    pub quarantine_ttl_s: u64,
    #[serde(default = "max_devices")]
    pub max_devices: usize,
    #[serde(default)]
    pub trusted: Vec<String>,
    #[serde(default)]
    pub allow_resolvers: Vec<String>,
    #[serde(default)]
    pub dns: DnsSection,
    #[serde(default)]
    pub mud: MudSection,
    pub registry: Option<RegistrySection>,
    #[serde(default)]
    pub dashboard: DashboardSection,
    pub alerts: Option<AlertsSection>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlertsSection {
    #[serde(default = "english")]
    pub language: String,
    pub webhook: Option<String>,
    #[serde(default = "json_format")]
    pub webhook_format: String,
    pub smtp: Option<SmtpSection>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SmtpSection {
    pub host: String,
    #[serde(default = "submission_port")]
    pub port: u16,
    #[serde(default = "yes")]
    pub starttls: bool,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub from: String,
    pub to: Vec<String>,
}

fn english() -> String {
    "en".into()
}
fn json_format() -> String {
    "json".into()
}
fn submission_port() -> u16 {
    587
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DashboardSection {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub listen: Vec<std::net::SocketAddr>,
    #[serde(default = "yes")]
    pub tls: bool,
    #[serde(default)]
    pub names: Vec<String>,
}

impl Default for DashboardSection {
    fn default() -> Self {
        DashboardSection {
            enabled: true,
            listen: vec![],
            tls: true,
            names: vec![],
        }
    }
}

/// The dashboard's default port on each gateway address.
pub const DASHBOARD_PORT: u16 = 8443;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DnsSection {
    #[serde(default = "yes")]
    pub hold: bool,
    #[serde(default = "hold_port")]
    pub hold_port: u16,
    pub resolver: Option<std::net::SocketAddr>,
}

impl Default for DnsSection {
    fn default() -> Self {
        DnsSection {
            hold: true,
            hold_port: gateway::DEFAULT_HOLD_PORT,
            resolver: None,
        }
    }
}

fn hold_port() -> u16 {
    gateway::DEFAULT_HOLD_PORT
}

impl FileConfig {
    /// The alerts as configured (`None`: no `[alerts]`), their SMTP password read from its file.
    pub fn alerts(&self) -> Result<Option<dashboard::alerts::AlertConfig>> {
        use dashboard::alerts::{AlertConfig, Smtp, WebhookFormat};
        let Some(a) = &self.alerts else {
            return Ok(None);
        };
        let lang = dashboard::i18n::Lang::from_code(&a.language)
            .with_context(|| format!("alerts.language {:?}: en or fr", a.language))?;
        let format = match a.webhook_format.as_str() {
            "json" => WebhookFormat::Json,
            "ntfy" => WebhookFormat::Ntfy,
            other => bail!("alerts.webhook-format {other:?}: json or ntfy"),
        };
        if let Some(w) = &a.webhook {
            if !(w.starts_with("https://") || w.starts_with("http://")) {
                bail!("alerts.webhook {w:?}: an http:// or https:// URL");
            }
        }
        let smtp = match &a.smtp {
            None => None,
            Some(s) => {
                let credentials = match (&s.user, &s.password_file) {
                    (Some(u), Some(p)) => {
                        let pass = std::fs::read_to_string(p).with_context(|| {
                            format!("alerts.smtp.password-file {}", p.display())
                        })?;
                        Some((u.clone(), pass.trim_end_matches(['\n', '\r']).to_string()))
                    }
                    (None, None) => None,
                    _ => bail!("alerts.smtp: user and password-file go together"),
                };
                Some(Smtp {
                    host: s.host.clone(),
                    port: s.port,
                    starttls: s.starttls,
                    credentials,
                    from: s.from.clone(),
                    to: s.to.clone(),
                })
            }
        };
        if a.webhook.is_none() && smtp.is_none() {
            bail!("[alerts] needs a webhook or [alerts.smtp]");
        }
        Ok(Some(AlertConfig {
            state_dir: self.state_dir.clone(),
            lang,
            webhook: a.webhook.clone().map(|w| (w, format)),
            smtp,
            poll: std::time::Duration::from_secs(1),
        }))
    }

    /// The dashboard as configured (`None` when disabled): listen addresses default to each
    /// gateway address on port 8443.
    pub fn dashboard(&self) -> Option<dashboard::Config> {
        if !self.dashboard.enabled {
            return None;
        }
        let listen = if self.dashboard.listen.is_empty() {
            self.gateway_addresses
                .iter()
                .map(|ip| std::net::SocketAddr::new(*ip, DASHBOARD_PORT))
                .collect()
        } else {
            self.dashboard.listen.clone()
        };
        let mut cfg = dashboard::Config::new(self.state_dir.clone(), listen);
        cfg.tls = self.dashboard.tls;
        cfg.tls_names = self.dashboard.names.clone();
        Some(cfg)
    }

    /// The DNS hold as configured: `None` when off, or when no resolver is configured and
    /// there is no gateway address to default to.
    pub fn dns_hold(&self) -> Option<gateway::DnsHoldConfig> {
        if !self.dns.hold {
            return None;
        }
        let upstream = self
            .dns
            .resolver
            .or_else(|| self.gateway_addresses.first().map(|a| (*a, 53).into()))?;
        Some(gateway::DnsHoldConfig {
            port: self.dns.hold_port,
            upstream,
        })
    }
}

fn ttl() -> u64 {
    3600
}
fn max_devices() -> usize {
    gateway::DEFAULT_MAX_DEVICES
}
fn yes() -> bool {
    true
}
fn declared() -> String {
    "declared".into()
}
fn twenty() -> u64 {
    20
}
fn sixteen() -> usize {
    16
}
fn hour() -> u64 {
    3600
}
fn minute() -> u64 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MudSection {
    #[serde(default)]
    pub trust_anchors: Vec<PathBuf>,
    #[serde(default)]
    pub signer: Vec<manager::trust::SignerMapping>,
    #[serde(default)]
    pub tls_roots: Vec<PathBuf>,
    #[serde(default = "yes")]
    pub builtin_roots: bool,
    #[serde(default = "declared")]
    pub unlabelled: String,
    #[serde(default)]
    pub lenient: bool,
    #[serde(default = "twenty")]
    pub fetch_timeout_s: u64,
    #[serde(default = "sixteen")]
    pub concurrent_fetches: usize,
    pub policies: Option<PathBuf>,
}

impl Default for MudSection {
    fn default() -> Self {
        MudSection {
            trust_anchors: vec![],
            signer: vec![],
            tls_roots: vec![],
            builtin_roots: true,
            unlabelled: declared(),
            lenient: false,
            fetch_timeout_s: 20,
            concurrent_fetches: 16,
            policies: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RegistrySection {
    pub url: String,
    pub log_key: String,
    #[serde(default)]
    pub assessor_keys: Vec<PathBuf>,
    #[serde(default)]
    pub operator_keys: Vec<PathBuf>,
    #[serde(default = "hour")]
    pub refresh_s: u64,
    #[serde(default = "minute")]
    pub poll_s: u64,
}

/// Read and check a configuration file.
pub fn read(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    let cfg: FileConfig =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if cfg.dns.hold && cfg.dns.hold_port == 53 {
        bail!(
            "{}: dns.hold-port is 53, where the queries it holds arrive; give another port (default {})",
            path.display(),
            gateway::DEFAULT_HOLD_PORT
        );
    }
    if !matches!(cfg.mud.unlabelled.as_str(), "declared" | "default") {
        bail!(
            "{}: mud.unlabelled is {:?}; give \"declared\" or \"default\"",
            path.display(),
            cfg.mud.unlabelled
        );
    }
    Ok(cfg)
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn key_ring(paths: &[PathBuf], what: &str) -> Result<label::KeyRing> {
    let mut ring = label::KeyRing::new();
    for p in paths {
        let pem = String::from_utf8(read_file(p, what)?)
            .with_context(|| format!("{what} {} is not text", p.display()))?;
        let key = label::verifying_key_from_pem(&pem)
            .with_context(|| format!("{what} {}", p.display()))?;
        ring.insert(key);
    }
    Ok(ring)
}

/// The MUD manager's configuration from the file's `[mud]` and `[registry]` sections.
pub fn manager_config(cfg: &FileConfig) -> Result<manager::ManagerConfig> {
    let mut m = manager::ManagerConfig::new(cfg.state_dir.clone());
    if !cfg.mud.trust_anchors.is_empty() {
        let mut pem = vec![];
        for p in &cfg.mud.trust_anchors {
            pem.extend(read_file(p, "MUD trust anchors")?);
        }
        m.anchors =
            Some(mud::signature::TrustAnchors::from_pem(&pem).context("mud.trust-anchors")?);
    }
    m.signer_mappings = cfg.mud.signer.clone();
    for p in &cfg.mud.tls_roots {
        m.tls_roots_pem.push(read_file(p, "TLS root certificate")?);
    }
    m.builtin_roots = cfg.mud.builtin_roots;
    m.lenient = cfg.mud.lenient;
    m.limits.timeout = std::time::Duration::from_secs(cfg.mud.fetch_timeout_s.max(1));
    m.concurrency = cfg.mud.concurrent_fetches.max(1);
    if let Some(r) = &cfg.registry {
        let vkey = if Path::new(&r.log_key).is_file() {
            std::fs::read_to_string(&r.log_key)?.trim().to_string()
        } else {
            r.log_key.clone()
        };
        m.registry = Some(manager::RegistryConfig {
            url: r.url.clone(),
            log: tlog::checkpoint::LogVerifier::parse(&vkey)
                .map_err(|e| anyhow::anyhow!("registry.log-key: {e}"))?,
            assessors: key_ring(&r.assessor_keys, "assessor key")?,
            operators: key_ring(&r.operator_keys, "operator key")?,
            refresh: std::time::Duration::from_secs(r.refresh_s.max(1)),
            poll: std::time::Duration::from_secs(r.poll_s.max(1)),
            timeout: std::time::Duration::from_secs(10),
        });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_config_reads_back() {
        let cfg: super::FileConfig = toml::from_str(super::DEFAULT_CONFIG).unwrap();
        assert_eq!(cfg.interface, "br-lan");
        assert!(cfg.apply && !cfg.dry_run);
        assert_eq!(cfg.mud.unlabelled, "declared");
        assert!(cfg.registry.is_none());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let text = super::DEFAULT_CONFIG.replace("[mud]", "quarantine-tll-s = 5\n[mud]");
        let err = toml::from_str::<super::FileConfig>(&text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("quarantine-tll-s"), "{err}");
    }
}
