//! `trustgate assess`: argument handling and output over the `assess` crate.

use crate::{read_bounded, Finding};
use anyhow::{Context, Result};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Largest image read into memory: flash parts and their dumps are far smaller (the largest
/// NAND images seen are 512 MiB), and the read stops here even when the file's size is not
/// known in advance (a device such as /dev/zero, a pipe).
const MAX_IMAGE_BYTES: u64 = 1 << 30;

/// Most worker threads `--threads` accepts: more than any machine's cores, fewer than the
/// threads a process can start.
const MAX_THREADS: i64 = 1024;

/// Reads at most [`MAX_IMAGE_BYTES`] of `path`; more is an error naming the file and the cap.
fn read_image(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        anyhow::bail!(
            "{}: more than {MAX_IMAGE_BYTES} bytes, the limit for firmware images (is it a device or a stream rather than an image file?)",
            path.display()
        );
    }
    Ok(bytes)
}

#[derive(Args)]
pub struct AssessArgs {
    /// The firmware image: squashfs (3 and 4, any compressor), tar, cpio or zip (optionally
    /// gzip/xz/lzma/zstd/bzip2), uImage, TRX, bzImage, or a raw flash dump. Formats it
    /// recognises and cannot read are listed in the report as not opened; while one that
    /// could hold files is unopened, no provision passes.
    image: PathBuf,
    /// Print the full report as JSON (verdict per provision, findings, components,
    /// vulnerabilities).
    #[arg(long)]
    json: bool,
    /// Also write the findings as SARIF 2.1.0 to this file.
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Also write a CycloneDX 1.6 SBOM (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    sbom: Option<PathBuf>,
    /// OSV vulnerability feed: a directory of OSV JSON records (default: the curated
    /// embedded feed).
    #[arg(long, value_name = "DIR")]
    feed: Option<PathBuf>,
    /// Other images of the same model: a password hash shared with any of them is reported
    /// as a universal default (repeat for several).
    #[arg(long = "same-model", value_name = "IMAGE")]
    same_model: Vec<PathBuf>,
    /// Threads for the whole assessment: decompression, the password check, the scan and the
    /// checks (default: all cores); the report is byte-identical for any count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=MAX_THREADS))]
    threads: Option<i64>,
    /// The vendor's label claims (JSON, as for `label issue`): a vulnerability-disclosure
    /// contact or policy URL there settles ETSI EN 303 645 provision 5.2-1 when the image has no security.txt.
    #[arg(long, value_name = "CLAIMS.json")]
    claims: Option<PathBuf>,
    /// Judge end-of-life dates at this day (YYYY-MM-DD) instead of today.
    #[arg(long = "as-of", value_name = "DATE")]
    as_of: Option<String>,
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: AssessArgs) -> Result<Option<Finding>> {
    let as_of = match args.as_of {
        Some(d) => {
            time::Date::parse(
                &d,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .with_context(|| format!("--as-of {d:?} is not a date like 2025-06-30"))?;
            d
        }
        None => today(),
    };
    let feed = match &args.feed {
        Some(dir) => assess::Feed::load_dir(dir).context("--feed")?,
        None => assess::Feed::embedded(),
    };
    let options = assess::Options {
        limits: assess::Limits::default(),
        feed,
        as_of,
        threads: args.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        ),
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let progress = |stage: &str| {
        if let Some(b) = &bar {
            b.set_message(stage.to_string());
        }
    };
    let mut reports = Vec::new();
    for path in std::iter::once(&args.image).chain(args.same_model.iter()) {
        let bytes = read_image(path)?;
        let name = path.to_string_lossy();
        let report = assess::assess_with_progress(&name, &bytes, &options, &progress)
            .with_context(|| format!("cannot assess {}", path.display()))?;
        reports.push(report);
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if reports.len() > 1 {
        assess::cross_check_model(&mut reports);
    }
    let mut report = reports.swap_remove(0);
    if let Some(path) = &args.claims {
        let text = String::from_utf8(read_bounded(path, 256 * 1024, "claim files")?)
            .with_context(|| format!("{} is not UTF-8", path.display()))?;
        let claims = label::Claims::from_json(&text)
            .map_err(|e| anyhow::anyhow!("{}: invalid claims: {e}", path.display()))?;
        let d = &claims.vulnerability_disclosure;
        if let Some(contact) = d.contact.as_ref().or(d.url.as_ref()) {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            report.add_vendor_disclosure(contact, &name);
        }
    }
    if let Some(p) = &args.sarif {
        write_json(p, &assess::sarif::to_sarif(&report))?;
    }
    if let Some(p) = &args.sbom {
        write_json(p, &assess::sbom::to_cyclonedx(&report))?;
    }
    if args.json {
        out!("{}", report.to_json());
    } else {
        print_human(&report)?;
    }
    if let Some(problem) = report.coverage_problem() {
        // Not an input error (the report is written), but never a result to act on as a pass.
        eprintln!("{}: {problem}", args.image.display());
        return Ok(Some(Finding));
    }
    Ok(report.mandatory_failed().then_some(Finding))
}

fn print_human(r: &assess::Report) -> Result<()> {
    outln!(
        "{} (sha256 {}, {} bytes): {} entries unpacked from {} container(s)",
        r.image.name,
        r.image.sha256,
        r.image.bytes,
        r.extracted.entries,
        r.layers.len()
    );
    outln!("coverage: {}", r.coverage.summary);
    outln!(
        "\n{:<8} {:<8} {:<12} reason",
        "provision",
        "status",
        "verdict"
    );
    for v in &r.verdicts {
        let verdict = match v.verdict {
            assess::Verdict::Pass => "pass",
            assess::Verdict::Fail => "FAIL",
            assess::Verdict::CannotTell => "cannot-tell",
        };
        outln!(
            "{:<9} {:<8} {:<12} {}",
            v.provision,
            v.status,
            verdict,
            v.reason
        );
    }
    if !r.findings.is_empty() {
        outln!("\nfindings:");
        for f in &r.findings {
            outln!("  [{}] {} ({})", f.rule, f.message, f.provisions.join(", "));
            for e in &f.evidence {
                outln!("      at {}  {}", e.location(), e.excerpt);
            }
            outln!("      fix: {}", f.remediation);
        }
    }
    if !r.components.is_empty() {
        outln!("\ncomponents:");
        for c in &r.components {
            outln!(
                "  {} {} ({}{})",
                c.name,
                c.version,
                c.source,
                c.end_of_life
                    .as_deref()
                    .map(|d| format!(", END OF LIFE since {d}"))
                    .unwrap_or_default()
            );
        }
    }
    for v in &r.vulnerabilities {
        let status = match v.status {
            assess::VexStatus::Affected => "AFFECTED (matched by version, unverified)",
            assess::VexStatus::FixedByBackport => "fixed by backport",
        };
        outln!("  {} {} {}: {}", v.component, v.version, v.id, status);
    }
    let failed = r
        .verdicts
        .iter()
        .filter(|v| v.mandatory && v.verdict == assess::Verdict::Fail)
        .count();
    outln!(
        "\n{}",
        if failed == 0 && r.coverage_problem().is_some() {
            "no mandatory provision failed, and none passed: see coverage".to_string()
        } else if failed == 0 {
            "no mandatory provision failed".to_string()
        } else {
            format!("{failed} mandatory provision(s) FAILED")
        }
    );
    Ok(())
}
