//! Findings, evidence and per-provision verdicts: the assessment's JSON shape.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::components::{Component, VulnMatch};
use crate::unpack::Layer;

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
            excerpt: excerpt.into(),
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
                let (verdict, reason, mut evidence, remediation) = if !failing.is_empty() {
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
