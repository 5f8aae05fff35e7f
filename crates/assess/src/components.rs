//! Software components (from opkg/dpkg package databases and binary banners), matched
//! against an offline vulnerability feed in OSV format, with VEX-style "fixed by backport"
//! when the package's Debian changelog names the CVE, and end-of-life branches flagged.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::report::{Evidence, Examined, Finding, Severity};

pub use crate::report::{Component, Strength, VexStatus, VulnMatch};

// ---------------------------------------------------------------------------------------
// OSV feed
// ---------------------------------------------------------------------------------------

/// One OSV record (the fields matching needs; see <https://ossf.github.io/osv-schema/>).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvRecord {
    /// Record id.
    pub id: String,
    /// Last modified, RFC 3339.
    pub modified: String,
    /// Other ids (CVE).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One line.
    #[serde(default)]
    pub summary: String,
    /// Affected packages.
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
}

/// `affected[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvAffected {
    /// Package.
    pub package: OsvPackage,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed versions.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// `affected[].package`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvPackage {
    /// Ecosystem.
    pub ecosystem: String,
    /// Name (for the GIT ecosystem: the repository URL).
    pub name: String,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvRange {
    /// SEMVER, ECOSYSTEM or GIT.
    #[serde(rename = "type")]
    pub kind: String,
    /// Events in order.
    pub events: Vec<BTreeMap<String, String>>,
}

/// An offline vulnerability feed.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// All records, sorted by id.
    pub records: Vec<OsvRecord>,
    /// A hand-picked sample (the embedded feed), not a database: matches it finds are real,
    /// but its silence says nothing, so the vulnerability provisions cannot pass on it.
    pub curated_sample: bool,
}

/// Days a feed's newest record may lie before the assessment date: OSV databases change
/// daily; a feed a month old misses a month of disclosures.
pub const MAX_FEED_AGE_DAYS: i64 = 30;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (the start of an RFC 3339 time), by the
/// civil-calendar formula (H. Hinnant, "chrono-compatible low-level date algorithms").
fn days(date: &str) -> Option<i64> {
    let mut it = date.get(..10)?.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

impl Feed {
    /// Why this feed cannot speak for `components` at `as_of` (empty when it can): a curated
    /// sample, a stale feed, or components no record names.
    pub fn coverage_gaps(&self, components: &[Component], as_of: &str) -> Vec<String> {
        let mut gaps = Vec::new();
        if self.curated_sample {
            gaps.push(format!(
                "the vulnerability feed is the embedded curated sample ({} records), not a complete database (give --feed a current OSV export)",
                self.records.len()
            ));
        }
        let newest = self.records.iter().map(|r| r.modified.as_str()).max();
        match (newest.and_then(days), days(as_of)) {
            (Some(n), Some(a)) if a - n > MAX_FEED_AGE_DAYS => gaps.push(format!(
                "the feed's newest record was modified on {}, {} days before the assessment date (more than {MAX_FEED_AGE_DAYS})",
                &newest.unwrap_or("")[..10.min(newest.unwrap_or("").len())],
                a - n
            )),
            (None, _) => gaps.push("the feed holds no dated record".into()),
            _ => {}
        }
        let mut uncovered: Vec<&str> = components
            .iter()
            .map(|c| c.name.as_str())
            .filter(|name| {
                !self.records.iter().any(|r| {
                    r.affected
                        .iter()
                        .any(|a| component_of_package(&a.package) == Some(name))
                })
            })
            .collect();
        uncovered.dedup();
        if !uncovered.is_empty() {
            gaps.push(format!(
                "the feed has no record for {}",
                uncovered.join(", ")
            ));
        }
        gaps
    }
}

/// Why a feed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Unreadable file or directory.
    #[error("{path}: {error}")]
    Io {
        /// Path.
        path: String,
        /// Cause (printed here, so not a `source()`: each cause once).
        error: std::io::Error,
    },
    /// Not an OSV record.
    #[error("{path}: not an OSV record: {error}")]
    Parse {
        /// Path.
        path: String,
        /// Cause (with line and column; printed here, not a `source()`).
        error: serde_json::Error,
    },
}

/// The curated feed shipped with trustgate (real records for the components the corpus
/// contains; see `feed/README.md`).
pub const EMBEDDED_FEED: &[(&str, &str)] = &[
    (
        "CVE-2022-48174.json",
        include_str!("../feed/CVE-2022-48174.json"),
    ),
    (
        "CVE-2023-42363.json",
        include_str!("../feed/CVE-2023-42363.json"),
    ),
    (
        "CVE-2023-42364.json",
        include_str!("../feed/CVE-2023-42364.json"),
    ),
    (
        "CVE-2023-42365.json",
        include_str!("../feed/CVE-2023-42365.json"),
    ),
    (
        "CVE-2023-48795.json",
        include_str!("../feed/CVE-2023-48795.json"),
    ),
    (
        "CVE-2025-47203.json",
        include_str!("../feed/CVE-2025-47203.json"),
    ),
    (
        "CVE-2023-0286.json",
        include_str!("../feed/CVE-2023-0286.json"),
    ),
    (
        "CVE-2021-42374.json",
        include_str!("../feed/CVE-2021-42374.json"),
    ),
];

impl Feed {
    /// The embedded curated feed.
    pub fn embedded() -> Feed {
        let mut records: Vec<OsvRecord> = EMBEDDED_FEED
            .iter()
            .map(|(name, text)| {
                serde_json::from_str(text).unwrap_or_else(|e| panic!("embedded feed {name}: {e}"))
            })
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        Feed {
            records,
            curated_sample: true,
        }
    }

    /// Every `*.json` file in `dir` (one OSV record each), sorted by id.
    pub fn load_dir(dir: &Path) -> Result<Feed, FeedError> {
        let io = |error| FeedError::Io {
            path: dir.display().to_string(),
            error,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        let mut records = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|error| FeedError::Io {
                path: p.display().to_string(),
                error,
            })?;
            records.push(
                serde_json::from_str(&text).map_err(|error| FeedError::Parse {
                    path: p.display().to_string(),
                    error,
                })?,
            );
        }
        records.sort_by(|a: &OsvRecord, b| a.id.cmp(&b.id));
        Ok(Feed {
            records,
            curated_sample: false,
        })
    }
}

/// Which component an OSV package names: the GIT ecosystem names upstream repositories.
fn component_of_package(p: &OsvPackage) -> Option<&'static str> {
    let n = p.name.to_ascii_lowercase();
    let table: &[(&str, &'static str)] = &[
        ("busybox", "busybox"),
        ("dropbear", "dropbear"),
        ("openssl/openssl", "openssl"),
        ("openssh", "openssh"),
        ("lighttpd", "lighttpd"),
        ("dnsmasq", "dnsmasq"),
        ("curl/curl", "curl"),
        ("glibc", "glibc"),
        ("torvalds/linux", "linux"),
    ];
    table.iter().find(|(k, _)| n.contains(k)).map(|(_, c)| *c)
}

/// Compare upstream version strings: runs of digits numerically, other runs as text
/// (`1.35.0` < `1.36.0`, `2022.83` < `2024.84`, `9.2p1` < `9.3p1`, `1.1.1w` > `1.1.1k`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for ch in s.chars() {
            if ch == '.' || ch == '-' || ch == '_' || ch == '+' || ch == '~' {
                out.push((false, String::new()));
                continue;
            }
            let digit = ch.is_ascii_digit();
            match out.last_mut() {
                Some((d, run)) if *d == digit && !run.is_empty() => run.push(ch),
                Some((d, run)) if run.is_empty() => {
                    *d = digit;
                    run.push(ch)
                }
                _ => out.push((digit, ch.to_string())),
            }
        }
        out.retain(|(_, r)| !r.is_empty());
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let o = match (pa.get(i), pb.get(i)) {
            (Some((true, x)), Some((true, y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Some((_, x)), Some((_, y))) => x.cmp(y),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Is `version` inside one of the record's ranges for this affected entry? Returns
/// `Some(first fixed version)` (inner `None` when none is named) when affected.
fn affected_by(a: &OsvAffected, version: &str) -> Option<Option<String>> {
    if a.versions.iter().any(|v| v == version) {
        return Some(None);
    }
    for r in a.ranges.iter().filter(|r| r.kind != "GIT") {
        // OSV range evaluation: walk events in order; introduced opens, fixed /
        // last_affected close (osv-schema "Evaluation").
        let mut inside = false;
        let mut fixed = None;
        for ev in &r.events {
            if let Some(v) = ev.get("introduced") {
                if v == "0" || compare_versions(version, v) != Ordering::Less {
                    inside = true;
                }
            }
            if let Some(v) = ev.get("fixed") {
                if compare_versions(version, v) != Ordering::Less {
                    inside = false;
                } else if inside {
                    fixed = Some(v.clone());
                    break;
                }
            }
            if let Some(v) = ev.get("last_affected") {
                if compare_versions(version, v) == Ordering::Greater {
                    inside = false;
                } else if inside {
                    break;
                }
            }
        }
        if inside {
            return Some(fixed);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Identification
// ---------------------------------------------------------------------------------------

/// Package name → canonical component name (Debian and OpenWrt spellings).
fn component_of_pkg(pkg: &str) -> Option<&'static str> {
    Some(match pkg {
        "busybox" | "busybox-static" | "busybox-syslogd" => "busybox",
        "dropbear" | "dropbear-bin" | "dropbear-run" => "dropbear",
        "openssl" | "libssl3" | "libssl1.1" | "libssl1.0.0" | "libopenssl" | "libopenssl3"
        | "libopenssl1.1" | "openssl-util" => "openssl",
        "openssh-server" | "openssh-client" | "openssh-sftp-server" => "openssh",
        "lighttpd" => "lighttpd",
        "dnsmasq" | "dnsmasq-base" | "dnsmasq-full" => "dnsmasq",
        "curl" | "libcurl4" | "libcurl" => "curl",
        "libc6" => "glibc",
        "musl" | "libc" => "musl",
        "uclibc" => "uclibc",
        p if p.starts_with("linux-image-") || p == "kernel" => "linux",
        _ => return None,
    })
}

/// Debian/opkg version → upstream version: drop the epoch (`1:`) and the packaging revision
/// (`-4+deb12u1`, `-r1`).
pub fn upstream_version(v: &str) -> String {
    let v = v.split_once(':').map(|(_, r)| r).unwrap_or(v);
    let v = match v.rfind('-') {
        Some(i) => &v[..i],
        None => v,
    };
    v.split(['~', '+']).next().unwrap_or(v).to_string()
}

struct Banner {
    component: &'static str,
    regex: Regex,
}

fn banners() -> &'static [Banner] {
    static B: OnceLock<Vec<Banner>> = OnceLock::new();
    B.get_or_init(|| {
        // In the order of `scan::BANNER_PREFIXES`; each regex starts with its prefix.
        let list: Vec<(&'static str, &str)> = vec![
            ("busybox", r"^BusyBox v(\d+\.\d+(?:\.\d+)?)"),
            ("dropbear", r"^SSH-2\.0-dropbear_(\d{4}\.\d+)"),
            (
                "openssl",
                r"^OpenSSL (\d+\.\d+\.\d+[a-z]?) +\d{1,2} [A-Z][a-z]{2} \d{4}",
            ),
            ("openssh", r"^OpenSSH_(\d+\.\d+(?:p\d+)?)"),
            ("lighttpd", r"^lighttpd/(\d+\.\d+\.\d+)"),
            ("dnsmasq", r"^dnsmasq-(\d+\.\d+)"),
            ("curl", r"^libcurl/(\d+\.\d+\.\d+)"),
            ("glibc", r"^GNU C Library [^\n]*?release version (\d+\.\d+)"),
            ("linux", r"^Linux version (\d+\.\d+(?:\.\d+)?)\S* \("),
        ];
        assert_eq!(list.len(), crate::scan::BANNER_PREFIXES.len());
        list.into_iter()
            .map(|(component, r)| Banner {
                component,
                regex: Regex::new(r).expect("static regex"),
            })
            .collect()
    })
}

/// End-of-life dates of release branches (vendor announcements): (component, branch
/// prefix, last day of support).
const END_OF_LIFE: &[(&str, &str, &str)] = &[
    ("openssl", "1.0.", "2019-12-31"),
    ("openssl", "1.1.0", "2019-09-11"),
    ("openssl", "1.1.1", "2023-09-11"),
    ("openssl", "3.1.", "2025-03-14"),
    ("openssl", "3.0.", "2026-09-07"),
    ("linux", "4.14.", "2024-01-10"),
    ("linux", "4.19.", "2024-12-05"),
    ("linux", "5.4.", "2025-12-03"),
    ("linux", "3.", "2018-05-26"),
    ("linux", "2.6.", "2016-02-01"),
];

fn end_of_life(name: &str, version: &str, as_of: &str) -> Option<String> {
    END_OF_LIFE
        .iter()
        .find(|(c, prefix, _)| *c == name && version.starts_with(prefix))
        .filter(|(_, _, date)| *date < as_of)
        .map(|(_, _, date)| date.to_string())
}

fn package_db(ctx: &Ctx, path: &str, source: &str, found: &mut Vec<Component>) {
    for e in ctx.tree.get(path) {
        let Some(data) = e.data() else { continue };
        let text = String::from_utf8_lossy(data);
        let mut offset = 0usize;
        for para in text.split("\n\n") {
            let start = offset;
            offset += para.len() + 2;
            let field = |name: &str| {
                para.lines()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            };
            let (Some(pkg), Some(version)) = (field("Package:"), field("Version:")) else {
                continue;
            };
            if let Some(status) = field("Status:") {
                if !status.ends_with(" installed") {
                    continue;
                }
            }
            let Some(name) = component_of_pkg(&pkg) else {
                continue;
            };
            let up = upstream_version(&version);
            found.push(Component {
                name: name.into(),
                version: up,
                package: Some(format!("{pkg} {version}")),
                source: source.into(),
                strength: Strength::PackageDb,
                evidence: vec![ctx.ev(e, start, format!("Package: {pkg} Version: {version}"))],
                end_of_life: None,
                backported_fixes: vec![],
            });
        }
    }
}

fn banner_scan(ctx: &Ctx, found: &mut Vec<Component>) {
    let rules = banners();
    for e in ctx.tree.files() {
        let data = e.data().expect("file");
        let mut seen = BTreeSet::new();
        for &(sig, start) in ctx.scan.hits(e) {
            let crate::scan::Sig::Banner(i) = sig else {
                continue;
            };
            let rule = &rules[i];
            let window = &data[start..data.len().min(start + 200)];
            let text = String::from_utf8_lossy(window);
            if let Some(c) = rule.regex.captures(&text) {
                let version = c[1].to_string();
                if seen.insert((rule.component, version.clone())) {
                    let excerpt: String = c[0].chars().take(100).collect();
                    found.push(Component {
                        name: rule.component.into(),
                        version,
                        package: None,
                        source: "banner".into(),
                        strength: Strength::Banner,
                        evidence: vec![ctx.ev(e, start, excerpt)],
                        end_of_life: None,
                        backported_fixes: vec![],
                    });
                }
            }
        }
    }
}

/// CVE ids named in Debian changelogs, by binary package name (the doc directory).
fn changelog_fixes(ctx: &Ctx) -> BTreeMap<String, Vec<(String, Evidence)>> {
    static CVE: OnceLock<Regex> = OnceLock::new();
    let cve = CVE.get_or_init(|| Regex::new(r"CVE-\d{4}-\d{4,}").expect("static"));
    let mut out: BTreeMap<String, Vec<(String, Evidence)>> = BTreeMap::new();
    for e in ctx.tree.files() {
        // The unpacker stores a decompressed changelog as `<doc>/changelog.Debian.gz!/gunzip`.
        // The changelog may sit inside an outer container (`/unxz!/usr/share/doc/…`).
        let Some(pkg) = e
            .container
            .strip_suffix("/changelog.Debian.gz")
            .and_then(|r| r.rsplit_once("/usr/share/doc/").map(|(_, p)| p))
            .filter(|p| !p.contains('/'))
        else {
            continue;
        };
        let data = e.data().expect("file");
        let text = String::from_utf8_lossy(data);
        for m in cve.find_iter(&text) {
            let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[m.end()..]
                .find('\n')
                .map_or(text.len(), |i| m.end() + i);
            let excerpt: String = text[line_start..line_end]
                .trim()
                .chars()
                .take(120)
                .collect();
            out.entry(pkg.to_string())
                .or_default()
                .push((m.as_str().to_string(), ctx.ev(e, m.start(), excerpt)));
        }
    }
    out
}

/// The kernel release named by `/lib/modules/<release>/`: modules must match the running
/// kernel, so the directory names the kernel the image boots.
fn modules_dirs(ctx: &Ctx, found: &mut Vec<Component>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^/lib/modules/(\d+\.\d+(?:\.\d+)?)[^/]*$").expect("static regex")
    });
    for e in &ctx.tree.entries {
        if !matches!(e.kind, crate::tree::EntryKind::Dir) {
            continue;
        }
        if let Some(c) = re.captures(&e.path) {
            found.push(Component {
                name: "linux".into(),
                version: c[1].to_string(),
                package: None,
                source: "modules-dir".into(),
                strength: Strength::ModulesDir,
                evidence: vec![ctx.ev(e, 0, format!("kernel modules for {}", &e.path[13..]))],
                end_of_life: None,
                backported_fixes: vec![],
            });
        }
    }
}

fn merge(found: Vec<Component>) -> Vec<Component> {
    let mut by_key: BTreeMap<(String, String), Component> = BTreeMap::new();
    for c in found {
        match by_key.get_mut(&(c.name.clone(), c.version.clone())) {
            Some(have) => {
                let db = |s: &str| s == "dpkg" || s == "opkg";
                let pair = (db(&have.source) && c.source == "banner")
                    || (have.source == "banner" && db(&c.source));
                if pair {
                    have.strength = Strength::PackageDbAndBanner;
                    if have.source == "banner" {
                        have.source = c.source.clone();
                        have.package = c.package.clone();
                    }
                } else if c.strength < have.strength {
                    have.strength = c.strength;
                    have.source = c.source.clone();
                }
                if have.package.is_none() {
                    have.package = c.package.clone();
                }
                have.evidence.extend(c.evidence);
                have.evidence.sort();
                have.evidence.dedup();
            }
            None => {
                by_key.insert((c.name.clone(), c.version.clone()), c);
            }
        }
    }
    by_key.into_values().collect()
}

/// Identify components, flag end-of-life branches, and match the feed.
pub fn components(
    ctx: &Ctx,
    feed: &Feed,
    as_of: &str,
    out: &mut crate::context::Outcome,
) -> (Vec<Component>, Vec<VulnMatch>) {
    let mut found = Vec::new();
    package_db(ctx, "/var/lib/dpkg/status", "dpkg", &mut found);
    package_db(ctx, "/usr/lib/opkg/status", "opkg", &mut found);
    package_db(ctx, "/var/lib/opkg/status", "opkg", &mut found);
    banner_scan(ctx, &mut found);
    modules_dirs(ctx, &mut found);
    let mut components = merge(found);
    let fixes = changelog_fixes(ctx);
    for c in &mut components {
        c.end_of_life = end_of_life(&c.name, &c.version, as_of);
        if let Some(pkg) = c.package.as_deref().and_then(|p| p.split(' ').next()) {
            // The changelog of any binary package built from the same source counts; look
            // at every package of this component that the database names.
            let mut ids: Vec<String> = fixes
                .iter()
                .filter(|(p, _)| component_of_pkg(p) == component_of_pkg(pkg))
                .flat_map(|(_, v)| v.iter().map(|(id, _)| id.clone()))
                .collect();
            ids.sort();
            ids.dedup();
            c.backported_fixes = ids;
        }
    }
    let mut vulns = Vec::new();
    for c in &components {
        for r in &feed.records {
            for a in &r.affected {
                if component_of_package(&a.package) != Some(c.name.as_str()) {
                    continue;
                }
                let Some(fixed_in) = affected_by(a, &c.version) else {
                    continue;
                };
                let ids: Vec<&String> = std::iter::once(&r.id).chain(r.aliases.iter()).collect();
                let backport = fixes
                    .iter()
                    .filter(|(p, _)| component_of_pkg(p) == Some(c.name.as_str()))
                    .flat_map(|(_, v)| v.iter())
                    .find(|(id, _)| ids.contains(&id))
                    .filter(|_| c.package.is_some());
                let (status, evidence) = match backport {
                    Some((_, ev)) => (VexStatus::FixedByBackport, vec![ev.clone()]),
                    None => (VexStatus::Affected, c.evidence.clone()),
                };
                vulns.push(VulnMatch {
                    id: r.id.clone(),
                    aliases: r.aliases.clone(),
                    component: c.name.clone(),
                    version: c.version.clone(),
                    summary: r.summary.clone(),
                    status,
                    fixed_in,
                    evidence,
                });
                break;
            }
        }
    }
    vulns.sort_by(|a, b| (&a.component, &a.id).cmp(&(&b.component, &b.id)));
    vulns.dedup_by(|a, b| a.id == b.id && a.component == b.component && a.version == b.version);
    for v in vulns.iter().filter(|v| v.status == VexStatus::Affected) {
        out.findings.push(Finding {
            rule: "known-vulnerability",
            message: format!(
                "{} {} is in the affected range of {} ({}; matched by version, unverified){}",
                v.component,
                v.version,
                v.id,
                v.summary,
                v.fixed_in.as_deref().map(|f| format!("; fixed in {f}")).unwrap_or_default()
            ),
            severity: Severity::High,
            provisions: vec!["5.3-8", "5.2-3"],
            evidence: v.evidence.clone(),
            remediation: "Update the component to a fixed release (or backport the fix and record it in the package changelog) and ship the update.",
        });
    }
    for c in components.iter().filter(|c| c.end_of_life.is_some()) {
        out.findings.push(Finding {
            rule: "end-of-life-component",
            message: format!(
                "{} {} belongs to a release branch whose support ended on {}",
                c.name,
                c.version,
                c.end_of_life.as_deref().unwrap_or("")
            ),
            severity: Severity::Medium,
            provisions: vec!["5.2-3", "5.3-1"],
            evidence: c.evidence.clone(),
            remediation: "Move to a supported release branch.",
        });
    }
    if !components.is_empty() {
        let ev: Vec<Evidence> = components
            .iter()
            .flat_map(|c| c.evidence.iter().take(1).cloned())
            .collect();
        let n = components.len();
        let records = feed.records.len();
        let gaps = feed.coverage_gaps(&components, as_of);
        let bases = [
            ("5.3-8", format!(
                "no identified component ({n}) has an unfixed vulnerability in the feed ({records} records)"
            )),
            ("5.2-3", format!(
                "no identified component ({n}) has an unfixed vulnerability in the feed ({records} records) or is on an end-of-life branch"
            )),
        ];
        for (p, basis) in bases {
            let looked = Examined {
                provision: p,
                evidence: ev.clone(),
                basis,
            };
            if gaps.is_empty() {
                out.examined.push(looked);
            } else {
                // The feed's silence is no evidence: cannot-tell, unless a match fails it.
                out.undecided.push(Examined {
                    basis: format!(
                        "the feed cannot cover the components found: {}",
                        gaps.join("; ")
                    ),
                    ..looked
                });
            }
        }
    }
    (components, vulns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_runs() {
        assert_eq!(compare_versions("1.35.0", "1.36.0"), Ordering::Less);
        assert_eq!(compare_versions("2022.83", "2024.84"), Ordering::Less);
        assert_eq!(compare_versions("1.1.1w", "1.1.1k"), Ordering::Greater);
        assert_eq!(compare_versions("9.2p1", "9.10p1"), Ordering::Less);
        assert_eq!(compare_versions("3.0.22", "3.0.8"), Ordering::Greater);
        assert_eq!(compare_versions("1.36", "1.36.0"), Ordering::Less);
    }

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream_version("1:1.35.0-4+deb12u1+b1"), "1.35.0");
        assert_eq!(upstream_version("2022.83-1+deb12u3"), "2022.83");
        assert_eq!(upstream_version("3.0.22-1~deb12u2"), "3.0.22");
        assert_eq!(upstream_version("2020.81-r1"), "2020.81");
        assert_eq!(upstream_version("1.36.1"), "1.36.1");
    }

    #[test]
    fn ranges_follow_osv_evaluation() {
        let a: OsvAffected = serde_json::from_str(
            r#"{"package":{"ecosystem":"GIT","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.2.0"},{"fixed":"1.4.0"}]}]}"#,
        )
        .unwrap();
        assert_eq!(affected_by(&a, "1.3.9"), Some(Some("1.4.0".into())));
        assert_eq!(affected_by(&a, "1.4.0"), None);
        assert_eq!(affected_by(&a, "1.1.9"), None);
        let b: OsvAffected = serde_json::from_str(
            r#"{"package":{"ecosystem":"GIT","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.0"}]}]}"#,
        )
        .unwrap();
        assert_eq!(affected_by(&b, "2.0"), Some(None));
        assert_eq!(affected_by(&b, "2.1"), None);
    }
}
