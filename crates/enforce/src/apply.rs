//! Applying batches with `nft -j -f -`, keeping the intended state, and reading the kernel's
//! state back to prove it matches.

use crate::compile::{
    device_dns_names, normalize_dns_name, Compiler, Device, DeviceNames, Level, Site,
};
use crate::nft::{Batch, Elem, Object, Val};
use mud::Mac;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// Why a change to the table did not happen. The change that failed left no trace: nft
/// commits a batch whole or not at all, and the [`Enforcer`] updates its intended state only
/// after a commit.
#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    /// `nft` (or `ip netns exec`, or `sysctl`) could not be started or fed its input.
    #[error("could not run nft ({0}); is nftables installed and are we root?")]
    Spawn(std::io::Error),
    /// nft ran and refused: its standard error, trimmed. nft checks a whole batch before
    /// committing any of it, so a refused batch leaves the table untouched.
    #[error("nft refused the batch, nothing was changed: {0}")]
    Rejected(String),
    /// `nft -j list` printed something that is not a libnftables JSON listing.
    #[error("nft output was not the JSON we expected: {0}")]
    BadListing(String),
    /// DNS-learned elements sent over netlink were not taken (nothing of that batch was
    /// applied).
    #[error(transparent)]
    Netlink(#[from] crate::netlink::NetlinkError),
    /// The device or the site could not be compiled; nft was not run.
    #[error(transparent)]
    Compile(#[from] crate::compile::CompileError),
    /// The operation needs a device the enforcer does not manage.
    #[error("device {0} is not managed")]
    UnknownDevice(Mac),
    /// [`Enforcer::add`] of a device already managed.
    #[error("device {0} is already managed; use replace")]
    DuplicateDevice(Mac),
    /// Two devices claim one address; the later claim is refused, since the address leads
    /// to one device's to-device chain only.
    #[error("address {addr} of device {new} already belongs to device {owner}")]
    AddressConflict {
        /// The address claimed twice.
        addr: IpAddr,
        /// The device whose claim was refused.
        new: Mac,
        /// The device it already belongs to.
        owner: Mac,
    },
}

/// How to reach `nft`: directly, or inside a network namespace (`ip netns exec NS nft`).
#[derive(Debug, Clone, Default)]
pub struct NftRunner {
    /// Run nft inside this named network namespace (`ip netns exec`); `None`: our own.
    pub netns: Option<String>,
    /// Which input language batches are sent in.
    pub format: BatchFormat,
}

/// Which of nft's two input languages a batch is sent in. Both are applied as one atomic
/// transaction. Native syntax is the default because nft parses our 1000-device batch much
/// faster in it than the same batch as JSON (`cargo bench -p enforce --bench apply` measures
/// both in one run; the README has the last figures); every value in it is typed or
/// sanitised, so nothing from a MUD file can inject syntax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchFormat {
    /// nft's own syntax, [`Batch::to_text`], fed to `nft -f -`.
    #[default]
    Native,
    /// libnftables JSON, [`Batch::to_json`], fed to `nft -j -f -`.
    Json,
}

impl NftRunner {
    fn command(&self) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "nft"]);
                c
            }
            None => Command::new("nft"),
        }
    }

    /// Apply one batch as a single transaction. nft either commits all of it or none of it.
    pub fn apply(&self, batch: &Batch) -> Result<(), EnforceError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.feed(batch, false)
    }

    /// Run nft on `batch` (`-c` when `check_only`), in the runner's input format.
    fn feed(&self, batch: &Batch, check_only: bool) -> Result<(), EnforceError> {
        let (body, format_args): (Vec<u8>, &[&str]) = match self.format {
            BatchFormat::Native => (batch.to_text().into_bytes(), &["-f", "-"]),
            BatchFormat::Json => (
                serde_json::to_vec(&batch.to_json()).expect("JSON values serialize"),
                &["-j", "-f", "-"],
            ),
        };
        let mut cmd = self.command();
        if check_only {
            cmd.arg("-c");
        }
        let mut child = cmd
            .args(format_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(EnforceError::Spawn)?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(&body)
            .map_err(EnforceError::Spawn)?;
        let out = child.wait_with_output().map_err(EnforceError::Spawn)?;
        if !out.status.success() {
            return Err(EnforceError::Rejected(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }

    /// Make bridged IPv4/IPv6 traffic pass the inet hooks (br_netfilter), so LAN-to-LAN frames on
    /// a bridge meet the same per-device chains as routed traffic.
    pub fn enable_bridge_netfilter(&self) -> Result<(), EnforceError> {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sysctl"]);
                c
            }
            None => Command::new("sysctl"),
        };
        let out = c
            .args([
                "-qw",
                "net.bridge.bridge-nf-call-iptables=1",
                "net.bridge.bridge-nf-call-ip6tables=1",
            ])
            .output()
            .map_err(EnforceError::Spawn)?;
        if !out.status.success() {
            return Err(EnforceError::Rejected(format!(
                "cannot enable bridge netfilter (is br_netfilter available?): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// `nft -c`: check a batch without applying it.
    pub fn check(&self, batch: &Batch) -> Result<(), EnforceError> {
        self.feed(batch, true)
    }

    /// `nft -j list table inet NAME`.
    pub fn list_table(&self, table: &str) -> Result<Value, EnforceError> {
        let out = self
            .command()
            .args(["-j", "list", "table", "inet", table])
            .output()
            .map_err(EnforceError::Spawn)?;
        if !out.status.success() {
            return Err(EnforceError::Rejected(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| EnforceError::BadListing(e.to_string()))
    }
}

/// What a table holds, reduced to what we can compare reliably: chains and the comments of
/// their rules in order, verdict-map entries, and set names. Rule expressions themselves are
/// not compared because nft normalises them on the way in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Chain name → the comments of its rules, in rule order.
    pub chains: BTreeMap<String, Vec<String>>,
    /// Verdict map name → key (a MAC or address as nft prints it) → chain it jumps to.
    pub map_entries: BTreeMap<String, BTreeMap<String, String>>,
    /// Names of the plain sets; their elements are not compared.
    pub sets: BTreeSet<String>,
}

/// One difference between what we intended and what the kernel holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Which object differs: `chain NAME`, `map NAME entry KEY` or `set NAME`.
    pub what: String,
    /// What we intended it to be (`absent` when it should not exist).
    pub intended: String,
    /// What the kernel holds (`absent` when it is missing).
    pub actual: String,
}

/// Per-rule counters, keyed by chain and rule comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RuleCounter {
    /// The rule's chain.
    pub chain: String,
    /// The rule's comment, its identity (see [`Rule::comment`](crate::nft::Rule::comment)).
    pub rule: String,
    /// Packets that matched since the rule was added.
    pub packets: u64,
    /// Bytes of those packets.
    pub bytes: u64,
    /// The rule drops (or rejects) what it matches: these packets were blocked.
    #[serde(default)]
    pub dropped: bool,
}

impl Summary {
    /// Fold in a batch nft has committed: the summary becomes that of the table it leaves.
    /// Kept incrementally so a long-running gateway's intended state never replays (or
    /// stores) its history.
    pub fn apply(&mut self, batch: &Batch) {
        for c in &batch.commands {
            use crate::nft::Verb::*;
            match (&c.verb, &c.object) {
                (Add, Object::Table) => {}
                (Delete, Object::Table) => *self = Summary::default(),
                (Add, Object::Chain { name, .. }) => {
                    self.chains.entry(name.clone()).or_default();
                }
                (Flush, Object::Chain { name, .. }) => {
                    self.chains.insert(name.clone(), Vec::new());
                }
                (Delete, Object::Chain { name, .. }) => {
                    self.chains.remove(name);
                }
                (Add, Object::Rule(r)) => self
                    .chains
                    .entry(r.chain.clone())
                    .or_default()
                    .push(r.comment.clone()),
                (Add, Object::Set { name, map_to, .. }) => {
                    if map_to.is_some() {
                        self.map_entries.entry(name.clone()).or_default();
                    } else {
                        self.sets.insert(name.clone());
                    }
                }
                (Delete, Object::Set { name, .. }) => {
                    self.sets.remove(name);
                    self.map_entries.remove(name);
                }
                (Add, Object::Elements { set, elems }) => {
                    if let Some(m) = self.map_entries.get_mut(set) {
                        for e in elems {
                            if let (Val::Lit(k), Some(crate::nft::Verdict::Jump(t))) =
                                (&e.key, &e.verdict)
                            {
                                m.insert(k.clone(), t.clone());
                            }
                        }
                    }
                }
                (Delete, Object::Elements { set, elems }) => {
                    if let Some(m) = self.map_entries.get_mut(set) {
                        for e in elems {
                            if let Val::Lit(k) = &e.key {
                                m.remove(k);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Parse `nft -j list table` output.
    pub fn of_listing(listing: &Value) -> Result<(Summary, Vec<RuleCounter>), EnforceError> {
        let items = listing
            .get("nftables")
            .and_then(Value::as_array)
            .ok_or_else(|| EnforceError::BadListing("no \"nftables\" array".into()))?;
        let mut s = Summary::default();
        let mut counters = Vec::new();
        for item in items {
            if let Some(ch) = item.get("chain") {
                let name = ch["name"].as_str().unwrap_or_default().to_string();
                s.chains.entry(name).or_default();
            } else if let Some(r) = item.get("rule") {
                let chain = r["chain"].as_str().unwrap_or_default().to_string();
                let comment = r
                    .get("comment")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let expr = r["expr"].as_array();
                if let Some(c) = expr.and_then(|e| e.iter().find_map(|x| x.get("counter"))) {
                    let dropped = expr.is_some_and(|e| {
                        e.iter()
                            .any(|x| x.get("drop").is_some() || x.get("reject").is_some())
                    });
                    counters.push(RuleCounter {
                        chain: chain.clone(),
                        rule: comment.clone(),
                        packets: c["packets"].as_u64().unwrap_or(0),
                        bytes: c["bytes"].as_u64().unwrap_or(0),
                        dropped,
                    });
                }
                s.chains.entry(chain).or_default().push(comment);
            } else if let Some(m) = item.get("map") {
                let name = m["name"].as_str().unwrap_or_default().to_string();
                let entries = s.map_entries.entry(name).or_default();
                for e in m
                    .get("elem")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (Some(k), Some(v)) = (e.get(0), e.get(1)) else {
                        continue;
                    };
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let target = v
                        .pointer("/jump/target")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    entries.insert(key, target);
                }
            } else if let Some(set) = item.get("set") {
                s.sets
                    .insert(set["name"].as_str().unwrap_or_default().to_string());
            }
        }
        Ok((s, counters))
    }

    /// Every difference between `self` (intended) and `actual`.
    pub fn diff(&self, actual: &Summary) -> Vec<Drift> {
        let mut d = Vec::new();
        let chains: BTreeSet<&String> = self.chains.keys().chain(actual.chains.keys()).collect();
        for c in chains {
            let (i, a) = (self.chains.get(c), actual.chains.get(c));
            if i != a {
                d.push(Drift {
                    what: format!("chain {c}"),
                    intended: i
                        .map(|r| format!("{r:?}"))
                        .unwrap_or_else(|| "absent".into()),
                    actual: a
                        .map(|r| format!("{r:?}"))
                        .unwrap_or_else(|| "absent".into()),
                });
            }
        }
        let maps: BTreeSet<&String> = self
            .map_entries
            .keys()
            .chain(actual.map_entries.keys())
            .collect();
        for m in maps {
            let empty = BTreeMap::new();
            let (i, a) = (
                self.map_entries.get(m).unwrap_or(&empty),
                actual.map_entries.get(m).unwrap_or(&empty),
            );
            let keys: BTreeSet<&String> = i.keys().chain(a.keys()).collect();
            for k in keys {
                if i.get(k) != a.get(k) {
                    d.push(Drift {
                        what: format!("map {m} entry {k}"),
                        intended: i.get(k).cloned().unwrap_or_else(|| "absent".into()),
                        actual: a.get(k).cloned().unwrap_or_else(|| "absent".into()),
                    });
                }
            }
        }
        for s in self.sets.symmetric_difference(&actual.sets) {
            d.push(Drift {
                what: format!("set {s}"),
                intended: if self.sets.contains(s) {
                    "present"
                } else {
                    "absent"
                }
                .into(),
                actual: if actual.sets.contains(s) {
                    "present"
                } else {
                    "absent"
                }
                .into(),
            });
        }
        d
    }
}

/// Keeps the intended state of our table and changes the kernel's to match, one atomic batch
/// per change. Devices are independent: adding, removing or replacing one never rewrites
/// another's chains.
pub struct Enforcer {
    site: Site,
    runner: NftRunner,
    devices: BTreeMap<Mac, Device>,
    /// Owner of every device address, to refuse two devices claiming one address.
    owners: BTreeMap<IpAddr, Mac>,
    /// What our table should hold, updated as each batch is committed.
    intended: Summary,
    /// DNS answers each managed device received and when they run out, whatever its level:
    /// a device whose level changes (a release from quarantine, a MUD file learned later) gets
    /// the addresses it already resolved back in its new sets, in the same transaction, instead
    /// of being cut off until it resolves again. At most [`REMEMBERED_ANSWERS`] per device.
    answers: BTreeMap<Mac, Vec<Remembered>>,
    /// When set ([`Enforcer::learn_over_netlink`]), DNS-learned addresses go to the kernel on
    /// this socket instead of through an `nft` process.
    elements: Option<crate::netlink::ElementWriter>,
}

/// One remembered DNS answer: normalised name, address, when its (capped) TTL ends.
#[derive(Clone, Debug)]
struct Remembered {
    name: String,
    addr: IpAddr,
    until: std::time::Instant,
}

/// Most DNS answers remembered per device (the oldest are forgotten first).
pub const REMEMBERED_ANSWERS: usize = 256;

impl Enforcer {
    /// An enforcer for `site`'s table, managing no device yet. Nothing is applied until
    /// [`Enforcer::apply_all`] (or a per-device change).
    pub fn new(site: Site, runner: NftRunner) -> Self {
        Enforcer {
            site,
            runner,
            devices: BTreeMap::new(),
            owners: BTreeMap::new(),
            intended: Summary::default(),
            answers: BTreeMap::new(),
            elements: None,
        }
    }

    /// Send DNS-learned addresses ([`Enforcer::learn_dns_many`]) to the kernel over a netlink
    /// socket of this process's network namespace instead of starting `nft` for each batch:
    /// a fraction of a millisecond instead of a process start and a ruleset read. Refused
    /// when the runner works in another namespace (`netns`), whose sockets this process does
    /// not have; the `nft` path then stays in use.
    pub fn learn_over_netlink(&mut self) -> Result<(), EnforceError> {
        if self.runner.netns.is_some() {
            return Err(EnforceError::Rejected(
                "netlink learning needs the gateway in the namespace it enforces (run it with ip netns exec)".into(),
            ));
        }
        self.elements = Some(crate::netlink::ElementWriter::open()?);
        Ok(())
    }

    /// Elements putting back the still-valid answers `dev` received into its sets at its new
    /// level (names its new level does not use are skipped).
    fn relearn(&self, dev: &Device) -> Vec<Object> {
        let Some(remembered) = self.answers.get(&dev.mac) else {
            return vec![];
        };
        let names = device_dns_names(dev);
        let now = std::time::Instant::now();
        let mut out = vec![];
        for r in remembered {
            let Some(idx) = names.iter().position(|n| *n == r.name) else {
                continue;
            };
            let left = r.until.saturating_duration_since(now).as_secs();
            if left == 0 {
                continue;
            }
            out.push(Object::Elements {
                set: DeviceNames::new(&dev.mac).dns_set(idx, r.addr.is_ipv4()),
                elems: vec![Elem {
                    key: Val::Lit(r.addr.to_string()),
                    verdict: None,
                    timeout_s: Some(left.min(MAX_DNS_TTL_S as u64) as u32),
                }],
            });
        }
        out
    }

    fn remember(&mut self, a: &LearnedName, timeout_s: u32) {
        let list = self.answers.entry(a.device).or_default();
        let name = normalize_dns_name(&a.name);
        let until = std::time::Instant::now() + std::time::Duration::from_secs(timeout_s.into());
        list.retain(|r| !(r.name == name && r.addr == a.addr));
        if list.len() >= REMEMBERED_ANSWERS {
            list.remove(0);
        }
        list.push(Remembered {
            name,
            addr: a.addr,
            until,
        });
    }

    /// The site facts in force, including `local-networks` learned while running
    /// ([`Enforcer::add_local_networks`]).
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The managed devices, as last applied, in MAC order.
    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    /// The managed device with this MAC, as last applied.
    pub fn device(&self, mac: &Mac) -> Option<&Device> {
        self.devices.get(mac)
    }

    /// Build the batch that replaces our table with the skeleton plus `devices`.
    pub fn full_batch(&self, devices: &[Device]) -> Result<Batch, EnforceError> {
        let c = Compiler::new(&self.site);
        let mut b = c.skeleton();
        for d in devices {
            b.extend(c.add_device(d)?);
            for o in self.relearn(d) {
                b.add(o);
            }
        }
        Ok(b)
    }

    /// Replace the whole table atomically. On failure the previous table stays as it was.
    pub fn apply_all(&mut self, devices: Vec<Device>) -> Result<(), EnforceError> {
        Compiler::new(&self.site).check_site()?;
        let mut owners = BTreeMap::new();
        for d in &devices {
            claim(&mut owners, d)?;
        }
        let b = self.full_batch(&devices)?;
        if self.site.bridged_lan {
            self.runner.enable_bridge_netfilter()?;
        }
        self.runner.apply(&b)?;
        self.devices = devices.into_iter().map(|d| (d.mac, d)).collect();
        let devices = &self.devices;
        self.answers.retain(|m, _| devices.contains_key(m));
        self.owners = owners;
        self.intended = Summary::default();
        self.intended.apply(&b);
        Ok(())
    }

    /// Start managing `dev` in one transaction, leaving every other device's chains alone.
    /// Refused for a device already managed ([`Enforcer::replace`] it) or an address another
    /// device has.
    pub fn add(&mut self, dev: Device) -> Result<(), EnforceError> {
        if self.devices.contains_key(&dev.mac) {
            return Err(EnforceError::DuplicateDevice(dev.mac));
        }
        let mut owners = self.owners.clone();
        claim(&mut owners, &dev)?;
        let mut b = Compiler::new(&self.site).add_device(&dev)?;
        for o in self.relearn(&dev) {
            b.add(o);
        }
        self.runner.apply(&b)?;
        self.owners = owners;
        self.devices.insert(dev.mac, dev);
        self.intended.apply(&b);
        Ok(())
    }

    /// Stop managing a device: its chains, map entries and own sets go, in one transaction,
    /// and so do the DNS answers remembered for it. It is handed back as it was. From then on
    /// the catch-all for unmanaged LAN sources ([`Site::lan_interfaces`]) holds it, if set.
    pub fn remove(&mut self, mac: &Mac) -> Result<Device, EnforceError> {
        let dev = self
            .devices
            .get(mac)
            .ok_or(EnforceError::UnknownDevice(*mac))?;
        let b = Compiler::new(&self.site).remove_device(dev);
        self.runner.apply(&b)?;
        let dev = self.devices.remove(mac).expect("checked above");
        self.owners.retain(|_, m| m != mac);
        self.answers.remove(mac);
        self.intended.apply(&b);
        Ok(dev)
    }

    /// Swap a device's policy or level in one transaction: there is no instant at which the
    /// device is unmanaged. The DNS answers it received that are still valid are put into its
    /// new sets in the same transaction.
    pub fn replace(&mut self, dev: Device) -> Result<(), EnforceError> {
        let old = self
            .devices
            .get(&dev.mac)
            .ok_or(EnforceError::UnknownDevice(dev.mac))?;
        let mut owners = self.owners.clone();
        owners.retain(|_, m| *m != dev.mac);
        claim(&mut owners, &dev)?;
        let c = Compiler::new(&self.site);
        let mut b = c.remove_device(old);
        b.extend(c.add_device(&dev)?);
        for o in self.relearn(&dev) {
            b.add(o);
        }
        self.runner.apply(&b)?;
        self.owners = owners;
        self.devices.insert(dev.mac, dev);
        self.intended.apply(&b);
        Ok(())
    }

    /// Add prefixes to `local-networks` (RFC 8520 §3.14) while running: a prefix the gateway's
    /// own router advertisement announces is the home network's, so declared `local-networks`
    /// rules and the `no-lan-peers` rules of `default` cover it too. Prefixes already inside a
    /// local network are skipped (interval sets refuse overlaps). Returns how many were added;
    /// later full rebuilds keep them.
    pub fn add_local_networks(&mut self, nets: &[ipnet::IpNet]) -> Result<usize, EnforceError> {
        let mut fresh: Vec<ipnet::IpNet> = vec![];
        for n in nets {
            let n = n.trunc();
            let covered = self
                .site
                .local_networks
                .iter()
                .chain(fresh.iter())
                .any(|l| l.contains(&n) || n.contains(l));
            if !covered {
                fresh.push(n);
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let b = Compiler::new(&self.site).local_network_elems(&fresh);
        self.runner.apply(&b)?;
        self.intended.apply(&b);
        self.site.local_networks.extend(fresh.iter().copied());
        Ok(fresh.len())
    }

    /// Record that `device` received a DNS answer `name → addr` valid for `ttl_s` seconds
    /// (RFC 8520 §7: dnsname matches use the addresses the device itself resolved). Returns
    /// `false` if the device's policy does not name `name`, in which case nothing changes.
    pub fn learn_dns(
        &mut self,
        mac: &Mac,
        name: &str,
        addr: IpAddr,
        ttl_s: u32,
    ) -> Result<bool, EnforceError> {
        if !self.devices.contains_key(mac) {
            return Err(EnforceError::UnknownDevice(*mac));
        }
        Ok(self.learn_dns_many(&[LearnedName {
            device: *mac,
            name: name.to_string(),
            addr,
            ttl_s,
        }])? == 1)
    }

    /// [`Enforcer::learn_dns`] for many answers in one nft transaction (one process however
    /// many answers arrived). Answers for unmanaged devices or names their policy does not
    /// name are skipped; returns how many were added.
    pub fn learn_dns_many(&mut self, answers: &[LearnedName]) -> Result<usize, EnforceError> {
        let mut b = Batch::new(&self.site.table);
        let mut direct = vec![];
        let mut n = 0;
        for a in answers {
            let Some(dev) = self.devices.get(&a.device) else {
                continue;
            };
            // A zero TTL means "do not cache" (RFC 1035 §3.2.1); one second keeps the connection
            // the device opens right after the answer working. nft wants a non-zero timeout. A
            // resolver's TTL is capped: an address stays open at most MAX_DNS_TTL_S after the
            // device's last answer for it.
            let timeout = a.ttl_s.clamp(1, MAX_DNS_TTL_S);
            let wanted = normalize_dns_name(&a.name);
            let dev_names = device_dns_names(dev);
            self.remember(a, timeout);
            let Some(idx) = dev_names.iter().position(|n| *n == wanted) else {
                continue;
            };
            let set = DeviceNames::new(&a.device).dns_set(idx, a.addr.is_ipv4());
            if self.elements.is_some() {
                direct.push(crate::netlink::SetElement {
                    set: set.clone(),
                    addr: a.addr,
                    timeout_s: timeout,
                });
            }
            b.add(Object::Elements {
                set,
                elems: vec![Elem {
                    key: Val::Lit(a.addr.to_string()),
                    verdict: None,
                    timeout_s: Some(timeout),
                }],
            });
            n += 1;
        }
        if n > 0 {
            match self.elements.as_mut() {
                Some(w) => w.add_elements(&self.site.table, &direct)?,
                None => self.runner.apply(&b)?,
            }
        }
        Ok(n)
    }

    /// Put each device in `changes` at its new state (added if new, replaced if managed), all
    /// in one nft transaction when nft accepts it. When the combined batch is refused, each
    /// device is tried on its own so one bad device cannot keep the others out; a device that
    /// is still refused is [held at the strictest level](Enforcer::hold_strictest). Returns
    /// one outcome per device, in input order.
    pub fn apply_changes(&mut self, changes: Vec<Device>) -> Vec<(Mac, Result<(), EnforceError>)> {
        if changes.is_empty() {
            return vec![];
        }
        let c = Compiler::new(&self.site);
        let mut owners = self.owners.clone();
        let mut batch = Batch::new(&self.site.table);
        let mut combined_ok = true;
        for dev in &changes {
            owners.retain(|_, m| *m != dev.mac);
            if claim(&mut owners, dev).is_err() {
                combined_ok = false;
                break;
            }
            if let Some(old) = self.devices.get(&dev.mac) {
                batch.extend(c.remove_device(old));
            }
            match c.add_device(dev) {
                Ok(add) => {
                    batch.extend(add);
                    for o in self.relearn(dev) {
                        batch.add(o);
                    }
                }
                Err(_) => {
                    combined_ok = false;
                    break;
                }
            }
        }
        let mut seen = BTreeSet::new();
        combined_ok &= changes.iter().all(|d| seen.insert(d.mac));
        if combined_ok && self.runner.apply(&batch).is_ok() {
            self.owners = owners;
            self.intended.apply(&batch);
            let macs = changes.iter().map(|d| d.mac).collect::<Vec<_>>();
            for dev in changes {
                self.devices.insert(dev.mac, dev);
            }
            return macs.into_iter().map(|m| (m, Ok(()))).collect();
        }
        changes
            .into_iter()
            .map(|dev| {
                let mac = dev.mac;
                let r = if self.devices.contains_key(&mac) {
                    self.replace(dev)
                } else {
                    self.add(dev)
                };
                if r.is_err() {
                    self.hold_strictest(&mac);
                }
                (mac, r)
            })
            .collect()
    }

    /// After a refused change: make sure the device is no less contained than `isolated`. A
    /// managed device is moved to `isolated` (keeping its addresses); if even that is refused
    /// it is removed, and the catch-all for unmanaged LAN sources
    /// ([`Site::lan_interfaces`](crate::Site::lan_interfaces)) then holds it. Returns the level
    /// it is held at (`None`: unmanaged, under the catch-all).
    pub fn hold_strictest(&mut self, mac: &Mac) -> Option<Level> {
        let dev = self.devices.get(mac)?.clone();
        if dev.level == Level::Isolated {
            return Some(Level::Isolated);
        }
        let isolated = Device {
            level: Level::Isolated,
            ..dev
        };
        if self.replace(isolated).is_ok() {
            return Some(Level::Isolated);
        }
        let _ = self.remove(mac);
        self.devices.get(mac).map(|d| d.level)
    }

    /// What the table should contain now.
    pub fn intended(&self) -> &Summary {
        &self.intended
    }

    /// Read the table back and list every difference from what we intended.
    pub fn verify(&self) -> Result<Vec<Drift>, EnforceError> {
        let listing = self.runner.list_table(&self.site.table)?;
        let (actual, _) = Summary::of_listing(&listing)?;
        Ok(self.intended().diff(&actual))
    }

    /// Per-rule packet and byte counters for one device (both chains).
    pub fn counters(&self, mac: &Mac) -> Result<Vec<RuleCounter>, EnforceError> {
        let names = DeviceNames::new(mac);
        let listing = self.runner.list_table(&self.site.table)?;
        let (_, counters) = Summary::of_listing(&listing)?;
        Ok(counters
            .into_iter()
            .filter(|c| c.chain == names.out_chain || c.chain == names.in_chain)
            .collect())
    }
}

impl Enforcer {
    /// Per-rule counters of every managed device, read in one listing of the table.
    pub fn all_counters(
        &self,
    ) -> Result<std::collections::BTreeMap<Mac, Vec<RuleCounter>>, EnforceError> {
        let listing = self.runner.list_table(&self.site.table)?;
        let (_, counters) = Summary::of_listing(&listing)?;
        let mut by_chain: std::collections::HashMap<String, Vec<RuleCounter>> =
            std::collections::HashMap::new();
        for c in counters {
            by_chain.entry(c.chain.clone()).or_default().push(c);
        }
        let mut out = std::collections::BTreeMap::new();
        for d in self.devices() {
            let names = DeviceNames::new(&d.mac);
            let mut mine = by_chain.remove(&names.out_chain).unwrap_or_default();
            mine.extend(by_chain.remove(&names.in_chain).unwrap_or_default());
            out.insert(d.mac, mine);
        }
        Ok(out)
    }
}

/// Longest a learned DNS address stays in a device's `dst-dnsname` set after the answer,
/// whatever TTL the resolver gave: one hour, so a poisoned or stale answer cannot keep a
/// destination open for days (resolvers commonly cap at one day; devices re-resolve far
/// more often than hourly).
pub const MAX_DNS_TTL_S: u32 = 3600;

/// One DNS answer a device received, to learn into its `dst-dnsname` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedName {
    /// The device that received the answer.
    pub device: Mac,
    /// The name the answer is for, as it appeared (compared case-insensitively, trailing dot
    /// ignored: RFC 4343).
    pub name: String,
    /// One address of the answer (an A or AAAA record).
    pub addr: IpAddr,
    /// The record's TTL in seconds (RFC 1035 §3.2.1); clamped to 1..=[`MAX_DNS_TTL_S`]
    /// when learned.
    pub ttl_s: u32,
}

fn claim(owners: &mut BTreeMap<IpAddr, Mac>, dev: &Device) -> Result<(), EnforceError> {
    for a in dev.addrs() {
        if let Some(owner) = owners.get(&a) {
            if *owner != dev.mac {
                return Err(EnforceError::AddressConflict {
                    addr: a,
                    new: dev.mac,
                    owner: *owner,
                });
            }
        }
        owners.insert(a, dev.mac);
    }
    Ok(())
}
