//! Firmware assessment: unpack an image in memory, run checks, and judge it against the
//! ETSI EN 303 645 provisions of the `baseline` catalog.
//!
//! This crate owns:
//! - bounded, traversal-safe unpacking into an in-memory tree ([`unpack`], [`Limits`]):
//!   squashfs 3 and 4 (LE/BE, every compressor, AVM's variant), ext2/3/4, cramfs, JFFS2,
//!   UBI/UBIFS, YAFFS2, romfs, FAT, tar, cpio, zip, gzip, xz, lzma, zstd, bzip2, uImage,
//!   TRX, bzImage, raw flash dumps; what it recognises and
//!   cannot read is reported as not opened ([`report::Coverage`]);
//! - the checks ([`checks`]): default and empty passwords, and passwords fixed by boot scripts
//!   (`chpasswd`, `passwd` from a pipe) or web CGI (§5.1), exposed services and debug
//!   consoles (§5.6), embedded keys and hard-coded secrets (§5.4), the update mechanism (§5.3),
//!   disclosure contacts (§5.2), and components with OSV vulnerability matching
//!   ([`components`]);
//! - the outputs: the JSON [`Report`] (a verdict per provision with evidence
//!   `image-sha256:path:offset`), SARIF 2.1.0 ([`sarif`]) and a CycloneDX SBOM ([`sbom`]).
//!   Output bytes depend only on the image, the feed and the assessment date.
//!
//! It must not sign anything (labels belong to `label`), touch the network, or write
//! extracted files to disk.
//!
//! ```no_run
//! let image = std::fs::read("firmware.bin").unwrap();
//! let report = assess::assess("firmware.bin", &image, &assess::Options::default()).unwrap();
//! for v in &report.verdicts {
//!     println!("{} {:?}", v.provision, v.verdict);
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checks;
pub mod components;
pub mod context;
pub mod report;
pub mod sarif;
pub mod sbom;
pub mod scan;
pub mod tree;
pub mod unpack;
pub mod work;

pub use components::{Component, Feed, FeedError, VexStatus, VulnMatch};
pub use report::{Evidence, Finding, ProvisionVerdict, Report, Severity, Verdict};
pub use unpack::{Limits, UnpackError};

use sha2::{Digest, Sha256};

/// Provisions every assessment reports on, even with no evidence (then `cannot-tell`).
pub(crate) const ADDRESSED: &[&str] = &[
    "5.1-1", "5.1-2", "5.1-3", "5.2-1", "5.2-3", "5.3-2", "5.3-7", "5.3-8", "5.3-9", "5.3-10",
    "5.4-3", "5.4-4", "5.6-1", "5.6-2", "5.6-4",
];

pub(crate) fn remediation_for_unknown(id: &str) -> &'static str {
    match id {
        "5.2-1" => "Publish a vulnerability disclosure policy and ship its contact as /.well-known/security.txt (RFC 9116), or supply it in the vendor claims.",
        "5.3-2" | "5.3-7" | "5.3-9" | "5.3-10" => "Provide evidence of the update mechanism (or ship the updater in the image) so it can be checked.",
        "5.1-1" | "5.1-2" | "5.1-3" => "Provide the credential design (no password database was found in the image).",
        "5.6-1" | "5.6-2" | "5.6-4" => "Provide the service configuration (no init configuration was found in the image).",
        _ => "Provide evidence for this provision.",
    }
}

/// How to assess.
#[derive(Debug, Clone)]
pub struct Options {
    /// Unpacking limits.
    pub limits: Limits,
    /// The vulnerability feed.
    pub feed: Feed,
    /// The date the assessment is judged at (`YYYY-MM-DD`; end-of-life comparisons).
    pub as_of: String,
    /// Worker threads for decompression, the password check, the scan and the checks (the
    /// report is identical for any count).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            feed: Feed::embedded(),
            as_of: "2025-01-01".into(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Why an image could not be assessed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    /// Unpacking failed (hostile or broken image).
    #[error(transparent)]
    Unpack(#[from] UnpackError),
}

/// Assess one image. `name` is the file name recorded in the report.
pub fn assess(name: &str, image: &[u8], options: &Options) -> Result<Report, AssessError> {
    assess_with_progress(name, image, options, &|_| {})
}

/// [`assess`] telling `progress` about each stage and container.
pub fn assess_with_progress(
    name: &str,
    image: &[u8],
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, AssessError> {
    progress("unpacking");
    let workers = work::Workers::new(options.threads);
    // The default-password check is slow on purpose (sha512crypt, 5000 rounds per candidate)
    // and needs only the account databases, so it starts on them while the rest is still
    // being decompressed; what it has not done by then runs beside the signature scan.
    let password_check = checks::DefaultPasswordCheck::default();
    let (image_sha256, unpacked) = workers.join(
        || hex::encode(Sha256::digest(image)),
        || unpack::unpack_with(image, options.limits, &workers, progress, &password_check),
    );
    let unpacked = unpacked?;
    progress("scanning signatures; checking credentials, services and updates");
    let opened: std::collections::HashSet<String> =
        unpacked.layers.iter().map(|l| l.at.clone()).collect();
    // Each check fills its own outcome; they are joined in one fixed order below, so the
    // report's bytes do not depend on the threads. The checks that read no signature hits
    // run beside the scan; the two that do (secrets, components) run side by side after it.
    let no_scan = scan::Scan::default();
    let without_scan = checks::Ctx {
        tree: &unpacked.tree,
        scan: &no_scan,
        image_sha256: &image_sha256,
    };
    type Check<'c> = &'c (dyn Fn(&checks::Ctx, &mut checks::Outcome) + Sync);
    let run = |check: Check, ctx: &checks::Ctx| {
        let mut out = checks::Outcome::default();
        check(ctx, &mut out);
        out
    };
    let credentials = |ctx: &checks::Ctx, out: &mut checks::Outcome| {
        checks::passwords_with(ctx, &password_check, out);
        checks::hardcoded_credentials(ctx, out);
    };
    let before_scan: Vec<Check> = vec![
        &credentials,
        &checks::services,
        &checks::updates,
        &checks::disclosure,
    ];
    let (scan, found) = workers.join(
        || scan::Scan::run_on(&unpacked.tree, &opened, &workers),
        || workers.map(before_scan, |check| run(check, &without_scan)),
    );
    let [credentials, services, updates, disclosure]: [checks::Outcome; 4] =
        found.try_into().ok().expect("one outcome per check");
    progress("scanning for secrets, identifying components");
    let ctx = checks::Ctx {
        tree: &unpacked.tree,
        scan: &scan,
        image_sha256: &image_sha256,
    };
    let (secrets, (from_components, (components, vulnerabilities))) = workers.join(
        || run(&checks::secrets, &ctx),
        || {
            let mut out = checks::Outcome::default();
            let found = components::components(&ctx, &options.feed, &options.as_of, &mut out);
            (out, found)
        },
    );
    let mut out = credentials;
    for part in [services, secrets, updates, disclosure, from_components] {
        out.append(part);
    }
    let catalog = baseline::Catalog::embedded();
    let file_name = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| name.to_string());
    let mut report = Report {
        schema: report::SCHEMA_ID,
        tool: format!("trustgate-assess {}", env!("CARGO_PKG_VERSION")),
        image: report::ImageInfo {
            name: file_name,
            sha256: image_sha256.clone(),
            bytes: image.len() as u64,
        },
        baseline: report::BaselineRef {
            id: catalog.id.clone(),
            version: catalog.version.clone(),
        },
        as_of: options.as_of.clone(),
        coverage: report::Coverage::new(
            &unpacked.layers,
            unpacked.unopened,
            unpacked.raw,
            root_filesystem(&unpacked.tree),
        ),
        layers: unpacked.layers,
        extracted: report::Extracted {
            entries: unpacked.tree.len(),
            files: unpacked.tree.files().count(),
            bytes: unpacked.total_bytes,
        },
        notes: unpacked.notes,
        components,
        vulnerabilities,
        findings: out.findings,
        verdicts: Vec::new(),
        credential_digests: out.credential_digests,
        examined: out.examined,
        undecided: out.undecided,
    };
    report.decide(&catalog);
    Ok(report)
}

/// The container holding a root filesystem: `/etc` beside `/bin`, `/sbin`, `/lib` or `/usr`
/// (`image` when it is the image's own filesystem).
fn root_filesystem(tree: &tree::Tree) -> Option<String> {
    let mut etc = std::collections::BTreeSet::new();
    let mut system = std::collections::BTreeSet::new();
    for e in &tree.entries {
        let top = e.path.split('/').nth(1).unwrap_or("");
        if top == "etc" {
            etc.insert(e.container.as_str());
        } else if matches!(top, "bin" | "sbin" | "lib" | "usr") {
            system.insert(e.container.as_str());
        }
    }
    etc.intersection(&system).next().map(|c| {
        if c.is_empty() {
            "image".to_string()
        } else {
            c.to_string()
        }
    })
}

/// Compare several images of one model: a password hash present in more than one of them is
/// a universal default (§5.1-1). Adds the findings to each report and recomputes verdicts.
pub fn cross_check_model(reports: &mut [Report]) {
    let creds: Vec<_> = reports
        .iter()
        .map(|r| r.credential_digests.clone())
        .collect();
    let catalog = baseline::Catalog::embedded();
    for (r, extra) in reports.iter_mut().zip(checks::universal_defaults(&creds)) {
        if !extra.is_empty() {
            r.findings.extend(extra);
            r.decide(&catalog);
        }
    }
}

impl Report {
    /// Record the vendor's published disclosure policy (ETSI EN 303 645 §5.2-1 is about the
    /// manufacturer, so a claim outside the image counts): `contact` is the policy's contact
    /// or URL, `source` where the claim comes from (e.g. the claims file). Verdicts are
    /// recomputed.
    pub fn add_vendor_disclosure(&mut self, contact: &str, source: &str) {
        self.examined.push(report::Examined {
            provision: "5.2-1",
            evidence: vec![Evidence {
                reference: format!("vendor-claims:{source}"),
                path: source.to_string(),
                offset: 0,
                line: None,
                excerpt: contact.chars().take(120).collect(),
            }],
            basis: format!("the vendor's claims publish a disclosure contact ({contact})"),
        });
        self.decide(&baseline::Catalog::embedded());
    }

    /// The report as pretty JSON (deterministic: fixed field order, sorted lists).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises") + "\n"
    }
}
