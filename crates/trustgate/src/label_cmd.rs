//! `trustgate keygen`, `trustgate label …` and `trustgate baseline list`: argument handling and
//! output over the `label` and `baseline` crates.

use crate::{parse_at, read_bounded, Finding};
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum LabelCommand {
    /// Sign a label: a JSON claim set (DESIGN §4) becomes a COSE_Sign1 object (Ed25519).
    ///
    /// Example: trustgate label issue claims.json --key assessor.key -o device.label
    Issue {
        claims: PathBuf,
        /// The assessor's private key (from `trustgate keygen`).
        #[arg(long)]
        key: PathBuf,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// A `trustgate assess --json` report: replaces the claims' assessment section with
        /// its per-provision verdicts and evidence digests (method firmware-analysis, date
        /// the report's as-of day). The report's image must be one of the claims' software
        /// images.
        #[arg(long, value_name = "REPORT.json")]
        assessment: Option<PathBuf>,
    },
    /// Print a label's claims WITHOUT checking its signature (use `verify` for proof).
    Show {
        label: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Verify a label offline: signature by a known assessor, then its status at a time.
    ///
    /// Exit 0 when the signature is valid and the label is active, 1 when it is not.
    /// Example: trustgate label verify device.label --assessor assessor.pub --at 2027-01-01T00:00:00Z
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
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum BaselineCommand {
    /// List the requirement catalog (ETSI EN 303 645 provisions, with UK PSTI and NIST IR 8425
    /// mapped onto them).
    List {
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
        println!("{}", json!({"key": output, "public": public, "kid": kid}));
    } else {
        println!(
            "private key: {} (mode 600; never share it)",
            output.display()
        );
        println!(
            "public key:  {} (register it with the registry operator)",
            public.display()
        );
        println!("key id:      {kid}");
    }
    Ok(None)
}

pub fn run(cmd: LabelCommand) -> Result<Option<Finding>> {
    match cmd {
        LabelCommand::Issue {
            claims,
            key,
            output,
            assessment,
        } => {
            let text = String::from_utf8(read_bounded(&claims, MAX_LABEL_BYTES, "claim files")?)
                .with_context(|| format!("{} is not UTF-8", claims.display()))?;
            let mut claims_value = match label::Claims::from_json(&text) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("invalid claims: {}: {e}", claims.display());
                    return Ok(Some(Finding));
                }
            };
            if let Some(report) = &assessment {
                let text = read_bounded(report, 64 << 20, "assessment reports")?;
                if let Err(e) = apply_assessment(&mut claims_value, &text) {
                    eprintln!("assessment {} not usable: {e}", report.display());
                    return Ok(Some(Finding));
                }
            }
            let key_pem = String::from_utf8(read_bounded(&key, 16 * 1024, "key files")?)
                .context("key file is not PEM text")?;
            let signing_key = label::signing_key_from_pem(&key_pem)
                .with_context(|| format!("key {}", key.display()))?;
            let bytes = label::sign(&claims_value, &signing_key)?;
            std::fs::write(&output, &bytes)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "wrote {} ({} bytes, digest {})",
                output.display(),
                bytes.len(),
                label::label_digest(&bytes)
            );
            Ok(None)
        }
        LabelCommand::Show { label: path, json } => {
            let bytes = read_bounded(&path, MAX_LABEL_BYTES, "labels")?;
            match label::decode_unverified(&bytes) {
                Ok((kid, claims)) => {
                    if json {
                        let claims: serde_json::Value =
                            serde_json::from_str(&claims.to_json_pretty())?;
                        println!(
                            "{}",
                            json!({"verified": false, "kid": kid.to_string(), "claims": claims})
                        );
                    } else {
                        println!("NOT VERIFIED — use `trustgate label verify` for proof. Signed by key {kid}.");
                        println!("{}", claims.to_json_pretty());
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
            json,
        } => {
            let bytes = read_bounded(&path, MAX_LABEL_BYTES, "labels")?;
            let mut ring = label::KeyRing::new();
            for a in &assessors {
                let pem = String::from_utf8(read_bounded(a, 16 * 1024, "key files")?)
                    .context("assessor key is not PEM text")?;
                ring.insert(
                    label::verifying_key_from_pem(&pem)
                        .with_context(|| format!("assessor key {}", a.display()))?,
                );
            }
            let at = parse_at(at)?.unwrap_or_else(time::OffsetDateTime::now_utc);
            let verified = match label::verify(&bytes, &ring) {
                Ok(v) => v,
                Err(e) => {
                    if json {
                        println!(
                            "{}",
                            json!({"label": path, "valid": false, "reason": e.to_string()})
                        );
                    } else {
                        eprintln!("NOT valid: {}: {e}", path.display());
                    }
                    return Ok(Some(Finding));
                }
            };
            // RFC 9162 inclusion: the bundle's entry must be exactly these label bytes, proven
            // against a checkpoint signed by the log's key.
            let mut logged = None;
            if let Some(bundle_path) = bundle {
                let log_key = log_key.expect("clap requires --log-key with --bundle");
                let vkey = if Path::new(&log_key).is_file() {
                    std::fs::read_to_string(&log_key)?.trim().to_string()
                } else {
                    log_key
                };
                let log = tlog::checkpoint::LogVerifier::parse(&vkey)
                    .map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
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
                match outcome {
                    Ok(v) => {
                        logged =
                            Some((v.leaf_index, v.checkpoint.size, v.checkpoint.origin.clone()))
                    }
                    Err(reason) => {
                        if json {
                            println!(
                                "{}",
                                json!({"label": path, "valid": false, "reason": format!("log proof: {reason}")})
                            );
                        } else {
                            eprintln!("NOT valid: {}: log proof: {reason}", path.display());
                        }
                        return Ok(Some(Finding));
                    }
                }
            }
            // Offline there are no registry events (revocations arrive with proof bundles from
            // the registry); validity and the support period are judged from the claims.
            let status = label::status(&verified.claims, at, &[]);
            let active = matches!(status, label::Status::Active);
            if json {
                println!(
                    "{}",
                    json!({"label": path, "valid": true, "active": active, "status": status,
                           "kid": verified.kid.to_string(), "digest": verified.digest.to_string(),
                           "logged": logged.as_ref().map(|(i, size, origin)|
                               json!({"leaf_index": i, "tree_size": size, "origin": origin}))})
                );
            } else {
                println!(
                    "signature valid (assessor key {}); status: {}",
                    verified.kid,
                    status.plain_words()
                );
                if let Some((i, size, origin)) = &logged {
                    println!("logged: entry {i} of {size} in {origin} (inclusion proof verified)");
                }
            }
            Ok(if active { None } else { Some(Finding) })
        }
    }
}

pub fn baseline(cmd: BaselineCommand) -> Result<Option<Finding>> {
    match cmd {
        BaselineCommand::List { json } => {
            let catalog = baseline::Catalog::embedded();
            if json {
                println!("{}", serde_json::to_string_pretty(&catalog)?);
            } else {
                print!("{}", baseline::render_table(&catalog));
            }
            Ok(None)
        }
    }
}

/// Fill the claims' assessment section from a `trustgate assess --json` report: one verdict
/// per provision with the SHA-256 of its evidence list as the evidence digest. The report
/// must be of one of the images the label covers.
fn apply_assessment(claims: &mut label::Claims, report: &[u8]) -> Result<(), String> {
    let r: serde_json::Value =
        serde_json::from_slice(report).map_err(|e| format!("not a JSON report: {e}"))?;
    let image: label::Sha256Digest = r["image"]["sha256"]
        .as_str()
        .ok_or("no image.sha256")?
        .parse()
        .map_err(|e| format!("image.sha256: {e}"))?;
    if !claims.software.iter().any(|s| s.image_sha256 == image) {
        return Err(format!(
            "it assessed image {image}, which is not among the label's software images"
        ));
    }
    let as_of = r["as_of"].as_str().ok_or("no as_of date")?;
    let date = time::Date::parse(
        as_of,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| format!("as_of {as_of:?}: {e}"))?;
    let mut verdicts = Vec::new();
    for v in r["verdicts"].as_array().ok_or("no verdicts")? {
        let provision = v["provision"]
            .as_str()
            .ok_or("a verdict without provision")?;
        let verdict = match v["verdict"].as_str() {
            Some("pass") => label::Verdict::Pass,
            Some("fail") => label::Verdict::Fail,
            Some("cannot-tell") => label::Verdict::CannotTell,
            other => return Err(format!("provision {provision}: unknown verdict {other:?}")),
        };
        let digest: label::Sha256Digest = v["evidence_sha256"]
            .as_str()
            .ok_or_else(|| format!("provision {provision}: no evidence_sha256"))?
            .parse()
            .map_err(|e| format!("provision {provision}: {e}"))?;
        let has_evidence = v["evidence"].as_array().is_some_and(|a| !a.is_empty());
        verdicts.push(label::ProvisionVerdict {
            provision: provision.to_string(),
            verdict,
            evidence: if has_evidence { vec![digest] } else { vec![] },
        });
    }
    claims.assessment = label::Assessment {
        method: "firmware-analysis".into(),
        date,
        verdicts,
    };
    claims.validate().map_err(|e| e.to_string())
}
