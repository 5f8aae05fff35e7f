//! `trustgate keygen` and `trustgate label …`: argument handling and output over the `label`
//! crate.

use crate::{parse_at, read_bounded, Finding};
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum LabelCommand {
    /// Sign a label: a JSON claim set becomes a COSE_Sign1 object (Ed25519).
    ///
    /// The claims file is checked against the claims JSON Schema, then for sense at issue time:
    /// support end date and validity not in the past nor more than 15 years ahead, provision ids
    /// from the baseline catalog (`trustgate baseline list`), and an assessment in which no
    /// required provision fails. A failing assessment is refused (exit 1, naming the failing
    /// provisions) unless --non-conformant is given: the label then records, signed, that the
    /// device does not conform and which provisions fail, and every reader shows it. Start from
    /// `trustgate label template --json`.
    ///
    /// Example: trustgate label issue claims.json --key assessor.key -o device.label --assessment report.json
    #[command(after_long_help = issue_fields_help())]
    Issue {
        /// The claims file (JSON; see the fields below and `trustgate label template`).
        claims: PathBuf,
        /// The assessor's private key (from `trustgate keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed label; an existing file is kept unless --force.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
        /// A `trustgate assess --json` report: replaces the claims' assessment section with
        /// its per-provision verdicts and evidence digests (method firmware-analysis, date
        /// the report's as-of day). The report's image must be one of the claims' software
        /// images.
        #[arg(long, value_name = "REPORT.json")]
        assessment: Option<PathBuf>,
        /// Issue the label even though required provisions fail; it then says, signed, that
        /// the device is non-conformant and which provisions fail.
        #[arg(long = "non-conformant")]
        non_conformant: bool,
    },
    /// Print an example claims file with every field explained (start here for `label issue`).
    ///
    /// The commented form is for reading (comments are not JSON); --json prints the same
    /// example as plain JSON to save, edit and issue; --schema prints the JSON Schema the
    /// claims file is validated against.
    ///
    /// Example: trustgate label template --json > claims.json
    Template {
        /// Plain JSON, accepted as it is by `label issue`.
        #[arg(long, conflicts_with = "schema")]
        json: bool,
        /// The claims JSON Schema (draft 2020-12).
        #[arg(long)]
        schema: bool,
    },
    /// Print a label's claims WITHOUT checking its signature (use `verify` for proof).
    Show {
        label: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Verify a label offline: signature by a known assessor, then its status at a time.
    ///
    /// Without --bundle, or with a bundle that carries no status statements, only the label
    /// itself is checked: a revocation cannot be seen, and the output says so. A bundle from
    /// `trustgate registry fetch` carries every status statement the registry logged about the
    /// label, each proven in the same checkpoint; they are checked and decide the status.
    ///
    /// Beside the status it shows the assessment's outcome (conformant, non-conformant, not
    /// assessed), computed from the label's verdicts.
    ///
    /// Exit 0 when the signature is valid, the label is active and its assessment conforms;
    /// 1 when not (or when a statement in the bundle cannot be checked).
    /// Example: trustgate label verify device.label --assessor assessor.pub --bundle b.json --log-key log.key.pub
    Verify {
        label: PathBuf,
        /// Public key(s) of registered assessors (PEM; repeat for several).
        #[arg(long = "assessor", required = true)]
        assessors: Vec<PathBuf>,
        /// Judge the status at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// Offline proof bundle (JSON) showing the label is in the registry's transparency log.
        #[arg(long, requires = "log_key")]
        bundle: Option<PathBuf>,
        /// The log's C2SP verifier key (`name+hash+key`), or a file holding it.
        #[arg(long = "log-key")]
        log_key: Option<String>,
        /// Public key(s) of the registry operator (PEM; repeat for several): operator
        /// statements in the bundle (revocations of any label) are checked with them.
        #[arg(long = "operator-key")]
        operator_keys: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Labels are small; anything bigger is not a label.
const MAX_LABEL_BYTES: usize = 256 * 1024;

/// Write a secret so that only its owner can read it, refusing to overwrite anything.
fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(contents)?;
    Ok(())
}

pub fn keygen(output: &Path, public: Option<PathBuf>, json: bool) -> Result<Option<Finding>> {
    let key = label::generate_key()?;
    let pem = label::signing_key_to_pem(&key)?;
    write_secret(output, pem.as_bytes())?;
    let public = public.unwrap_or_else(|| output.with_extension("pub"));
    let pub_pem = label::verifying_key_to_pem(&key.verifying_key())?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&public)
        .with_context(|| format!("cannot create {} (it must not exist yet)", public.display()))?
        .write_all(pub_pem.as_bytes())?;
    let kid = label::KeyId::of(&key.verifying_key()).to_string();
    if json {
        outln!("{}", json!({"key": output, "public": public, "kid": kid}));
    } else {
        outln!(
            "private key: {} (mode 600; never share it)",
            output.display()
        );
        outln!(
            "public key:  {} (register it with the registry operator)",
            public.display()
        );
        outln!("key id:      {kid}");
    }
    Ok(None)
}

pub fn run(cmd: LabelCommand) -> Result<Option<Finding>> {
    match cmd {
        LabelCommand::Issue {
            claims,
            key,
            output,
            force,
            assessment,
            non_conformant,
        } => {
            let text = String::from_utf8(read_bounded(&claims, MAX_LABEL_BYTES, "claim files")?)
                .with_context(|| format!("{} is not UTF-8", claims.display()))?;
            let invalid = |problems: Vec<String>| {
                eprintln!("cannot issue a label from {}:", claims.display());
                for p in problems {
                    eprintln!("  {p}");
                }
                eprintln!("(`trustgate label issue --help` explains the fields; `trustgate label template --json` is a valid example)");
                Ok(Some(Finding))
            };
            let value: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return invalid(vec![format!("not JSON: {e}")]),
            };
            if let Err(problems) = label::schema::validate(&value) {
                return invalid(problems);
            }
            let mut claims_value = match label::Claims::from_json(&text) {
                Ok(c) => c,
                Err(e) => return invalid(vec![e.to_string()]),
            };
            if let Some(report) = &assessment {
                let text = read_bounded(report, 64 << 20, "assessment reports")?;
                if let Err(e) = apply_assessment(&mut claims_value, &text) {
                    eprintln!("assessment {} not usable: {e}", report.display());
                    return Ok(Some(Finding));
                }
            }
            if let Err(problems) =
                claims_value.check_issuable(time::OffsetDateTime::now_utc(), non_conformant)
            {
                return invalid(problems);
            }
            let conformance = claims_value.conformance();
            claims_value.conformance = Some(conformance.claim());
            if let Err(e) = claims_value.validate() {
                return invalid(vec![e.to_string()]);
            }
            let signing_key = label::signing_key_from_file(&key)?;
            let bytes = label::sign(&claims_value, &signing_key)?;
            write_output(&output, &bytes, force)?;
            eprintln!(
                "wrote {} ({} bytes, digest {})",
                output.display(),
                bytes.len(),
                label::label_digest(&bytes)
            );
            eprintln!("{}", conformance.plain_words());
            Ok(None)
        }
        LabelCommand::Template { json, schema } => {
            let today = time::OffsetDateTime::now_utc().date();
            if schema {
                out!("{}", label::schema::CLAIMS_SCHEMA);
            } else if json {
                outln!("{}", label::schema::template_json(today));
            } else {
                out!("{}", label::schema::template_commented(today));
            }
            Ok(None)
        }
        LabelCommand::Show { label: path, json } => {
            let bytes = read_bounded(&path, MAX_LABEL_BYTES, "labels")?;
            match label::decode_unverified(&bytes) {
                Ok((kid, claims)) => {
                    if json {
                        let conformance = claims.conformance();
                        let claims: serde_json::Value =
                            serde_json::from_str(&claims.to_json_pretty())?;
                        outln!(
                            "{}",
                            json!({"verified": false, "kid": kid.to_string(), "assessment": conformance, "claims": claims})
                        );
                    } else {
                        outln!("NOT VERIFIED — use `trustgate label verify` for proof. Signed by key {kid}.");
                        outln!("{}", claims.conformance().plain_words());
                        outln!("{}", claims.to_json_pretty());
                    }
                    Ok(None)
                }
                Err(e) => {
                    eprintln!("not a label: {}: {e}", path.display());
                    Ok(Some(Finding))
                }
            }
        }
        LabelCommand::Verify {
            label: path,
            assessors,
            at,
            bundle,
            log_key,
            operator_keys,
            json,
        } => {
            let bytes = read_bounded(&path, MAX_LABEL_BYTES, "labels")?;
            let ring = read_public_keys(&assessors, "assessor key")?;
            let operators = read_public_keys(&operator_keys, "operator key")?;
            let at = parse_at(at)?.unwrap_or_else(time::OffsetDateTime::now_utc);
            let not_valid = |reason: String| {
                if json {
                    outln!(
                        "{}",
                        json!({"label": path, "valid": false, "reason": reason})
                    );
                } else {
                    eprintln!("NOT valid: {}: {reason}", path.display());
                }
                Ok(Some(Finding))
            };
            let verified = match label::verify(&bytes, &ring) {
                Ok(v) => v,
                Err(e) => return not_valid(e.to_string()),
            };
            // RFC 9162 inclusion: the bundle's entry must be exactly these label bytes, proven
            // against a checkpoint signed by the log's key; so must its statements.
            let mut logged = None;
            let mut statements: Option<Vec<(u64, label::StatusEvent)>> = None;
            if let Some(bundle_path) = bundle {
                let log_key = log_key.expect("clap requires --log-key with --bundle");
                let log = log_verifier(&log_key)?;
                let text =
                    String::from_utf8(read_bounded(&bundle_path, 1024 * 1024, "proof bundles")?)
                        .context("bundle is not UTF-8 JSON")?;
                let outcome = tlog::bundle::ProofBundle::from_json(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|b| tlog::bundle::verify(&b, &log).map_err(|e| e.to_string()))
                    .and_then(|v| {
                        if v.entry == bytes {
                            Ok(v)
                        } else {
                            Err("the bundle proves a different entry, not this label".to_string())
                        }
                    });
                let v = match outcome {
                    Ok(v) => v,
                    Err(reason) => return not_valid(format!("log proof: {reason}")),
                };
                logged = Some((v.leaf_index, v.checkpoint.size, v.checkpoint.origin.clone()));
                if let Some(list) = &v.statements {
                    let keys = registry::answer::StatementKeys {
                        label_kid: verified.kid,
                        assessor: Some(verified.key),
                        operators: &operators,
                    };
                    match registry::answer::check_statements(&verified.claims.id, list, &keys)
                        .map_err(crate::registry_cmd::with_flag_hint)
                    {
                        Ok(checked) => {
                            statements = Some(
                                checked
                                    .into_iter()
                                    .map(|c| (c.leaf_index, c.event))
                                    .collect(),
                            )
                        }
                        Err(reason) => {
                            return not_valid(format!("status cannot be established: {reason}"))
                        }
                    }
                }
            }
            let facts: Vec<label::StatusEvent> = statements
                .iter()
                .flatten()
                .map(|(_, e)| e.clone())
                .collect();
            let status = label::status(&verified.claims, at, &facts);
            let active = matches!(status, label::Status::Active);
            let conformance = verified.claims.conformance();
            let good = label::is_good(&status, &conformance);
            let checked = match (&statements, &logged) {
                (Some(list), Some((_, size, _))) => format!(
                    "the label and the {} status statement(s) the registry logged about it up to tree size {size}",
                    list.len()
                ),
                _ => "only the label itself: revocation and other registry statements were NOT checked".to_string(),
            };
            if json {
                outln!(
                    "{}",
                    json!({"label": path, "valid": true, "active": active, "status": status,
                           "assessment": conformance, "conforms": conformance.is_conformant(),
                           "good": good,
                           "revocation_checked": statements.is_some(),
                           "checked": checked,
                           "statements": statements.as_ref().map(|l| l.iter().map(|(i, e)|
                               json!({"leaf_index": i, "event": e})).collect::<Vec<_>>()),
                           "kid": verified.kid.to_string(), "digest": verified.digest.to_string(),
                           "logged": logged.as_ref().map(|(i, size, origin)|
                               json!({"leaf_index": i, "tree_size": size, "origin": origin}))})
                );
            } else {
                outln!("signature valid (assessor key {})", verified.kid);
                if let Some((i, size, origin)) = &logged {
                    outln!("logged: entry {i} of {size} in {origin} (inclusion proof verified)");
                }
                if statements.is_some() {
                    outln!("status: {}", status_words_checked(&status, &conformance));
                    outln!("checked: {checked}");
                } else {
                    outln!(
                        "status from the label alone (revocation NOT checked): {}",
                        status_words_unchecked(&status)
                    );
                    outln!(
                        "checked: {checked}; for its registry status use a bundle from `trustgate registry fetch`"
                    );
                }
                outln!("{}", conformance.plain_words());
                if active && !conformance.is_conformant() {
                    outln!(
                        "NOT a passing label: the signature and status are fine, but the device's assessment {}",
                        match conformance.outcome {
                            label::Outcome::NonConformant => "failed",
                            _ => "is missing",
                        }
                    );
                }
            }
            Ok(if good { None } else { Some(Finding) })
        }
    }
}

/// The status from checked statements; "Valid" only for a label that also conforms.
fn status_words_checked(status: &label::Status, conformance: &label::Conformance) -> String {
    if status.is_active() && !conformance.is_conformant() {
        "current (neither revoked, suspended, superseded nor expired)".into()
    } else {
        status.plain_words()
    }
}

/// The claims fields, for `label issue --help`.
fn issue_fields_help() -> String {
    format!(
        "The claims file: a JSON object with these fields (kebab-case keys; unknown keys are refused). \
         Dates are YYYY-MM-DD, instants RFC 3339 in UTC (2026-01-15T00:00:00Z), digests 64 lowercase hex.\n\n{}",
        label::schema::field_help()
    )
}

/// Writes the label, refusing to replace an existing file unless `force`.
fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let mut f = if force {
        std::fs::File::create(path)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    }
    .with_context(|| {
        if !force && path.exists() {
            format!(
                "{} exists; it is left as it was (pass --force to replace it)",
                path.display()
            )
        } else {
            format!("cannot write {}", path.display())
        }
    })?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A status judged from the claims alone, in words that do not call it valid.
fn status_words_unchecked(status: &label::Status) -> String {
    match status {
        label::Status::Active => {
            "within its validity and support periods as the label states them".into()
        }
        other => other.plain_words(),
    }
}

/// Reads one PEM public key (SPKI); `what` names it in errors ("assessor key").
pub(crate) fn read_public_key(path: &Path, what: &str) -> Result<label::VerifyingKey> {
    let pem = String::from_utf8(read_bounded(path, 16 * 1024, "key files")?)
        .with_context(|| format!("{what} {} is not PEM text", path.display()))?;
    label::verifying_key_from_pem(&pem).with_context(|| format!("{what} {}", path.display()))
}

/// Reads PEM public keys (SPKI) into a key ring.
pub(crate) fn read_public_keys(paths: &[PathBuf], what: &str) -> Result<label::KeyRing> {
    let mut ring = label::KeyRing::new();
    for a in paths {
        ring.insert(read_public_key(a, what)?);
    }
    Ok(ring)
}

/// The log's verifier key, given as text or as a file holding it.
pub(crate) fn log_verifier(log_key: &str) -> Result<tlog::checkpoint::LogVerifier> {
    let vkey = if Path::new(log_key).is_file() {
        std::fs::read_to_string(log_key)?.trim().to_string()
    } else {
        log_key.to_string()
    };
    tlog::checkpoint::LogVerifier::parse(&vkey).map_err(|e| anyhow::anyhow!("--log-key: {e}"))
}

/// The fields of a `trustgate assess --json` report that `label issue --assessment` reads;
/// everything else in the report is ignored.
#[derive(serde::Deserialize)]
struct AssessmentReport {
    image: ReportImage,
    /// What the assessment opened; reports from before it was recorded have none.
    coverage: Option<ReportCoverage>,
    /// The day the assessment judged the image as of (YYYY-MM-DD).
    as_of: String,
    verdicts: Vec<ReportVerdict>,
}

#[derive(serde::Deserialize)]
struct ReportImage {
    sha256: label::Sha256Digest,
}

#[derive(serde::Deserialize)]
struct ReportCoverage {
    root_filesystem_opened: Option<bool>,
    summary: Option<String>,
}

#[derive(serde::Deserialize)]
struct ReportVerdict {
    provision: String,
    verdict: label::Verdict,
    evidence_sha256: label::Sha256Digest,
    /// Only whether there is any evidence matters here.
    #[serde(default)]
    evidence: Vec<serde::de::IgnoredAny>,
}

/// Fill the claims' assessment section from a `trustgate assess --json` report: one verdict
/// per provision with the SHA-256 of its evidence list as the evidence digest. The report
/// must be of one of the images the label covers.
fn apply_assessment(claims: &mut label::Claims, report: &[u8]) -> Result<(), String> {
    let r: AssessmentReport = serde_json::from_slice(report)
        .map_err(|e| format!("not a `trustgate assess --json` report: {e}"))?;
    let image = r.image.sha256;
    if !claims.software.iter().any(|s| s.image_sha256 == image) {
        return Err(format!(
            "it assessed image {image}, which is not among the label's software images"
        ));
    }
    // A label on an image nobody looked inside proves nothing: the assessment must have opened
    // the root filesystem (reports before `coverage` existed do not say, so they are refused).
    let coverage = r.coverage.as_ref();
    match coverage.and_then(|c| c.root_filesystem_opened) {
        Some(true) => {}
        Some(false) => {
            return Err(format!(
                "it did not open the image's root filesystem, so its verdicts cannot be relied on ({}); a label needs an assessment that looked inside",
                coverage
                    .and_then(|c| c.summary.as_deref())
                    .unwrap_or("no summary")
            ))
        }
        None => {
            return Err(
                "it does not say what it opened (no coverage.root_filesystem_opened: a report from an older trustgate); assess the image again"
                    .into(),
            )
        }
    }
    let date = time::Date::parse(
        &r.as_of,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| format!("as_of {:?}: {e}", r.as_of))?;
    let verdicts = r
        .verdicts
        .into_iter()
        .map(|v| label::ProvisionVerdict {
            evidence: if v.evidence.is_empty() {
                vec![]
            } else {
                vec![v.evidence_sha256]
            },
            provision: v.provision,
            verdict: v.verdict,
        })
        .collect();
    claims.assessment = label::Assessment {
        method: "firmware-analysis".into(),
        date,
        verdicts,
    };
    claims.validate().map_err(|e| e.to_string())
}
