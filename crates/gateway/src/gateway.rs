//! Containment state and quarantine decisions, independent of where frames come from.

use enforce::{Device, EnforceError, Enforcer, Level, NftRunner, Site};
use monitor::{DeviceFacts, Event, EventKind, EvidencePacket, Mac, Output};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

mod owner;
mod traffic;

const NS: u64 = 1_000_000_000;

/// Why the gateway could not start, record a change or go on running.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A file of the state directory (the journal, its lock, the status file) could not be
    /// opened, read or written.
    #[error("journal {path}")]
    Journal {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A journal line is not a [`JournalEntry`]. Only a torn last line is recovered
    /// ([`recover_torn_tail`]); anything else is left for a person to look at.
    #[error("journal {path} line {line}: {detail}")]
    JournalCorrupt {
        /// The journal.
        path: PathBuf,
        /// The line, counting from 1.
        line: usize,
        /// Why it does not parse.
        detail: String,
    },
    /// nftables could not be changed or read back.
    #[error(transparent)]
    Enforce(#[from] EnforceError),
    /// The live capture failed.
    #[error(transparent)]
    Capture(#[from] monitor::CaptureError),
    /// Anything else, said in a sentence: another gateway holds the state directory, the MUD
    /// manager did not start, the capture thread panicked.
    #[error("{0}")]
    Other(String),
}

/// How the gateway behaves.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The site facts enforcement resolves MUD abstractions against, and our nftables table.
    pub site: Site,
    /// How `nft` is run.
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
    /// Devices the owner vouches for (laptops, phones): held at `trusted` instead of `default`
    /// or `declared`. More can be added while running (`state_dir/trust/`), and are journalled.
    pub trusted: Vec<Mac>,
    /// The MUD manager: fetch each announced MUD URL over HTTPS, verify it, and ask the label
    /// registry about it (`None`: only `policies` are used, no label is looked up).
    pub manager: Option<manager::ManagerConfig>,
    /// The level of a device with a verified MUD file but no label: `declared` (contain it to
    /// its file) or `default` (a label is required for `declared`).
    pub unlabelled: Level,
    /// Answer the devices' DNS queries through the gateway's DNS hold, which learns each
    /// answer's addresses before the device has it (only when applying, not in dry run; see
    /// [`crate::DnsHoldConfig`]). `None`: answers are learned from the capture, just after the
    /// device got them, and a first connection can race the set update.
    pub dns_hold: Option<crate::DnsHoldConfig>,
}

/// Default for [`GatewayConfig::max_devices`]: far above a home or small office.
pub const DEFAULT_MAX_DEVICES: usize = 1024;

/// One line of the journal: a change of containment level, with its reason.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JournalEntry {
    /// Wall-clock (live) or packet time, ns since the epoch.
    pub time_ns: u64,
    /// The device whose level changed.
    pub device: Mac,
    /// What changed.
    pub action: Action,
    /// Its level before (`None`: it was not contained yet).
    pub from: Option<Level>,
    /// Its level after.
    pub to: Level,
    /// Event kind for quarantines.
    pub reason: Option<EventKind>,
    /// The change in a sentence a household understands (for a quarantine, the event's).
    pub explanation: Option<String>,
    /// The same sentence in French, where the gateway has it (a quarantine: the event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation_fr: Option<String>,
    /// The packets behind a quarantine (the event's evidence).
    #[serde(default)]
    pub evidence: Vec<EvidencePacket>,
    /// When a quarantine ends by itself.
    pub until_ns: Option<u64>,
    /// Who decided.
    pub by: By,
    /// Recorded only; nftables was not changed.
    pub dry_run: bool,
    /// nftables took the change (`false`: it refused; `error` says why and the device is held
    /// at `isolated` or under the catch-all for unmanaged LAN sources until a retry succeeds).
    /// Always `false` in dry run. Lines written before this field existed read as applied.
    #[serde(default = "yes")]
    pub applied: bool,
    /// Why nftables did not take the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What decided the level, as a code (`mud-verified`, `bad-signature`, `label-revoked`,
    /// `support-ended`, …; see [`Decision::cause`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// `rename`: the owner's name for the device (`None`: the name was taken away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `release` for a time: the quarantine resumes at `until_ns` and then runs this many
    /// seconds more (what was left of it when it was released).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes_for_s: Option<u64>,
    /// `allow` / `disallow`: the owner exception added or taken away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<enforce::Exception>,
}

/// What a journal line records (`action` in the JSON, kebab-case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// First seen and put under containment.
    Contain,
    /// Its level changed (a MUD URL learned later, or a second one announced).
    Level,
    /// Bot behaviour: moved to `isolated` until `until_ns` or a release.
    Quarantine,
    /// The owner ended a quarantine.
    Release,
    /// A quarantine ran out.
    Expire,
    /// Idle at the device limit: removed to make room, held by the catch-all until seen again.
    Evict,
    /// nftables refused new addresses of a device; it is held at its level meanwhile.
    Refused,
    /// A change nftables had refused is now applied.
    Retry,
    /// The owner trusts the device.
    Trust,
    /// The owner withdrew trust.
    Untrust,
    /// The MUD manager's verdict on the device's MUD file (verified, refused, expired).
    Mud,
    /// The device's label changed status (or its registry answer was refused).
    Label,
    /// A quarantine the owner had released for a time starts again.
    Resume,
    /// The owner named the device.
    Rename,
    /// The owner acknowledged a new device as theirs.
    Approve,
    /// The owner removed the device: its containment is gone and, until it is seen again,
    /// the catch-all holds it; when it comes back it is a new device.
    Forget,
    /// The owner allowed the device one more destination (an owner exception).
    Allow,
    /// The owner took an exception away.
    Disallow,
}

impl Action {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Contain => "contain",
            Action::Level => "level",
            Action::Quarantine => "quarantine",
            Action::Release => "release",
            Action::Expire => "expire",
            Action::Evict => "evict",
            Action::Refused => "refused",
            Action::Retry => "retry",
            Action::Trust => "trust",
            Action::Untrust => "untrust",
            Action::Mud => "mud",
            Action::Label => "label",
            Action::Resume => "resume",
            Action::Rename => "rename",
            Action::Approve => "approve",
            Action::Forget => "forget",
            Action::Allow => "allow",
            Action::Disallow => "disallow",
        }
    }
}

/// Who decided a journalled change (`by` in the JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum By {
    /// The monitor's observation (first sight, MUD URL, bot behaviour).
    Monitor,
    /// The device's owner (release, trust).
    Owner,
    /// A quarantine's time ran out.
    Ttl,
    /// The gateway itself (device limit, retries of refused changes).
    Gateway,
    /// The MUD manager (a MUD file fetched or refused, a label's status).
    Manager,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug)]
struct Quarantine {
    until_ns: u64,
    previous: Level,
    /// When it began, why (the event's kind; `None`: the owner isolated the device), and the
    /// sentence in English and French.
    since_ns: u64,
    reason: Option<EventKind>,
    explanation: Option<String>,
    explanation_fr: Option<String>,
}

impl Quarantine {
    fn from_entry(e: &JournalEntry) -> Self {
        Quarantine {
            until_ns: e.until_ns.unwrap_or(u64::MAX),
            previous: e.from.unwrap_or(Level::Default),
            since_ns: e.time_ns,
            reason: e.reason,
            explanation: e.explanation.clone(),
            explanation_fr: e.explanation_fr.clone(),
        }
    }
}

/// A quarantine the owner released for a time: it starts again at `resume_ns` for
/// `remaining_ns` more.
#[derive(Clone, Debug)]
struct Paused {
    resume_ns: u64,
    remaining_ns: u64,
    quarantine: Quarantine,
}

/// "1 hour", "90 minutes", "45 seconds": a duration in a journal sentence.
fn duration_words(s: u64) -> String {
    match s {
        3600 => "1 hour".into(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// The first 12 hex digits of a SHA-256, for sentences.
fn short_digest(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// A level change waiting for the end of its batch, with the journal entry recording it
/// (`applied` and `error` are filled in from the outcome).
struct Deferred {
    dev: Device,
    now_ns: u64,
    entry: JournalEntry,
    when: Record,
}

/// When a deferred change's journal entry is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    Always,
    /// Only if nftables refused it (new addresses of a device whose level did not change).
    OnError,
}

/// The gateway's containment state.
pub struct Gateway {
    cfg: GatewayConfig,
    enforcer: Option<Enforcer>,
    levels: BTreeMap<Mac, Level>,
    quarantined: BTreeMap<Mac, Quarantine>,
    /// Quarantines the owner released for a time.
    paused: BTreeMap<Mac, Paused>,
    /// The owner's names for devices.
    names: BTreeMap<Mac, String>,
    /// Devices the owner acknowledged as theirs (the others are "new").
    approved: BTreeSet<Mac>,
    /// Destinations the owner allows a device beside its level.
    exceptions: BTreeMap<Mac, BTreeSet<enforce::Exception>>,
    /// When each device was first contained (journal `contain`, kept across restarts).
    first_seen: BTreeMap<Mac, u64>,
    facts: BTreeMap<Mac, DeviceFacts>,
    journal_path: PathBuf,
    /// Problems that did not stop the gateway (an nft batch refused, an address conflict).
    pub warnings: Vec<String>,
    refused_devices: u64,
    /// Devices whose last nft change was refused: when to try again, and how many tries so far.
    retry: BTreeMap<Mac, (u64, u32)>,
    /// DNS answers waiting to be learned in one nft transaction.
    pending_dns: Vec<enforce::LearnedName>,
    /// While a batch of outputs or manager updates is handled: the level changes it makes,
    /// applied together in one nft transaction at its end (1000 devices joining at once cost
    /// one transaction, not 1000). `None`: each change is applied at once.
    deferred: Option<Vec<Deferred>>,
    /// Packet time each device was last seen (fed by [`Gateway::note_seen`]).
    last_seen: BTreeMap<Mac, u64>,
    /// Devices at `trusted` (configuration, then the owner's `trust` / `untrust` requests).
    trusted: BTreeSet<Mac>,
    /// The MUD manager's thread, when configured.
    manager: Option<manager::Manager>,
    /// What the manager said about each MUD URL.
    mud_files: BTreeMap<String, MudState>,
    /// What the registry said about each MUD URL's label.
    labels: BTreeMap<String, LabelState>,
    /// URLs the manager's queue was full for: asked again at the next tick.
    unasked: BTreeSet<String>,
    /// The latest time seen (packet time or wall clock): label status is computed at it.
    now_ns: u64,
    /// When levels were last re-evaluated against label status (support end dates).
    evaluated_ns: u64,
    /// `state_dir/status.json` needs writing.
    status_dirty: bool,
    /// What each device's rules counted.
    traffic: BTreeMap<Mac, traffic::Totals>,
    /// The household explanation of each configured (local) policy, by MUD URL.
    local_explained: BTreeMap<String, std::sync::Arc<(String, String)>>,
    /// When the counters were last read.
    counters_read_ns: u64,
    /// `state_dir/gateway.lock`, locked for as long as this gateway runs: a second gateway on
    /// the same state refuses to start, and `gateway release` can tell one is running.
    _lock: std::fs::File,
}

/// The lock file in a state directory, held by the running gateway.
pub const LOCK_FILE: &str = "gateway.lock";

/// Take the state directory's lock, or say who holds it.
fn lock_state(dir: &Path) -> Result<std::fs::File, GatewayError> {
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|source| GatewayError::Journal {
            path: path.clone(),
            source,
        })?;
    match fs4::FileExt::try_lock(&f) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(GatewayError::Other(format!(
                "another gateway (process {}) is already running with the state directory {}; stop it first or give this one another --state",
                pid.trim(),
                dir.display()
            )));
        }
        Err(fs4::TryLockError::Error(source)) => {
            return Err(GatewayError::Journal { path, source });
        }
    }
    let mut w = &f;
    let _ = w.set_len(0);
    let _ = writeln!(w, "{}", std::process::id());
    Ok(f)
}

/// Most DNS answers held for the next batch; beyond it they are learned at once.
const DNS_BATCH: usize = 64;
/// A device idle this long may be evicted to make room for a new one at the device cap.
pub const IDLE_EVICT_S: u64 = 300;
/// Longest wait between retries of a refused nft change.
const MAX_RETRY_S: u64 = 60;

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
        let lock = lock_state(&cfg.state_dir)?;
        let mut quarantined = BTreeMap::new();
        let mut paused = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut approved = BTreeSet::new();
        let mut exceptions: BTreeMap<Mac, BTreeSet<enforce::Exception>> = BTreeMap::new();
        let mut first_seen = BTreeMap::new();
        let mut trusted: BTreeSet<Mac> = cfg.trusted.iter().copied().collect();
        let mut warnings = vec![];
        if let Some(w) = recover_torn_tail(&journal_path)? {
            warnings.push(w);
        }
        for (entry, _) in read_journal(&journal_path)? {
            match entry.action {
                Action::Quarantine => {
                    paused.remove(&entry.device);
                    quarantined.insert(entry.device, Quarantine::from_entry(&entry));
                }
                Action::Resume => {
                    let q = paused
                        .remove(&entry.device)
                        .map(|p: Paused| p.quarantine)
                        .unwrap_or_else(|| Quarantine::from_entry(&entry));
                    quarantined.insert(
                        entry.device,
                        Quarantine {
                            until_ns: entry.until_ns.unwrap_or(u64::MAX),
                            ..q
                        },
                    );
                }
                Action::Release | Action::Expire => {
                    if let (Some(q), Some(resume_ns), Some(s)) = (
                        quarantined.remove(&entry.device),
                        entry.until_ns,
                        entry.resumes_for_s,
                    ) {
                        paused.insert(
                            entry.device,
                            Paused {
                                resume_ns,
                                remaining_ns: s.saturating_mul(NS),
                                quarantine: q,
                            },
                        );
                    } else {
                        paused.remove(&entry.device);
                    }
                }
                Action::Rename => match &entry.name {
                    Some(n) => {
                        names.insert(entry.device, n.clone());
                    }
                    None => {
                        names.remove(&entry.device);
                    }
                },
                Action::Approve => {
                    approved.insert(entry.device);
                }
                Action::Allow => {
                    if let Some(x) = entry.exception.clone() {
                        exceptions.entry(entry.device).or_default().insert(x);
                    }
                }
                Action::Disallow => {
                    if let (Some(x), Some(set)) =
                        (&entry.exception, exceptions.get_mut(&entry.device))
                    {
                        set.remove(x);
                    }
                }
                Action::Contain => {
                    first_seen.entry(entry.device).or_insert(entry.time_ns);
                }
                Action::Forget => {
                    quarantined.remove(&entry.device);
                    paused.remove(&entry.device);
                    names.remove(&entry.device);
                    approved.remove(&entry.device);
                    exceptions.remove(&entry.device);
                    trusted.remove(&entry.device);
                    first_seen.remove(&entry.device);
                }
                Action::Trust => {
                    trusted.insert(entry.device);
                }
                Action::Untrust => {
                    trusted.remove(&entry.device);
                }
                _ => {}
            }
        }
        let manager = match &cfg.manager {
            Some(m) => Some(manager::Manager::start(m.clone()).map_err(GatewayError::Other)?),
            None => None,
        };
        let enforcer = if cfg.apply && !cfg.dry_run {
            let mut e = Enforcer::new(cfg.site.clone(), cfg.nft.clone());
            e.apply_all(vec![])?;
            // DNS-learned addresses over netlink (no process per batch) when the gateway runs
            // in the namespace it enforces; otherwise through nft.
            if cfg.nft.netns.is_none() {
                if let Err(err) = e.learn_over_netlink() {
                    warnings.push(format!(
                        "DNS answers are learned through nft, not netlink: {err}"
                    ));
                }
            }
            Some(e)
        } else {
            None
        };
        let local_explained = cfg
            .policies
            .iter()
            .map(|p| (p.mud_url.clone(), explained(p)))
            .collect();
        Ok(Gateway {
            cfg,
            enforcer,
            levels: BTreeMap::new(),
            quarantined,
            paused,
            names,
            approved,
            exceptions,
            first_seen,
            facts: BTreeMap::new(),
            journal_path,
            warnings,
            refused_devices: 0,
            retry: BTreeMap::new(),
            pending_dns: vec![],
            deferred: None,
            last_seen: BTreeMap::new(),
            trusted,
            manager,
            mud_files: BTreeMap::new(),
            labels: BTreeMap::new(),
            unasked: BTreeSet::new(),
            now_ns: 0,
            evaluated_ns: 0,
            status_dirty: true,
            traffic: BTreeMap::new(),
            local_explained,
            counters_read_ns: 0,
            _lock: lock,
        })
    }

    /// Whether the owner vouches for the device (it is at `trusted` unless quarantined).
    pub fn is_trusted(&self, mac: &Mac) -> bool {
        self.trusted.contains(mac)
    }

    /// The level a device is at (or would be, in dry-run), if it was seen.
    pub fn level(&self, mac: &Mac) -> Option<Level> {
        self.levels.get(mac).copied()
    }

    /// Whether the device is in a running quarantine (also in dry run, where nothing was
    /// applied).
    pub fn is_quarantined(&self, mac: &Mac) -> bool {
        self.quarantined.contains_key(mac)
    }

    /// Where the journal is: `journal.jsonl` in the state directory.
    pub fn journal_path(&self) -> &Path {
        &self.journal_path
    }

    fn base_level(&self, facts: &DeviceFacts) -> (Level, Option<mud::DevicePolicy>) {
        let d = self.decide(facts);
        (d.level, d.policy)
    }

    /// The containment table: the level a device (not quarantined) is held at, and why.
    ///
    /// | facts | level |
    /// |---|---|
    /// | the owner trusts it | `trusted` |
    /// | it announced a second, different MUD URL | `default` |
    /// | its label is revoked, suspended, past its support period or expired | `update-only` |
    /// | its MUD file says `is-supported: false` | `update-only` |
    /// | the registry's answer about its label failed its proofs | `default` |
    /// | a verified MUD file and an active label | `declared` |
    /// | a verified MUD file, no label | `GatewayConfig::unlabelled` |
    /// | no verified MUD file | `default` |
    pub fn decide(&self, facts: &DeviceFacts) -> Decision {
        let d = |level, policy, cause: &str, reason: String| Decision {
            level,
            policy,
            cause: cause.to_string(),
            reason,
        };
        // The owner's word: a general-purpose device they vouch for keeps the LAN and internet.
        if self.trusted.contains(&facts.mac) {
            return d(
                Level::Trusted,
                None,
                "trusted",
                "trusted by the owner".into(),
            );
        }
        // A device that announced a second, different MUD URL is not believed for either: it
        // stays at `default` until the owner sorts it out (a firmware update or a takeover).
        if let (Some(u), Some(n)) = (&facts.mud_url, &facts.mud_url_changed_to) {
            return d(
                Level::Default,
                None,
                "mud-url-changed",
                format!("announced a second MUD URL {n} after {u}: neither is used"),
            );
        }
        let Some(url) = facts.mud_url.as_deref() else {
            return d(
                Level::Default,
                None,
                "no-mud-url",
                "announced no MUD URL".into(),
            );
        };
        let fetched = self.mud_files.get(url);
        let policy = self
            .cfg
            .policies
            .iter()
            .find(|p| p.mud_url == url)
            .cloned()
            .or_else(|| fetched.and_then(|m| m.verified.as_ref().map(|v| v.policy.clone())));
        let label = self.labels.get(url);
        if let Some(LabelState {
            problem: Some(why), ..
        }) = label
        {
            return d(
                Level::Default,
                None,
                "label-answer-refused",
                format!("the registry's answer about its label was not used: {why}"),
            );
        }
        if let Some(info) = label.and_then(|l| l.info.as_ref()) {
            let status = info.status_at(ns_to_time(self.now_ns));
            let tight = match &status {
                label::Status::Revoked { reason } => Some((
                    "label-revoked",
                    format!("its label {} was revoked: {reason}", info.label_id),
                )),
                label::Status::Suspended => Some((
                    "label-suspended",
                    format!("its label {} is suspended", info.label_id),
                )),
                label::Status::SupportEnded => Some((
                    "support-ended",
                    format!(
                        "its manufacturer's security-update support ended on {} (label {})",
                        info.claims.support.end_date, info.label_id
                    ),
                )),
                label::Status::Expired => Some((
                    "label-expired",
                    format!("its label {} expired", info.label_id),
                )),
                _ => None,
            };
            // Its firmware under another label: revoked or suspended there, known bad here.
            let tight = tight.or_else(|| {
                info.firmware_labels.iter().find_map(|f| {
                    match f.status_at(ns_to_time(self.now_ns)) {
                        label::Status::Revoked { reason } => Some((
                            "firmware-revoked",
                            format!(
                                "its firmware {} is also under label {}, which was revoked: {reason}",
                                short_digest(&f.image_sha256),
                                f.label_id
                            ),
                        )),
                        label::Status::Suspended => Some((
                            "firmware-suspended",
                            format!(
                                "its firmware {} is also under label {}, which is suspended",
                                short_digest(&f.image_sha256),
                                f.label_id
                            ),
                        )),
                        _ => None,
                    }
                })
            });
            if let Some((cause, why)) = tight {
                return d(
                    Level::UpdateOnly,
                    policy,
                    cause,
                    format!("{why}: only updates"),
                );
            }
        }
        let Some(policy) = policy else {
            let (cause, why) = match fetched.and_then(|m| m.refused.as_ref()) {
                Some((kind, why)) => (
                    kind.as_str().to_string(),
                    format!("its MUD file {url} was not used ({}): {why}", kind.as_str()),
                ),
                None if self.manager.is_some() => (
                    "mud-pending".to_string(),
                    format!("its MUD file {url} is being fetched"),
                ),
                None => (
                    "no-mud-file".to_string(),
                    format!("no verified MUD file for {url}"),
                ),
            };
            return Decision {
                level: Level::Default,
                policy: None,
                cause,
                reason: why,
            };
        };
        if !policy.is_supported {
            return d(
                Level::UpdateOnly,
                Some(policy),
                "not-supported",
                "its MUD file says the manufacturer no longer supports it: only updates".into(),
            );
        }
        let who = policy
            .mfg_name
            .clone()
            .unwrap_or_else(|| policy.authority.clone());
        match label.and_then(|l| l.info.as_ref()) {
            Some(info) if info.status_at(ns_to_time(self.now_ns)).is_active() => d(
                Level::Declared,
                Some(policy),
                "label-active",
                format!(
                    "only what {who} declared in its MUD file; label {} is active",
                    info.label_id
                ),
            ),
            _ if self.cfg.unlabelled == Level::Declared => d(
                Level::Declared,
                Some(policy),
                "mud-verified",
                format!("only what {who} declared in its MUD file (no active label found)"),
            ),
            _ => d(
                Level::Default,
                None,
                "no-label",
                format!(
                    "its MUD file from {who} verified, but a label is required for `declared` and none is active"
                ),
            ),
        }
    }

    fn device(&self, facts: &DeviceFacts, level: Level) -> Device {
        let (_, policy) = self.base_level(facts);
        let mut d = Device {
            mac: facts.mac,
            ipv4: vec![],
            ipv6: vec![],
            level,
            policy,
            update_hosts: vec![],
            exceptions: self
                .exceptions
                .get(&facts.mac)
                .map(|x| x.iter().cloned().collect())
                .unwrap_or_default(),
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

    /// Apply `dev` in nftables (add or replace). Returns whether nftables took it (`Ok(false)`
    /// when not applying: dry run or report-only). A refusal holds the device at `isolated` (or
    /// under the catch-all), is retried with backoff from [`Gateway::tick`], and comes back as
    /// the error text for the journal.
    fn enforce(&mut self, dev: Device, now_ns: u64) -> Result<bool, String> {
        self.enforce_many(vec![(dev, now_ns)])
            .pop()
            .unwrap_or(Ok(false))
    }

    /// Put each device at its state in one nft transaction (a device nft refuses is tried on
    /// its own, see [`Enforcer::apply_changes`]); one outcome per device, in order: `Ok(true)`
    /// applied, `Ok(false)` nothing to apply to (not enforcing), `Err` refused and why.
    fn enforce_many(&mut self, devs: Vec<(Device, u64)>) -> Vec<Result<bool, String>> {
        let Some(e) = self.enforcer.as_mut() else {
            return devs.iter().map(|_| Ok(false)).collect();
        };
        // A LAN device speaks only for itself: an address another managed device already holds
        // (or an earlier device of this batch) is not given to this one (its anti-spoofing
        // rule then drops what it sends from it).
        let mut taken: BTreeMap<IpAddr, Mac> = e
            .devices()
            .flat_map(|d| d.addrs().map(|a| (a, d.mac)).collect::<Vec<_>>())
            .collect();
        let mut changes = Vec::with_capacity(devs.len());
        let mut times = Vec::with_capacity(devs.len());
        for (mut dev, now_ns) in devs {
            let mac = dev.mac;
            let before = dev.ipv4.len() + dev.ipv6.len();
            let free = |a: IpAddr| taken.get(&a).is_none_or(|m| *m == mac);
            dev.ipv4.retain(|a| free(IpAddr::V4(*a)));
            dev.ipv6.retain(|a| free(IpAddr::V6(*a)));
            if dev.ipv4.len() + dev.ipv6.len() != before {
                self.warnings.push(format!(
                    "device {mac}: uses an address another device holds; contained without it"
                ));
            }
            for a in dev.addrs() {
                taken.insert(a, mac);
            }
            changes.push(dev);
            times.push(now_ns);
        }
        let outcomes = e.apply_changes(changes);
        let mut out = Vec::with_capacity(outcomes.len());
        for ((mac, result), now_ns) in outcomes.into_iter().zip(times) {
            out.push(match result {
                Ok(()) => {
                    self.retry.remove(&mac);
                    Ok(true)
                }
                Err(err) => {
                    let held = match self.enforcer.as_ref().and_then(|e| e.device(&mac)) {
                        Some(d) => format!("held at {}", d.level),
                        None => "held by the catch-all for unmanaged LAN sources".to_string(),
                    };
                    let tries = self.retry.get(&mac).map_or(0, |r| r.1) + 1;
                    let wait = (1u64 << tries.min(6)).min(MAX_RETRY_S);
                    self.retry
                        .insert(mac, (now_ns.saturating_add(wait * NS), tries));
                    let text =
                        format!("nftables refused the change ({err}); {held}, retry in {wait} s");
                    self.warnings.push(format!("device {mac}: {text}"));
                    Err(text)
                }
            });
        }
        out
    }

    /// Apply `dev` and journal `entry` (per `when`) with the outcome: at once, or at the end
    /// of the batch being handled.
    fn enforce_and_record(
        &mut self,
        dev: Device,
        now_ns: u64,
        entry: JournalEntry,
        when: Record,
    ) -> Result<(), GatewayError> {
        if let Some(list) = &self.deferred {
            // A device changed twice in one batch: the first change goes in first.
            if list.iter().any(|d| d.dev.mac == dev.mac) {
                self.flush_deferred()?;
            }
            if let Some(list) = &mut self.deferred {
                list.push(Deferred {
                    dev,
                    now_ns,
                    entry,
                    when,
                });
                return Ok(());
            }
        }
        let outcome = self.enforce(dev, now_ns);
        self.record_outcome(entry, when, &outcome)
    }

    fn record_outcome(
        &self,
        mut entry: JournalEntry,
        when: Record,
        outcome: &Result<bool, String>,
    ) -> Result<(), GatewayError> {
        entry.applied = matches!(outcome, Ok(true));
        entry.error = outcome.as_ref().err().cloned();
        if when == Record::Always || outcome.is_err() {
            self.record(&entry)?;
        }
        Ok(())
    }

    /// Apply the changes deferred so far in one transaction and journal them.
    fn flush_deferred(&mut self) -> Result<(), GatewayError> {
        let items = match &mut self.deferred {
            Some(list) if !list.is_empty() => std::mem::take(list),
            _ => return Ok(()),
        };
        let (devs, rest): (Vec<_>, Vec<_>) = items
            .into_iter()
            .map(|d| ((d.dev, d.now_ns), (d.entry, d.when)))
            .unzip();
        let outcomes = self.enforce_many(devs);
        for ((entry, when), outcome) in rest.into_iter().zip(outcomes) {
            self.record_outcome(entry, when, &outcome)?;
        }
        Ok(())
    }

    /// [`Gateway::handle`] for several outputs at once (what the live loop read in one go):
    /// the containment changes they make are applied together, in one nft transaction, at the
    /// end. A quarantine is applied at once (after the changes before it).
    pub fn handle_batch(&mut self, outputs: &[Output], now_ns: u64) -> Result<(), GatewayError> {
        self.deferred = Some(Vec::new());
        let handled = outputs.iter().try_for_each(|o| self.handle(o, now_ns));
        let flushed = self.flush_deferred();
        self.deferred = None;
        handled.and(flushed)
    }

    /// The device was seen at packet time `ns` (the live loop feeds this from the monitor);
    /// used to find idle devices when the device cap is reached.
    pub fn note_seen(&mut self, mac: &Mac, ns: u64) {
        if let Some(t) = self.last_seen.get_mut(mac) {
            *t = (*t).max(ns);
        }
    }

    /// Learn `answers` (name, address, TTL) that `device` is about to receive, together with
    /// everything held so far, before returning: the DNS hold calls this before it lets the
    /// answer go to the device.
    pub fn learn_now(&mut self, device: Mac, answers: Vec<(String, IpAddr, u32)>) {
        if self.enforcer.is_none() {
            return;
        }
        for (name, addr, ttl_s) in answers {
            self.pending_dns.push(enforce::LearnedName {
                device,
                name,
                addr,
                ttl_s,
            });
        }
        self.flush_dns();
    }

    /// Learn the DNS answers held so far, in one transaction (one netlink message when the
    /// gateway enforces in its own namespace, else one nft process).
    pub fn flush_dns(&mut self) {
        if self.pending_dns.is_empty() {
            return;
        }
        let answers = std::mem::take(&mut self.pending_dns);
        if let Some(e) = self.enforcer.as_mut() {
            if let Err(err) = e.learn_dns_many(&answers) {
                self.warnings
                    .push(format!("{} DNS answers not learned: {err}", answers.len()));
            }
        }
    }

    /// Make room at the device cap: evict the device idle longest, if it has been idle at
    /// least [`IDLE_EVICT_S`]. It then falls under the catch-all for unmanaged LAN sources
    /// until it is seen again; a running quarantine is kept and resumes.
    fn evict_idle(&mut self, now_ns: u64) -> Result<bool, GatewayError> {
        let idle = self
            .facts
            .keys()
            .map(|m| (self.last_seen.get(m).copied().unwrap_or(0), *m))
            .filter(|(t, _)| t.saturating_add(IDLE_EVICT_S * NS) <= now_ns)
            .min();
        let Some((_, mac)) = idle else {
            return Ok(false);
        };
        self.facts.remove(&mac);
        self.last_seen.remove(&mac);
        self.retry.remove(&mac);
        let from = self.levels.remove(&mac);
        let mut applied = false;
        let mut error = None;
        if let Some(e) = self.enforcer.as_mut() {
            match e.remove(&mac) {
                Ok(_) | Err(EnforceError::UnknownDevice(_)) => applied = true,
                Err(err) => error = Some(err.to_string()),
            }
        }
        self.record(&JournalEntry {
            time_ns: now_ns,
            device: mac,
            action: Action::Evict,
            from,
            to: Level::Isolated,
            reason: None,
            explanation: Some(format!(
                "idle for {IDLE_EVICT_S} s or more and the device limit ({}) was reached; held by the catch-all until it is seen again",
                self.cfg.max_devices
            )),
            evidence: vec![],
            until_ns: None,
            by: By::Gateway,
            dry_run: self.cfg.dry_run,
            applied,
            error,
            cause: None,
            explanation_fr: None,
            name: None,
            resumes_for_s: None,
            exception: None,
        })?;
        Ok(true)
    }

    /// React to one monitor output at time `now_ns`. DNS answers are held and learned in
    /// batches ([`Gateway::flush_dns`], called from [`Gateway::tick`] and whenever a
    /// full batch is waiting).
    pub fn handle(&mut self, output: &Output, now_ns: u64) -> Result<(), GatewayError> {
        match output {
            Output::Device(facts) => self.device_seen(facts, now_ns),
            Output::Event(event) => self.event(event, now_ns),
            Output::Dns(answer) => {
                if self.enforcer.is_some() {
                    self.pending_dns.push(enforce::LearnedName {
                        device: answer.device,
                        name: answer.name.clone(),
                        addr: answer.addr,
                        ttl_s: answer.ttl_s,
                    });
                    if self.pending_dns.len() >= DNS_BATCH && self.deferred.is_none() {
                        self.flush_dns();
                    }
                }
                Ok(())
            }
            // A prefix the gateway itself advertises is the home network's: local-networks.
            Output::LanPrefix(p) => {
                if let Some(e) = self.enforcer.as_mut() {
                    if let Err(err) = e.add_local_networks(&[p.prefix]) {
                        self.warnings.push(format!(
                            "LAN prefix {} not added to the local networks: {err}",
                            p.prefix
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        now_ns: u64,
        device: Mac,
        action: Action,
        from: Option<Level>,
        to: Level,
        explanation: String,
        by: By,
        outcome: &Result<bool, String>,
    ) -> JournalEntry {
        JournalEntry {
            time_ns: now_ns,
            device,
            action,
            from,
            to,
            reason: None,
            explanation: Some(explanation),
            evidence: vec![],
            until_ns: None,
            by,
            dry_run: self.cfg.dry_run,
            applied: matches!(outcome, Ok(true)),
            error: outcome.as_ref().err().cloned(),
            cause: None,
            explanation_fr: None,
            name: None,
            resumes_for_s: None,
            exception: None,
        }
    }

    fn device_seen(&mut self, facts: &DeviceFacts, now_ns: u64) -> Result<(), GatewayError> {
        if !self.cfg.apply {
            return Ok(());
        }
        let has_v4 = facts.addrs.iter().any(|a| a.is_ipv4());
        if !self.facts.contains_key(&facts.mac)
            && self.facts.len() >= self.cfg.max_devices
            && !self.evict_idle(now_ns)?
        {
            if self.refused_devices == 0 || self.refused_devices.is_power_of_two() {
                self.warnings.push(format!(
                    "device {} not contained: already {} devices, the configured maximum, none idle ({} refused so far); the catch-all for unmanaged LAN sources holds it",
                    facts.mac,
                    self.cfg.max_devices,
                    self.refused_devices + 1
                ));
            }
            self.refused_devices += 1;
            return Ok(());
        }
        let previous = self.facts.insert(facts.mac, facts.clone());
        self.now_ns = self.now_ns.max(now_ns);
        self.status_dirty = true;
        if let (Some(m), Some(url)) = (&self.manager, &facts.mud_url) {
            if !self.mud_files.contains_key(url) {
                self.mud_files.insert(url.clone(), MudState::default());
                if !m.want(url) {
                    self.unasked.insert(url.clone());
                }
            }
        }
        let seen = self.last_seen.entry(facts.mac).or_insert(now_ns);
        *seen = (*seen).max(now_ns).max(facts.last_seen_ns);
        if !has_v4 && facts.addrs.is_empty() {
            return Ok(()); // nothing to contain yet (DHCP still running)
        }
        let first = !self.levels.contains_key(&facts.mac);
        let level = if self.quarantined.contains_key(&facts.mac) {
            Level::Isolated
        } else {
            self.base_level(facts).0
        };
        let old_level = self.levels.insert(facts.mac, level);
        let changed = previous.map(|p| {
            p.addrs != facts.addrs
                || p.mud_url != facts.mud_url
                || p.mud_url_changed_to != facts.mud_url_changed_to
        });
        if !(first || changed == Some(true) || old_level != Some(level)) {
            return Ok(());
        }
        let dev = self.device(facts, level);
        let pending = Ok(false);
        let (entry, when) = if first {
            self.first_seen.entry(facts.mac).or_insert(now_ns);
            let e = self.entry(
                now_ns,
                facts.mac,
                Action::Contain,
                None,
                level,
                format!(
                    "first seen{}{}",
                    facts
                        .hostname
                        .as_ref()
                        .map(|h| format!(" as {h}"))
                        .unwrap_or_default(),
                    if level == Level::Trusted {
                        "; trusted by the owner"
                    } else {
                        ""
                    }
                ),
                By::Monitor,
                &pending,
            );
            (e, Record::Always)
        } else if old_level != Some(level) {
            // A MUD URL learned later (DHCP after the first frame) changes the level.
            let decision = self.decide(facts);
            let why = match (&facts.mud_url, &facts.mud_url_changed_to) {
                (Some(u), None) => format!("announced MUD URL {u}: {}", decision.reason),
                _ => decision.reason.clone(),
            };
            let mut e = self.entry(
                now_ns,
                facts.mac,
                Action::Level,
                old_level,
                level,
                why,
                By::Monitor,
                &pending,
            );
            e.cause = Some(decision.cause);
            (e, Record::Always)
        } else {
            let e = self.entry(
                now_ns,
                facts.mac,
                Action::Refused,
                old_level,
                level,
                "new addresses not applied".into(),
                By::Gateway,
                &pending,
            );
            (e, Record::OnError)
        };
        self.enforce_and_record(dev, now_ns, entry, when)
    }

    fn event(&mut self, event: &Event, now_ns: u64) -> Result<(), GatewayError> {
        // During a release for a time the owner's choice holds: the quarantine comes back
        // when it ends, not at the next scan.
        if !self.cfg.apply
            || !event.quarantine
            || self.quarantined.contains_key(&event.device)
            || self.paused.contains_key(&event.device)
        {
            return Ok(());
        }
        // The device's containment deferred in this batch goes in before its quarantine.
        self.flush_deferred()?;
        let Some(facts) = self.facts.get(&event.device).cloned() else {
            return Ok(());
        };
        let previous = self
            .levels
            .get(&event.device)
            .copied()
            .unwrap_or(Level::Default);
        let until = now_ns.saturating_add(self.cfg.quarantine_ttl_s.saturating_mul(NS));
        let q = Quarantine {
            until_ns: until,
            previous,
            since_ns: now_ns,
            reason: Some(event.kind),
            explanation: Some(event.explanation.clone()),
            explanation_fr: Some(event.explanation_fr.clone()),
        };
        self.start_quarantine(&facts, q, By::Monitor, event.evidence.clone(), now_ns)
    }

    /// Put a device in quarantine `q` (at `isolated`) and journal it.
    fn start_quarantine(
        &mut self,
        facts: &DeviceFacts,
        q: Quarantine,
        by: By,
        evidence: Vec<EvidencePacket>,
        now_ns: u64,
    ) -> Result<(), GatewayError> {
        let mac = facts.mac;
        self.paused.remove(&mac);
        self.status_dirty = true;
        let mut e = self.entry(
            now_ns,
            mac,
            Action::Quarantine,
            Some(q.previous),
            Level::Isolated,
            q.explanation.clone().unwrap_or_default(),
            by,
            &Ok(false),
        );
        e.explanation_fr = q.explanation_fr.clone();
        e.reason = q.reason;
        e.evidence = evidence;
        e.until_ns = (q.until_ns != u64::MAX).then_some(q.until_ns);
        self.quarantined.insert(mac, q);
        self.levels.insert(mac, Level::Isolated);
        let dev = self.device(facts, Level::Isolated);
        let outcome = self.enforce(dev, now_ns);
        e.applied = matches!(outcome, Ok(true));
        e.error = outcome.err();
        self.record(&e)
    }

    /// End a quarantine: the owner's release, or the TTL. Returns false if it was not quarantined.
    pub fn release(
        &mut self,
        mac: &Mac,
        by_owner: bool,
        now_ns: u64,
    ) -> Result<bool, GatewayError> {
        self.end_quarantine(mac, by_owner, None, now_ns)
    }

    /// End a quarantine; with `pause_s`, the owner's release for that many seconds, after
    /// which the quarantine starts again for what was left of it.
    fn end_quarantine(
        &mut self,
        mac: &Mac,
        by_owner: bool,
        pause_s: Option<u64>,
        now_ns: u64,
    ) -> Result<bool, GatewayError> {
        let Some(q) = self.quarantined.remove(mac) else {
            return Ok(false);
        };
        self.status_dirty = true;
        let level = match self.facts.get(mac) {
            Some(f) => self.base_level(f).0,
            None => q.previous,
        };
        self.levels.insert(*mac, level);
        let outcome = match self.facts.get(mac).cloned() {
            Some(facts) => {
                let dev = self.device(&facts, level);
                self.enforce(dev, now_ns)
            }
            None => Ok(false),
        };
        let mut e = self.entry(
            now_ns,
            *mac,
            if by_owner {
                Action::Release
            } else {
                Action::Expire
            },
            Some(Level::Isolated),
            level,
            match (by_owner, pause_s) {
                (true, Some(s)) => format!("released by the owner for {}", duration_words(s)),
                (true, None) => "released by the owner".into(),
                (false, _) => "quarantine time ran out".into(),
            },
            if by_owner { By::Owner } else { By::Ttl },
            &outcome,
        );
        if let Some(s) = pause_s {
            let resume_ns = now_ns.saturating_add(s.saturating_mul(NS));
            let remaining_ns = q.until_ns.saturating_sub(now_ns);
            e.until_ns = Some(resume_ns);
            e.resumes_for_s = Some(remaining_ns / NS);
            self.paused.insert(
                *mac,
                Paused {
                    resume_ns,
                    remaining_ns,
                    quarantine: q,
                },
            );
        }
        self.record(&e)?;
        Ok(true)
    }

    /// Try again every refused change whose backoff has passed.
    fn retry_refused(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        let due: Vec<Mac> = self
            .retry
            .iter()
            .filter(|(_, (at, _))| *at <= now_ns)
            .map(|(m, _)| *m)
            .collect();
        for mac in due {
            let (Some(facts), Some(level)) = (
                self.facts.get(&mac).cloned(),
                self.levels.get(&mac).copied(),
            ) else {
                self.retry.remove(&mac);
                continue;
            };
            let dev = self.device(&facts, level);
            let outcome = self.enforce(dev, now_ns);
            if outcome.is_ok() {
                let e = self.entry(
                    now_ns,
                    mac,
                    Action::Retry,
                    None,
                    level,
                    "a change nftables had refused is now applied".into(),
                    By::Gateway,
                    &outcome,
                );
                self.record(&e)?;
            }
        }
        Ok(())
    }

    /// Timers: expire quarantines past their TTL and carry out owner release requests
    /// (files named after the MAC in `state_dir/release/`).
    pub fn tick(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        self.now_ns = self.now_ns.max(now_ns);
        self.flush_dns();
        self.manager_updates(now_ns)?;
        self.retry_refused(now_ns)?;
        let expired: Vec<Mac> = self
            .quarantined
            .iter()
            .filter(|(_, q)| q.until_ns <= now_ns)
            .map(|(m, _)| *m)
            .collect();
        for m in expired {
            self.release(&m, false, now_ns)?;
        }
        self.resume_paused(now_ns)?;
        self.owner_requests(now_ns)?;
        self.counters_due(now_ns);
        Ok(())
    }

    /// Take the MUD manager's updates, re-evaluate the devices they concern (and, once a
    /// second, every device against its label's status at `now_ns`: a support end date passes
    /// with or without the registry), apply level changes and journal them with their cause.
    fn manager_updates(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        let updates = match &self.manager {
            Some(m) => {
                let unasked = std::mem::take(&mut self.unasked);
                for url in unasked {
                    if !m.want(&url) {
                        self.unasked.insert(url);
                    }
                }
                m.poll()
            }
            None => return Ok(()),
        };
        // URL → (action, note for the journal) for each URL something was said about.
        let mut touched: BTreeMap<String, Vec<(Action, String)>> = BTreeMap::new();
        for u in updates {
            self.status_dirty = true;
            match u {
                manager::Update::Warning(w) => self.warnings.push(w),
                manager::Update::Mud { url, verdict } => {
                    let st = self.mud_files.entry(url.clone()).or_default();
                    let note = match verdict {
                        manager::MudVerdict::Verified(v) => {
                            let note = format!(
                                "MUD file {url} {} (signed by {}){}",
                                if v.from_cache {
                                    "read from the cache and verified again"
                                } else {
                                    "fetched and verified"
                                },
                                v.signer,
                                if v.warnings.is_empty() {
                                    String::new()
                                } else {
                                    format!("; warnings: {}", v.warnings.join("; "))
                                }
                            );
                            st.explained = Some(explained(&v.policy));
                            st.verified = Some(v);
                            st.refused = None;
                            note
                        }
                        manager::MudVerdict::Refused {
                            kind,
                            reason,
                            kept_until,
                        } => {
                            if kept_until.is_none() {
                                st.verified = None;
                                st.explained = None;
                            }
                            let note = match kept_until {
                                Some(t) => format!(
                                    "refreshing MUD file {url} failed ({}): {reason}; the verified copy stays in use until {}",
                                    kind.as_str(),
                                    ns_to_time(u64::try_from(t).unwrap_or(0) * NS)
                                ),
                                None => format!(
                                    "MUD file {url} refused ({}): {reason}",
                                    kind.as_str()
                                ),
                            };
                            if kept_until.is_none() {
                                st.refused = Some((kind, reason));
                            }
                            note
                        }
                    };
                    touched.entry(url).or_default().push((Action::Mud, note));
                }
                manager::Update::Label { url, verdict } => {
                    let st = self.labels.entry(url.clone()).or_default();
                    let before = label_summary(st, self.now_ns);
                    match verdict {
                        manager::LabelVerdict::Found(info) => {
                            st.info = Some(info);
                            st.problem = None;
                            st.unreachable = None;
                            st.none = false;
                        }
                        manager::LabelVerdict::NoLabel => {
                            st.info = None;
                            st.problem = None;
                            st.unreachable = None;
                            st.none = true;
                        }
                        manager::LabelVerdict::Refused(why) => {
                            st.problem = Some(why);
                        }
                        manager::LabelVerdict::Unreachable(why) => {
                            if st.unreachable.is_none() {
                                st.unreachable =
                                    Some((i64::try_from(self.now_ns / NS).unwrap_or(0), why));
                            }
                        }
                    }
                    let after = label_summary(st, self.now_ns);
                    if after != before {
                        touched.entry(url).or_default().push((Action::Label, after));
                    }
                }
            }
        }
        let every_second = now_ns >= self.evaluated_ns.saturating_add(NS);
        if touched.is_empty() && !every_second {
            return Ok(());
        }
        if every_second {
            self.evaluated_ns = now_ns;
        }
        // Every level change of this tick goes to nftables in one transaction.
        self.deferred = Some(Vec::new());
        let result = self.reevaluate(now_ns, &touched, every_second);
        let flushed = self.flush_deferred();
        self.deferred = None;
        result.and(flushed)
    }

    /// Re-evaluate the devices whose MUD URL is in `touched` (or all, `every_second`).
    fn reevaluate(
        &mut self,
        now_ns: u64,
        touched: &BTreeMap<String, Vec<(Action, String)>>,
        every_second: bool,
    ) -> Result<(), GatewayError> {
        let macs: Vec<Mac> = self.facts.keys().copied().collect();
        for mac in macs {
            let Some(facts) = self.facts.get(&mac).cloned() else {
                continue;
            };
            let note = facts.mud_url.as_ref().and_then(|u| touched.get(u)).cloned();
            if note.is_none() && !every_second {
                continue;
            }
            let from = self.levels.get(&mac).copied();
            let decision = self.decide(&facts);
            let to = if self.quarantined.contains_key(&mac) {
                Level::Isolated
            } else {
                decision.level
            };
            let changed = from.is_some() && from != Some(to);
            let mud_changed = note
                .as_ref()
                .is_some_and(|n| n.iter().any(|(a, _)| *a == Action::Mud));
            if note.is_none() && !changed {
                continue;
            }
            let apply = from.is_some() && (changed || (mud_changed && to == Level::Declared));
            let pending = Ok(false);
            // One entry per device and tick; its action follows what decided the level.
            let notes = note.unwrap_or_default();
            let label_cause = matches!(
                decision.cause.as_str(),
                "label-revoked"
                    | "label-suspended"
                    | "firmware-revoked"
                    | "firmware-suspended"
                    | "support-ended"
                    | "label-expired"
                    | "label-answer-refused"
                    | "label-active"
                    | "no-label"
            );
            let action = if label_cause || !notes.iter().any(|(a, _)| *a == Action::Mud) {
                Action::Label
            } else {
                Action::Mud
            };
            let mut explanation: Vec<String> = notes.into_iter().map(|(_, n)| n).collect();
            explanation.push(decision.reason.clone());
            let explanation = explanation.join("; ");
            let mut e = self.entry(
                now_ns,
                mac,
                action,
                from,
                to,
                explanation,
                By::Manager,
                &pending,
            );
            e.cause = Some(decision.cause);
            if apply {
                self.levels.insert(mac, to);
                let dev = self.device(&facts, to);
                self.enforce_and_record(dev, now_ns, e, Record::Always)?;
            } else {
                self.record(&e)?;
            }
        }
        Ok(())
    }

    /// Every device the gateway holds, with its MUD file, label, level and the reason.
    pub fn status(&self) -> StatusFile {
        let devices = self
            .facts
            .values()
            .map(|f| {
                let d = self.decide(f);
                let level = self.levels.get(&f.mac).copied().unwrap_or(d.level);
                let mud = f.mud_url.as_ref().map(|u| {
                    let local = self.cfg.policies.iter().any(|p| &p.mud_url == u);
                    match self.mud_files.get(u) {
                        _ if local => {
                            let words = self.local_explained.get(u);
                            MudStatus {
                                state: "verified".into(),
                                detail: "from the configured policy directory".into(),
                                expires_at: None,
                                explanation: words.as_ref().map(|w| w.0.clone()),
                                explanation_fr: words.as_ref().map(|w| w.1.clone()),
                            }
                        }
                        Some(MudState {
                            verified: Some(v),
                            explained,
                            ..
                        }) => MudStatus {
                            state: "verified".into(),
                            detail: format!("signed by {}", v.signer),
                            expires_at: Some(v.expires_at),
                            explanation: explained.as_ref().map(|w| w.0.clone()),
                            explanation_fr: explained.as_ref().map(|w| w.1.clone()),
                        },
                        Some(MudState {
                            refused: Some((k, why)),
                            ..
                        }) => MudStatus {
                            state: k.as_str().into(),
                            detail: why.clone(),
                            expires_at: None,
                            explanation: None,
                            explanation_fr: None,
                        },
                        _ => MudStatus {
                            state: "pending".into(),
                            detail: String::new(),
                            expires_at: None,
                            explanation: None,
                            explanation_fr: None,
                        },
                    }
                });
                let label = f
                    .mud_url
                    .as_ref()
                    .and_then(|u| self.labels.get(u))
                    .map(|l| LabelStatus {
                        id: l.info.as_ref().map(|i| i.label_id.clone()),
                        status: label_summary(l, self.now_ns),
                        assessor: l.info.as_ref().map(|i| i.assessor.clone()),
                        consumer_page: l.info.as_ref().map(|i| i.consumer_page.clone()),
                        checked_at: l.info.as_ref().map(|i| i.checked_at),
                        registry_unreachable_since: l.unreachable.as_ref().map(|u| u.0),
                        registry_error: l.unreachable.as_ref().map(|u| u.1.clone()),
                        manufacturer: l.info.as_ref().map(|i| i.claims.manufacturer.name.clone()),
                        product: l.info.as_ref().map(|i| i.claims.product.model.clone()),
                        support_end: l
                            .info
                            .as_ref()
                            .map(|i| i.claims.support.end_date.to_string()),
                        update_mode: l.info.as_ref().map(|i| i.claims.support.update_mode),
                        failing: l
                            .info
                            .as_ref()
                            .map(|i| i.conformance.failing.clone())
                            .unwrap_or_default(),
                        undecided: l
                            .info
                            .as_ref()
                            .map(|i| i.conformance.undecided.clone())
                            .unwrap_or_default(),
                    });
                DeviceStatus {
                    mac: f.mac,
                    hostname: f.hostname.clone(),
                    vendor: f.vendor.clone(),
                    addrs: f.addrs.clone(),
                    mud_url: f.mud_url.clone(),
                    mud,
                    label,
                    level,
                    quarantined_until_ns: self
                        .quarantined
                        .get(&f.mac)
                        .map(|q| q.until_ns)
                        .filter(|u| *u != u64::MAX),
                    quarantine: self.quarantined.get(&f.mac).map(|q| QuarantineStatus {
                        since_ns: q.since_ns,
                        until_ns: (q.until_ns != u64::MAX).then_some(q.until_ns),
                        reason: q.reason,
                        explanation: q.explanation.clone(),
                        explanation_fr: q.explanation_fr.clone(),
                    }),
                    released_until_ns: self.paused.get(&f.mac).map(|p| p.resume_ns),
                    owner_name: self.names.get(&f.mac).cloned(),
                    approved: self.approved.contains(&f.mac),
                    exceptions: self
                        .exceptions
                        .get(&f.mac)
                        .map(|x| x.iter().cloned().collect())
                        .unwrap_or_default(),
                    trusted: self.trusted.contains(&f.mac),
                    first_seen_ns: self.first_seen.get(&f.mac).copied(),
                    traffic: self.traffic(&f.mac).cloned(),
                    mdns_name: mdns_host_name(&f.mdns_names),
                    cause: if self.quarantined.contains_key(&f.mac) {
                        "quarantine".into()
                    } else {
                        d.cause
                    },
                    reason: if self.quarantined.contains_key(&f.mac) {
                        "quarantined for behaving like a bot".into()
                    } else {
                        d.reason
                    },
                }
            })
            .collect();
        StatusFile {
            time_ns: self.now_ns,
            devices,
        }
    }

    /// Write `state_dir/status.json` (atomically) when something changed since the last time.
    pub fn write_status(&mut self) -> Result<(), GatewayError> {
        if !self.status_dirty {
            return Ok(());
        }
        self.status_dirty = false;
        let path = self.cfg.state_dir.join(STATUS_FILE);
        let tmp = self.cfg.state_dir.join(format!("{STATUS_FILE}.tmp"));
        let err = |source| GatewayError::Journal {
            path: path.clone(),
            source,
        };
        let bytes =
            serde_json::to_vec_pretty(&self.status()).map_err(|e| err(std::io::Error::other(e)))?;
        std::fs::write(&tmp, bytes).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    }

    /// The owner vouches for a device (`trusted`) or withdraws it. A quarantined device stays
    /// isolated until released; its level after the release follows the new choice.
    pub fn set_trusted(
        &mut self,
        mac: &Mac,
        trusted: bool,
        now_ns: u64,
    ) -> Result<(), GatewayError> {
        let changed = if trusted {
            self.trusted.insert(*mac)
        } else {
            self.trusted.remove(mac)
        };
        if !changed {
            return Ok(());
        }
        let from = self.levels.get(mac).copied();
        let mut outcome = Ok(false);
        let mut to = if trusted {
            Level::Trusted
        } else {
            Level::Default
        };
        if let Some(facts) = self.facts.get(mac).cloned() {
            to = if self.quarantined.contains_key(mac) {
                Level::Isolated
            } else {
                self.base_level(&facts).0
            };
            if from != Some(to) && self.cfg.apply {
                self.levels.insert(*mac, to);
                let dev = self.device(&facts, to);
                outcome = self.enforce(dev, now_ns);
            }
        }
        let e = self.entry(
            now_ns,
            *mac,
            if trusted {
                Action::Trust
            } else {
                Action::Untrust
            },
            from,
            to,
            if trusted {
                "the owner trusts this device: internet and LAN peers".into()
            } else {
                "the owner no longer trusts this device".into()
            },
            By::Owner,
            &outcome,
        );
        self.record(&e)
    }
}

/// The first of a device's mDNS names that is a host name in `.local` (RFC 6762 §3), without
/// the suffix: what the device calls itself on the LAN.
fn mdns_host_name(names: &BTreeSet<String>) -> Option<String> {
    names.iter().find_map(|n| {
        let n = n.trim_end_matches('.');
        let cut = n.len().checked_sub(".local".len())?;
        let (host, suffix) = (n.get(..cut)?, n.get(cut..)?);
        (suffix.eq_ignore_ascii_case(".local")
            && !host.is_empty()
            && !host.contains('.')
            && !host.chars().any(char::is_control))
        .then(|| host.to_string())
    })
}

/// The file `gateway status` reads, written by the running gateway.
pub const STATUS_FILE: &str = "status.json";

/// `state_dir/status.json`: every device the running gateway holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusFile {
    /// The gateway's time when written, ns since the epoch.
    pub time_ns: u64,
    /// The devices, by MAC.
    pub devices: Vec<DeviceStatus>,
}

/// One device in [`StatusFile`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Its MAC address.
    pub mac: Mac,
    /// Its DHCP host name.
    pub hostname: Option<String>,
    /// Its vendor (IEEE OUI).
    pub vendor: Option<String>,
    /// Its addresses.
    pub addrs: Vec<IpAddr>,
    /// The MUD URL it announced.
    pub mud_url: Option<String>,
    /// What became of its MUD file.
    pub mud: Option<MudStatus>,
    /// Its label, as the registry's last verified answer says.
    pub label: Option<LabelStatus>,
    /// Its level.
    pub level: Level,
    /// When its quarantine ends, if quarantined (`None` also when it has no end: isolated
    /// by the owner).
    pub quarantined_until_ns: Option<u64>,
    /// Its running quarantine.
    #[serde(default)]
    pub quarantine: Option<QuarantineStatus>,
    /// The owner released its quarantine until then; it starts again at that time.
    #[serde(default)]
    pub released_until_ns: Option<u64>,
    /// The owner's name for it.
    #[serde(default)]
    pub owner_name: Option<String>,
    /// The owner acknowledged it as theirs (otherwise it is new).
    #[serde(default)]
    pub approved: bool,
    /// The owner trusts it.
    #[serde(default)]
    pub trusted: bool,
    /// Destinations the owner allows it beside its level (owner exceptions).
    #[serde(default)]
    pub exceptions: Vec<enforce::Exception>,
    /// When the gateway first contained it (ns since the epoch).
    #[serde(default)]
    pub first_seen_ns: Option<u64>,
    /// What its rules counted (when the gateway enforces).
    #[serde(default)]
    pub traffic: Option<TrafficStatus>,
    /// The host name it announces over mDNS (RFC 6762), without `.local`.
    #[serde(default)]
    pub mdns_name: Option<String>,
    /// A code for the reason ([`Decision::cause`], or `quarantine`).
    pub cause: String,
    /// The reason in words.
    pub reason: String,
}

/// A running quarantine in [`DeviceStatus`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QuarantineStatus {
    /// When it began (ns since the epoch).
    pub since_ns: u64,
    /// When it ends by itself (`None`: when the owner releases it).
    pub until_ns: Option<u64>,
    /// The behaviour behind it (`None`: the owner isolated the device).
    pub reason: Option<EventKind>,
    /// Why, in English.
    pub explanation: Option<String>,
    /// Why, in French.
    pub explanation_fr: Option<String>,
}

/// A device's MUD file in [`DeviceStatus`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MudStatus {
    /// `verified`, `pending`, or the refusal kind (`bad-signature`, `unreachable`, …).
    pub state: String,
    /// The signer, or why it was refused.
    pub detail: String,
    /// When the verified copy expires (unix s).
    pub expires_at: Option<i64>,
    /// What the verified file lets the device do, for a household, one sentence per line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The same in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation_fr: Option<String>,
}

/// A device's label in [`DeviceStatus`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelStatus {
    /// The label's id.
    pub id: Option<String>,
    /// Its status in words (`active`, `revoked: …`, `no label`, `answer refused: …`).
    pub status: String,
    /// Its assessor.
    pub assessor: Option<String>,
    /// Its consumer page.
    pub consumer_page: Option<String>,
    /// When the registry's answer was checked (unix s): its age.
    pub checked_at: Option<i64>,
    /// The registry could not be asked since (unix s); the last verified answer is used.
    pub registry_unreachable_since: Option<i64>,
    /// Why.
    pub registry_error: Option<String>,
    /// The manufacturer the label names.
    #[serde(default)]
    pub manufacturer: Option<String>,
    /// The product (model) the label names.
    #[serde(default)]
    pub product: Option<String>,
    /// Last day security updates are promised (YYYY-MM-DD).
    #[serde(default)]
    pub support_end: Option<String>,
    /// How updates reach the device (`automatic`, `user-initiated`, `manual`, `none`).
    #[serde(default)]
    pub update_mode: Option<label::UpdateMode>,
    /// Required provisions the assessment found failing.
    #[serde(default)]
    pub failing: Vec<String>,
    /// Required provisions the assessment could not decide.
    #[serde(default)]
    pub undecided: Vec<String>,
}

/// A label state in words, for the journal and the status.
fn label_summary(l: &LabelState, now_ns: u64) -> String {
    if let Some(p) = &l.problem {
        return format!("answer refused: {p}");
    }
    match &l.info {
        Some(i) => match i.status_at(ns_to_time(now_ns)) {
            label::Status::Active => format!("label {} active", i.label_id),
            label::Status::Revoked { reason } => format!("label {} revoked: {reason}", i.label_id),
            other => format!("label {} {}", i.label_id, status_word(&other)),
        },
        None if l.none => "no label in the registry".into(),
        None => "not asked yet".into(),
    }
}

fn status_word(s: &label::Status) -> &'static str {
    match s {
        label::Status::Active => "active",
        label::Status::SupportEnded => "support ended",
        label::Status::Suspended => "suspended",
        label::Status::Revoked { .. } => "revoked",
        label::Status::Superseded { .. } => "superseded",
        label::Status::NotYetValid => "not yet valid",
        label::Status::Expired => "expired",
    }
}

/// What the MUD manager said about one MUD URL.
#[derive(Clone, Debug, Default)]
struct MudState {
    verified: Option<std::sync::Arc<manager::VerifiedMud>>,
    refused: Option<(manager::RefusalKind, String)>,
    /// What the verified file lets a device do, in English and French (`mud::explain`).
    explained: Option<std::sync::Arc<(String, String)>>,
}

/// A policy's household explanation in both languages.
fn explained(p: &mud::DevicePolicy) -> std::sync::Arc<(String, String)> {
    std::sync::Arc::new((
        mud::explain::explain_in(p, mud::explain::Lang::En),
        mud::explain::explain_in(p, mud::explain::Lang::Fr),
    ))
}

/// What the registry said about one MUD URL's label.
#[derive(Clone, Debug, Default)]
struct LabelState {
    /// The last verified answer.
    info: Option<std::sync::Arc<manager::LabelInfo>>,
    /// The last answer was refused (its proofs failed): nothing from the registry is used.
    problem: Option<String>,
    /// The registry could not be asked since then (unix s), and why.
    unreachable: Option<(i64, String)>,
    /// The registry said it knows no label.
    none: bool,
}

/// A level and the reason for it ([`Gateway::decide`]).
#[derive(Clone, Debug)]
pub struct Decision {
    /// The level.
    pub level: Level,
    /// The MUD policy it is enforced with (`declared`, `update-only`).
    pub policy: Option<mud::DevicePolicy>,
    /// A code for the reason (`trusted`, `mud-url-changed`, `no-mud-url`, `mud-pending`,
    /// `no-mud-file`, a MUD refusal kind such as `bad-signature`, `label-revoked`,
    /// `label-suspended`, `firmware-revoked` and `firmware-suspended` (its firmware under another
    /// label), `support-ended`, `label-expired`, `label-answer-refused`,
    /// `not-supported`, `label-active`, `mud-verified`, `no-label`).
    pub cause: String,
    /// The reason in words.
    pub reason: String,
}

fn ns_to_time(ns: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Removes a file when dropped (after the request it stands for was answered).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub use owner::{OwnerRequest, MAX_EXCEPTIONS, MAX_NAME_CHARS, MAX_RELEASE_S};
pub use traffic::{TrafficStatus, COUNTER_PERIOD_S};

/// A power loss can leave the journal's last line half written (each entry is one `write`,
/// but the kernel may have persisted only part of it). Such a tail — bytes after the last
/// newline that are not a complete entry — is cut off so the gateway can start; returns a
/// warning saying what was dropped. Anything else wrong stays an error for [`read_journal`].
pub fn recover_torn_tail(path: &Path) -> Result<Option<String>, GatewayError> {
    let err = |source| GatewayError::Journal {
        path: path.to_path_buf(),
        source,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(err(source)),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let tail = &bytes[keep..];
    if serde_json::from_slice::<JournalEntry>(tail).is_ok() {
        // Complete entry, only its newline lost: keep it.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(err)?;
        f.write_all(b"\n").map_err(err)?;
        f.sync_data().map_err(err)?;
        return Ok(None);
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(err)?;
    f.set_len(keep as u64).map_err(err)?;
    f.sync_data().map_err(err)?;
    Ok(Some(format!(
        "journal {}: dropped a half-written last line ({} bytes, an interrupted write)",
        path.display(),
        tail.len()
    )))
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
