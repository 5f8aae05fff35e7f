//! Containment state and quarantine decisions, independent of where frames come from.

use enforce::{Device, EnforceError, Enforcer, Level, MacAddr, NftRunner, Site};
use monitor::{DeviceFacts, Event, EventKind, EvidencePacket, Mac, Output};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const NS: u64 = 1_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("journal {path}: {source}")]
    Journal {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path} line {line}: {detail}")]
    JournalCorrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error(transparent)]
    Enforce(#[from] EnforceError),
    #[error(transparent)]
    Capture(#[from] monitor::CaptureError),
    #[error("{0}")]
    Other(String),
}

/// How the gateway behaves.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub site: Site,
    pub nft: NftRunner,
    /// Put devices under containment in nftables. Without it the gateway only reports.
    pub apply: bool,
    /// Record every change that would be made, change nothing in nftables.
    pub dry_run: bool,
    /// How long a quarantine lasts unless the owner releases the device earlier.
    pub quarantine_ttl_s: u64,
    /// Holds `journal.jsonl` and `release/` (owner release requests).
    pub state_dir: PathBuf,
    /// Verified MUD policies by URL (a device announcing one gets `declared`).
    pub policies: Vec<mud::DevicePolicy>,
    /// Most devices put under containment; beyond it new MACs are reported, not added (a
    /// flood of spoofed MACs must not grow the nftables table or this process without bound).
    pub max_devices: usize,
}

/// Default for [`GatewayConfig::max_devices`]: far above a home or small office.
pub const DEFAULT_MAX_DEVICES: usize = 1024;

/// One line of the journal: a change of containment level, with its reason.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JournalEntry {
    /// Wall-clock (live) or packet time, ns since the epoch.
    pub time_ns: u64,
    pub device: Mac,
    /// "contain" (first seen), "level" (MUD URL learned later), "quarantine", "release"
    /// (owner), "expire" (TTL).
    pub action: String,
    pub from: Option<Level>,
    pub to: Level,
    /// Event kind for quarantines.
    pub reason: Option<EventKind>,
    pub explanation: Option<String>,
    #[serde(default)]
    pub evidence: Vec<EvidencePacket>,
    /// When a quarantine ends by itself.
    pub until_ns: Option<u64>,
    /// Who decided: "monitor", "owner" or "ttl".
    pub by: String,
    /// Recorded only; nftables was not changed.
    pub dry_run: bool,
}

#[derive(Clone, Debug)]
struct Quarantine {
    until_ns: u64,
    previous: Level,
}

/// The gateway's containment state.
pub struct Gateway {
    cfg: GatewayConfig,
    enforcer: Option<Enforcer>,
    levels: BTreeMap<Mac, Level>,
    quarantined: BTreeMap<Mac, Quarantine>,
    facts: BTreeMap<Mac, DeviceFacts>,
    journal_path: PathBuf,
    /// Problems that did not stop the gateway (an nft batch refused, an address conflict).
    pub warnings: Vec<String>,
    refused_devices: u64,
}

fn mac_of(m: Mac) -> MacAddr {
    MacAddr(m.0)
}

impl Gateway {
    /// Start: read the journal (quarantines still running are restored when their device
    /// shows up again) and, when applying, install the empty skeleton table.
    pub fn new(cfg: GatewayConfig) -> Result<Self, GatewayError> {
        let journal_path = cfg.state_dir.join("journal.jsonl");
        std::fs::create_dir_all(cfg.state_dir.join("release")).map_err(|source| {
            GatewayError::Journal {
                path: cfg.state_dir.clone(),
                source,
            }
        })?;
        let mut quarantined = BTreeMap::new();
        for (entry, _) in read_journal(&journal_path)? {
            match entry.action.as_str() {
                "quarantine" => {
                    quarantined.insert(
                        entry.device,
                        Quarantine {
                            until_ns: entry.until_ns.unwrap_or(u64::MAX),
                            previous: entry.from.unwrap_or(Level::Default),
                        },
                    );
                }
                "release" | "expire" => {
                    quarantined.remove(&entry.device);
                }
                _ => {}
            }
        }
        let enforcer = if cfg.apply && !cfg.dry_run {
            let mut e = Enforcer::new(cfg.site.clone(), cfg.nft.clone());
            e.apply_all(vec![])?;
            Some(e)
        } else {
            None
        };
        Ok(Gateway {
            cfg,
            enforcer,
            levels: BTreeMap::new(),
            quarantined,
            facts: BTreeMap::new(),
            journal_path,
            warnings: vec![],
            refused_devices: 0,
        })
    }

    /// The level a device is at (or would be, in dry-run), if it was seen.
    pub fn level(&self, mac: &Mac) -> Option<Level> {
        self.levels.get(mac).copied()
    }

    pub fn is_quarantined(&self, mac: &Mac) -> bool {
        self.quarantined.contains_key(mac)
    }

    pub fn journal_path(&self) -> &Path {
        &self.journal_path
    }

    fn base_level(&self, facts: &DeviceFacts) -> (Level, Option<mud::DevicePolicy>) {
        let policy = facts
            .mud_url
            .as_deref()
            .and_then(|u| self.cfg.policies.iter().find(|p| p.mud_url == u))
            .cloned();
        match policy {
            Some(p) => (Level::Declared, Some(p)),
            None => (Level::Default, None),
        }
    }

    fn device(&self, facts: &DeviceFacts, level: Level) -> Device {
        let (_, policy) = self.base_level(facts);
        let mut d = Device {
            mac: mac_of(facts.mac),
            ipv4: vec![],
            ipv6: vec![],
            level,
            policy,
            update_hosts: vec![],
        };
        // The newest address of each family: after DHCP renumbering the old one may belong
        // to another device by now, and enforce refuses two owners for one address.
        if let Some(IpAddr::V4(a)) = facts.addrs.iter().rev().find(|a| a.is_ipv4()) {
            d.ipv4.push(*a);
        }
        for a in facts.addrs.iter().rev() {
            if let IpAddr::V6(v6) = a {
                // Link-local addresses are always allowed by the anti-spoofing rule.
                if (v6.segments()[0] & 0xffc0) != 0xfe80 && d.ipv6.len() < 2 {
                    d.ipv6.push(*v6);
                }
            }
        }
        d
    }

    fn record(&self, entry: &JournalEntry) -> Result<(), GatewayError> {
        let err = |source| GatewayError::Journal {
            path: self.journal_path.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal_path)
            .map_err(err)?;
        let mut line = serde_json::to_vec(entry).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        // One write per entry with O_APPEND: a reader never sees half an entry.
        f.write_all(&line).map_err(err)?;
        f.sync_data().map_err(err)
    }

    /// Apply `dev` in nftables (add or replace); a refusal is a warning, not a stop.
    fn enforce(&mut self, dev: Device) {
        let Some(e) = self.enforcer.as_mut() else {
            return;
        };
        let r = if e.device(&dev.mac).is_some() {
            e.replace(dev.clone())
        } else {
            e.add(dev.clone())
        };
        if let Err(err) = r {
            self.warnings.push(format!(
                "device {}: nftables change refused: {err}",
                dev.mac
            ));
        }
    }

    /// React to one monitor output at time `now_ns`.
    pub fn handle(&mut self, output: &Output, now_ns: u64) -> Result<(), GatewayError> {
        match output {
            Output::Device(facts) => self.device_seen(facts, now_ns),
            Output::Event(event) => self.event(event, now_ns),
            Output::Dns(answer) => {
                if let Some(e) = self.enforcer.as_mut() {
                    if e.device(&mac_of(answer.device)).is_some() {
                        if let Err(err) = e.learn_dns(
                            &mac_of(answer.device),
                            &answer.name,
                            answer.addr,
                            answer.ttl_s,
                        ) {
                            self.warnings.push(format!(
                                "device {}: DNS answer {} → {} not learned: {err}",
                                answer.device, answer.name, answer.addr
                            ));
                        }
                    }
                }
                Ok(())
            }
            // Learned LAN prefixes are not applied to nftables yet.
            Output::LanPrefix(_) => Ok(()),
        }
    }

    fn device_seen(&mut self, facts: &DeviceFacts, now_ns: u64) -> Result<(), GatewayError> {
        if !self.cfg.apply {
            return Ok(());
        }
        let has_v4 = facts.addrs.iter().any(|a| a.is_ipv4());
        if !self.facts.contains_key(&facts.mac) && self.facts.len() >= self.cfg.max_devices {
            if self.refused_devices == 0 || self.refused_devices.is_power_of_two() {
                self.warnings.push(format!(
                    "device {} not contained: already {} devices, the configured maximum ({} refused so far)",
                    facts.mac,
                    self.cfg.max_devices,
                    self.refused_devices + 1
                ));
            }
            self.refused_devices += 1;
            return Ok(());
        }
        let previous = self.facts.insert(facts.mac, facts.clone());
        if !has_v4 && facts.addrs.is_empty() {
            return Ok(()); // nothing to contain yet (DHCP still running)
        }
        let first = !self.levels.contains_key(&facts.mac);
        let level = if self.quarantined.contains_key(&facts.mac) {
            Level::Isolated
        } else {
            self.base_level(facts).0
        };
        if first {
            self.levels.insert(facts.mac, level);
            self.record(&JournalEntry {
                time_ns: now_ns,
                device: facts.mac,
                action: "contain".into(),
                from: None,
                to: level,
                reason: None,
                explanation: Some(format!(
                    "first seen{}",
                    facts
                        .hostname
                        .as_ref()
                        .map(|h| format!(" as {h}"))
                        .unwrap_or_default()
                )),
                evidence: vec![],
                until_ns: None,
                by: "monitor".into(),
                dry_run: self.cfg.dry_run,
            })?;
        }
        // A MUD URL learned later (DHCP after the first frame) changes the level: record it.
        let old_level = self.levels.insert(facts.mac, level);
        if !first && old_level != Some(level) {
            self.record(&JournalEntry {
                time_ns: now_ns,
                device: facts.mac,
                action: "level".into(),
                from: old_level,
                to: level,
                reason: None,
                explanation: Some(match &facts.mud_url {
                    Some(u) => format!("announced MUD URL {u}"),
                    None => "no verified MUD file".into(),
                }),
                evidence: vec![],
                until_ns: None,
                by: "monitor".into(),
                dry_run: self.cfg.dry_run,
            })?;
        }
        let changed = previous.map(|p| p.addrs != facts.addrs || p.mud_url != facts.mud_url);
        if first || changed == Some(true) || old_level != Some(level) {
            let dev = self.device(facts, level);
            self.enforce(dev);
        }
        Ok(())
    }

    fn event(&mut self, event: &Event, now_ns: u64) -> Result<(), GatewayError> {
        if !self.cfg.apply || !event.quarantine || self.quarantined.contains_key(&event.device) {
            return Ok(());
        }
        let Some(facts) = self.facts.get(&event.device).cloned() else {
            return Ok(());
        };
        let previous = self
            .levels
            .get(&event.device)
            .copied()
            .unwrap_or(Level::Default);
        let until = now_ns.saturating_add(self.cfg.quarantine_ttl_s.saturating_mul(NS));
        self.quarantined.insert(
            event.device,
            Quarantine {
                until_ns: until,
                previous,
            },
        );
        self.levels.insert(event.device, Level::Isolated);
        let dev = self.device(&facts, Level::Isolated);
        self.enforce(dev);
        self.record(&JournalEntry {
            time_ns: now_ns,
            device: event.device,
            action: "quarantine".into(),
            from: Some(previous),
            to: Level::Isolated,
            reason: Some(event.kind),
            explanation: Some(event.explanation.clone()),
            evidence: event.evidence.clone(),
            until_ns: Some(until),
            by: "monitor".into(),
            dry_run: self.cfg.dry_run,
        })
    }

    /// End a quarantine: the owner's release, or the TTL. Returns false if it was not quarantined.
    pub fn release(
        &mut self,
        mac: &Mac,
        by_owner: bool,
        now_ns: u64,
    ) -> Result<bool, GatewayError> {
        let Some(q) = self.quarantined.remove(mac) else {
            return Ok(false);
        };
        let level = match self.facts.get(mac) {
            Some(f) => self.base_level(f).0,
            None => q.previous,
        };
        self.levels.insert(*mac, level);
        if let Some(facts) = self.facts.get(mac).cloned() {
            let dev = self.device(&facts, level);
            self.enforce(dev);
        }
        self.record(&JournalEntry {
            time_ns: now_ns,
            device: *mac,
            action: if by_owner { "release" } else { "expire" }.into(),
            from: Some(Level::Isolated),
            to: level,
            reason: None,
            explanation: Some(if by_owner {
                "released by the owner".into()
            } else {
                "quarantine time ran out".into()
            }),
            evidence: vec![],
            until_ns: None,
            by: if by_owner { "owner" } else { "ttl" }.into(),
            dry_run: self.cfg.dry_run,
        })?;
        Ok(true)
    }

    /// Timers: expire quarantines past their TTL and carry out owner release requests
    /// (files named after the MAC in `state_dir/release/`).
    pub fn tick(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        let expired: Vec<Mac> = self
            .quarantined
            .iter()
            .filter(|(_, q)| q.until_ns <= now_ns)
            .map(|(m, _)| *m)
            .collect();
        for m in expired {
            self.release(&m, false, now_ns)?;
        }
        let dir = self.cfg.state_dir.join("release");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let _ = std::fs::remove_file(entry.path());
            match name.replace('-', ":").parse::<Mac>() {
                Ok(mac) => {
                    if !self.release(&mac, true, now_ns)? {
                        self.warnings
                            .push(format!("release {mac}: the device is not quarantined"));
                    }
                }
                Err(e) => self.warnings.push(format!("release request {name:?}: {e}")),
            }
        }
        Ok(())
    }
}

/// Read the journal; a missing file is an empty journal, a corrupt line an error naming it.
pub fn read_journal(path: &Path) -> Result<Vec<(JournalEntry, usize)>, GatewayError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(GatewayError::Journal {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|e| (e, i + 1))
                .map_err(|e| GatewayError::JournalCorrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    detail: e.to_string(),
                })
        })
        .collect()
}
