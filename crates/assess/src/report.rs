//! Findings, evidence and per-provision verdicts: the assessment's JSON shape.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::unpack::{Layer, RawRegion, Unopened};

/// Where a fact was seen: `image-sha256:path:offset` (the offset is a byte offset in the
/// file at `path`; `path` names nested containers with `!`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    /// The evidence reference `image-sha256:path:offset`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The file path (with containers).
    pub path: String,
    /// Byte offset in that file.
    pub offset: u64,
    /// The line that byte is on (from 1), when the file is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// A short excerpt or description; secrets are masked, never copied.
    pub excerpt: String,
}

impl Evidence {
    /// Build evidence for `path` at `offset` in the image with digest `image_sha256`.
    pub fn new(image_sha256: &str, path: &str, offset: u64, excerpt: impl Into<String>) -> Self {
        Evidence {
            reference: format!("{image_sha256}:{path}:{offset}"),
            path: path.to_string(),
            offset,
            line: None,
            excerpt: excerpt.into(),
        }
    }

    /// Where, in words: `/etc/inittab, byte 35 (line 2)`.
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}, byte {} (line {l})", self.path, self.offset),
            None => format!("{}, byte {}", self.path, self.offset),
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Directly exploitable (default credentials, open shells, private keys).
    High,
    /// A weakness that needs another step to exploit.
    Medium,
    /// Worth fixing; not exploitable by itself.
    Low,
}

/// One problem found in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule id (also the SARIF rule id), e.g. `default-password`.
    pub rule: &'static str,
    /// One line saying what is wrong.
    pub message: String,
    /// Severity.
    pub severity: Severity,
    /// Baseline provisions (ETSI EN 303 645 ids) this finding fails.
    pub provisions: Vec<&'static str>,
    /// Where it was seen.
    pub evidence: Vec<Evidence>,
    /// What the vendor should do.
    pub remediation: &'static str,
}

/// A provision that a check examined (so absence of findings means pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    /// Provision id.
    pub provision: &'static str,
    /// What was looked at.
    pub evidence: Vec<Evidence>,
    /// Why the look decides the provision.
    pub basis: String,
}

/// pass, fail, cannot-tell (the label's `not-applicable` is never concluded from an image).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The image meets the provision as far as the checks can see.
    Pass,
    /// A finding shows the image does not meet it.
    Fail,
    /// The image alone does not decide it.
    CannotTell,
}

/// The verdict on one provision with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionVerdict {
    /// Provision id (`5.1-1`).
    pub provision: String,
    /// `M`, `R`, `M C(1)` … from the catalog.
    pub status: String,
    /// Whether the provision is mandatory.
    pub mandatory: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Evidence references (`image-sha256:path:offset`).
    pub evidence: Vec<String>,
    /// What to do (empty on pass).
    pub remediation: String,
    /// SHA-256 over the evidence references, one per line: the label's evidence digest.
    pub evidence_sha256: String,
}

/// The image assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// File name as given (no directories, so output does not depend on where it lies).
    pub name: String,
    /// SHA-256 of the image bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The id of this report's JSON shape: a URN (no document is served at it). Version 2 added
/// `coverage`.
pub const SCHEMA_ID: &str = "urn:trustgate:schema:assessment:2";

/// The complete assessment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema id of this JSON shape.
    pub schema: &'static str,
    /// The tool and its version.
    pub tool: String,
    /// The image.
    pub image: ImageInfo,
    /// The baseline the verdicts refer to.
    pub baseline: BaselineRef,
    /// Date the assessment is judged at (end-of-life comparisons), `YYYY-MM-DD`.
    pub as_of: String,
    /// What was opened and what was not: part of the verdict (while a region that could hold
    /// evidence is unopened, or no root filesystem was opened, no provision passes).
    pub coverage: Coverage,
    /// Containers and streams found.
    pub layers: Vec<Layer>,
    /// Files extracted and bytes.
    pub extracted: Extracted,
    /// Regions the signature scan proposed that did not parse.
    pub notes: Vec<String>,
    /// Software components identified.
    pub components: Vec<Component>,
    /// Known vulnerabilities matched against the feed, with VEX-style status.
    pub vulnerabilities: Vec<VulnMatch>,
    /// Problems found.
    pub findings: Vec<Finding>,
    /// One verdict per provision the checks address.
    pub verdicts: Vec<ProvisionVerdict>,
    /// Digests of credential hashes found (for cross-image universal-default detection);
    /// never the hashes themselves.
    #[serde(skip)]
    pub credential_digests: Vec<(String, String, Evidence)>,
    #[serde(skip)]
    pub(crate) examined: Vec<Examined>,
    /// What checks could not decide (`cannot-tell` unless a finding fails the provision).
    #[serde(skip)]
    pub(crate) undecided: Vec<Examined>,
}

/// What the assessment opened, and what it did not.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Whether a root filesystem (a container holding `/etc` beside `/bin`, `/sbin`, `/lib`
    /// or `/usr`) was opened: without one the checks had no system to look at.
    pub root_filesystem_opened: bool,
    /// The container that root filesystem was read from (`image` for the image itself).
    pub root_filesystem: Option<String>,
    /// Every region opened (containers, filesystems, compressed streams).
    pub opened: Vec<CoveredRegion>,
    /// Every region found and not opened, with the reason.
    pub not_opened: Vec<Unopened>,
    /// Bytes of the image in no known format, read as raw bytes by the signature scan.
    pub raw: Vec<RawRegion>,
    /// One sentence: what was and was not opened.
    pub summary: String,
}

/// One region opened.
#[derive(Debug, Clone, Serialize)]
pub struct CoveredRegion {
    /// The blob it lies in (`""`: the image).
    pub within: String,
    /// Byte offset in that blob.
    pub offset: u64,
    /// Bytes of input it occupied.
    pub size: u64,
    /// The format.
    pub format: String,
}

impl Coverage {
    /// Build the coverage of one unpacking; `root` is the container holding the root
    /// filesystem, if any.
    pub fn new(
        layers: &[Layer],
        not_opened: Vec<Unopened>,
        raw: Vec<RawRegion>,
        root: Option<String>,
    ) -> Coverage {
        let opened: Vec<CoveredRegion> = layers
            .iter()
            .map(|l| CoveredRegion {
                within: l.within.clone(),
                offset: l.offset,
                size: l.input_bytes,
                format: l.format.name().to_string(),
            })
            .collect();
        let mut c = Coverage {
            root_filesystem_opened: root.is_some(),
            root_filesystem: root,
            opened,
            not_opened,
            raw,
            summary: String::new(),
        };
        c.summary = c.describe();
        c
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("{} region(s) opened", self.opened.len())];
        match &self.root_filesystem {
            Some(r) => parts.push(format!("root filesystem read from {r}")),
            None => parts.push("no root filesystem opened".into()),
        }
        if !self.not_opened.is_empty() {
            parts.push(format!(
                "not opened: {}",
                self.not_opened
                    .iter()
                    .map(describe_unopened)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        if !self.raw.is_empty() {
            parts.push(format!(
                "{} byte(s) in no known format read as raw data",
                self.raw.iter().map(|r| r.size).sum::<u64>()
            ));
        }
        parts.join("; ")
    }

    /// Why no provision can pass on this image, if that is so: nothing opened, no root
    /// filesystem opened, or a region that could hold evidence not opened.
    pub fn blocker(&self) -> Option<String> {
        let holding: Vec<String> = self
            .not_opened
            .iter()
            .filter(|u| u.could_hold_evidence)
            .map(describe_unopened)
            .collect();
        let list = |v: &[String]| {
            if v.len() > 3 {
                format!("{} and {} more", v[..3].join("; "), v.len() - 3)
            } else {
                v.join("; ")
            }
        };
        if self.opened.is_empty() {
            let what = self
                .not_opened
                .first()
                .map_or_else(|| "no known format".to_string(), |u| u.format.clone());
            Some(format!(
                "nothing in the image was opened ({what}), so nothing in it could be checked"
            ))
        } else if self.root_filesystem.is_none() {
            Some(format!(
                "no root filesystem was opened (no container read holds /etc beside /bin, /sbin, /lib or /usr){}",
                if holding.is_empty() {
                    String::new()
                } else {
                    format!("; not opened: {}", list(&holding))
                }
            ))
        } else if !holding.is_empty() {
            Some(format!(
                "evidence could lie in regions not opened: {}",
                list(&holding)
            ))
        } else {
            None
        }
    }
}

fn describe_unopened(u: &Unopened) -> String {
    let within = if u.within.is_empty() {
        "the image".to_string()
    } else {
        u.within.clone()
    };
    format!(
        "{} at byte {} of {within} ({} bytes): {}",
        u.format, u.offset, u.size, u.reason
    )
}

/// Catalogue reference.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineRef {
    /// Catalogue id.
    pub id: String,
    /// Version.
    pub version: String,
}

/// Extraction totals.
#[derive(Debug, Clone, Serialize)]
pub struct Extracted {
    /// Entries (files, links, directories).
    pub entries: usize,
    /// Regular files.
    pub files: usize,
    /// Bytes.
    pub bytes: u64,
}

impl Report {
    /// True when any mandatory provision failed (CLI exit code 1).
    pub fn mandatory_failed(&self) -> bool {
        self.verdicts
            .iter()
            .any(|v| v.mandatory && v.verdict == Verdict::Fail)
    }

    /// The verdict for one provision.
    pub fn verdict(&self, provision: &str) -> Option<&ProvisionVerdict> {
        self.verdicts.iter().find(|v| v.provision == provision)
    }

    /// Recompute the verdicts from the findings and what was examined.
    pub(crate) fn decide(&mut self, catalog: &baseline::Catalog) {
        let mut ids: Vec<&str> = self
            .findings
            .iter()
            .flat_map(|f| f.provisions.iter().copied())
            .chain(self.examined.iter().map(|e| e.provision))
            .chain(crate::ADDRESSED.iter().copied())
            .collect();
        ids.sort_by_key(|id| provision_order(id));
        ids.dedup();
        self.findings.sort_by(|a, b| {
            (a.rule, &a.evidence, &a.message).cmp(&(b.rule, &b.evidence, &b.message))
        });
        self.verdicts = ids
            .into_iter()
            .map(|id| {
                let p = catalog.provision(id);
                let (status, mandatory) = p
                    .map(|p| (p.status.to_string(), p.status.is_mandatory()))
                    .unwrap_or_else(|| ("?".into(), false));
                let failing: Vec<&Finding> = self
                    .findings
                    .iter()
                    .filter(|f| f.provisions.contains(&id))
                    .collect();
                let (verdict, reason, evidence, remediation) = if !failing.is_empty() {
                    let mut rem: Vec<&str> = failing.iter().map(|f| f.remediation).collect();
                    rem.dedup();
                    (
                        Verdict::Fail,
                        failing
                            .iter()
                            .map(|f| f.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                        failing
                            .iter()
                            .flat_map(|f| f.evidence.iter().map(|e| e.reference.clone()))
                            .collect::<Vec<_>>(),
                        rem.join(" "),
                    )
                } else {
                    let ex: Vec<&Examined> =
                        self.examined.iter().filter(|e| e.provision == id).collect();
                    let undecided: Vec<&Examined> = self
                        .undecided
                        .iter()
                        .filter(|e| e.provision == id)
                        .collect();
                    if !undecided.is_empty() {
                        (
                            Verdict::CannotTell,
                            undecided
                                .iter()
                                .map(|e| e.basis.as_str())
                                .collect::<Vec<_>>()
                                .join("; "),
                            undecided
                                .iter()
                                .flat_map(|e| e.evidence.iter().map(|e| e.reference.clone()))
                                .collect(),
                            crate::remediation_for_unknown(id).to_string(),
                        )
                    } else if ex.is_empty() {
                        (
                            Verdict::CannotTell,
                            "the image holds no evidence either way".to_string(),
                            Vec::new(),
                            crate::remediation_for_unknown(id).to_string(),
                        )
                    } else {
                        (
                            Verdict::Pass,
                            ex.iter()
                                .map(|e| e.basis.as_str())
                                .collect::<Vec<_>>()
                                .join("; "),
                            ex.iter()
                                .flat_map(|e| e.evidence.iter().map(|e| e.reference.clone()))
                                .collect(),
                            String::new(),
                        )
                    }
                };
                let (verdict, reason, evidence, remediation) =
                    self.within_coverage(verdict, reason, evidence, remediation);
                let mut evidence = evidence;
                evidence.sort();
                evidence.dedup();
                let evidence_sha256 = hex::encode(Sha256::digest(evidence.join("\n")));
                ProvisionVerdict {
                    provision: id.to_string(),
                    status,
                    mandatory,
                    verdict,
                    reason,
                    evidence,
                    remediation,
                    evidence_sha256,
                }
            })
            .collect();
    }
}

impl Report {
    /// A pass stands only when the image was opened where its evidence could lie; otherwise
    /// it is `cannot-tell`, saying what was not opened. A pass on the vendor's claims alone
    /// (§5.2-1) stands unless nothing at all was opened.
    fn within_coverage(
        &self,
        verdict: Verdict,
        reason: String,
        evidence: Vec<String>,
        remediation: String,
    ) -> (Verdict, String, Vec<String>, String) {
        if verdict != Verdict::Pass {
            return (verdict, reason, evidence, remediation);
        }
        let Some(blocker) = self.coverage.blocker() else {
            return (verdict, reason, evidence, remediation);
        };
        let claims_only =
            !evidence.is_empty() && evidence.iter().all(|e| e.starts_with("vendor-claims:"));
        if claims_only && !self.coverage.opened.is_empty() {
            return (verdict, reason, evidence, remediation);
        }
        (
            Verdict::CannotTell,
            format!("{blocker} (in what was opened: {reason})"),
            evidence,
            "Supply the image in a format trustgate opens (the report's coverage lists what was not opened), or the unopened parts extracted.".into(),
        )
    }

    /// When the image's coverage keeps every provision from passing, the sentence saying so
    /// (the CLI prints it and exits non-zero).
    pub fn coverage_problem(&self) -> Option<String> {
        if self.coverage.opened.is_empty() || !self.coverage.root_filesystem_opened {
            self.coverage
                .blocker()
                .map(|b| format!("{b}: no provision passes"))
        } else {
            None
        }
    }
}

/// Sort key for provision ids like `5.1-1`, `5.13-1A`: numeric where numeric.
fn provision_order(id: &str) -> Vec<(u64, String)> {
    id.split(['.', '-'])
        .map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            let rest = part[digits.len()..].to_string();
            (digits.parse().unwrap_or(0), rest)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Components and vulnerability matches (filled by `components`)
// ---------------------------------------------------------------------------------------

/// How the version was learned, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// A package database entry (dpkg/opkg status) and a binary banner agree.
    PackageDbAndBanner,
    /// A package database entry.
    PackageDb,
    /// A version string in a binary.
    Banner,
    /// A kernel module directory name (`/lib/modules/5.10.201/`).
    ModulesDir,
}

/// One identified component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// Canonical name (`busybox`, `dropbear`, `openssl`, `openssh`, `lighttpd`, `dnsmasq`,
    /// `curl`, `glibc`, `musl`, `uclibc`, `linux`).
    pub name: String,
    /// Upstream version (`1.35.0`).
    pub version: String,
    /// Package name and full package version when a package database names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// `dpkg`, `opkg` or `banner`.
    pub source: String,
    /// Evidence strength.
    pub strength: Strength,
    /// Where it was seen.
    pub evidence: Vec<Evidence>,
    /// End-of-life date of this release branch, when it has passed by the assessment date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<String>,
    /// CVE ids the package changelog says were fixed (backports).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backported_fixes: Vec<String>,
}

/// VEX-style status of a matched vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VexStatus {
    /// The version is in an affected range and nothing says it was fixed: affected as far as
    /// the version tells (unverified: the vulnerable code was not looked for in the binary).
    #[serde(rename = "affected-unverified")]
    Affected,
    /// The upstream version is in range but the distribution changelog names the fix.
    FixedByBackport,
}

/// A feed record that matched a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnMatch {
    /// OSV id.
    pub id: String,
    /// Aliases (CVE ids).
    pub aliases: Vec<String>,
    /// Component name.
    pub component: String,
    /// Component version.
    pub version: String,
    /// The record's summary.
    pub summary: String,
    /// Affected or fixed by backport.
    pub status: VexStatus,
    /// The first fixed upstream version, when the record names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    /// Evidence of the fix (changelog line) or of the component.
    pub evidence: Vec<Evidence>,
}
