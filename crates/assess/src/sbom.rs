//! CycloneDX 1.6 SBOM (JSON) of the components found, with the matched vulnerabilities and
//! their VEX analysis (CycloneDX `vulnerabilities[].analysis`). A match made on the version
//! alone is `in_triage` (affected, unverified): whether the vulnerable code is built in and
//! reachable was not checked, so it is never stated `exploitable`.

use serde_json::{json, Value};

use crate::components::{Strength, VexStatus};
use crate::report::Report;

/// A package URL (purl spec) for a component; generic type since firmware builds are
/// rarely traceable to one distribution's package.
fn purl(name: &str, version: &str) -> String {
    format!("pkg:generic/{name}@{version}")
}

/// An RFC 4122 UUID derived from the image digest, so the serial number is stable.
fn serial(sha256_hex: &str) -> String {
    let h = &sha256_hex[..32];
    let variant = (u8::from_str_radix(&h[16..17], 16).unwrap_or(0) & 0x3) | 0x8;
    format!(
        "urn:uuid:{}-{}-5{}-{:x}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// The SBOM for `report`.
pub fn to_cyclonedx(report: &Report) -> Value {
    let components: Vec<Value> = report
        .components
        .iter()
        .map(|c| {
            let kind = match c.name.as_str() {
                "linux" => "operating-system",
                "busybox" | "dropbear" | "openssh" | "lighttpd" | "dnsmasq" => "application",
                _ => "library",
            };
            let confidence = match c.strength {
                Strength::PackageDbAndBanner => 1.0,
                Strength::PackageDb => 0.9,
                Strength::Banner => 0.6,
                Strength::ModulesDir => 0.5,
            };
            let mut props = vec![json!({"name": "trustgate:source", "value": c.source})];
            if let Some(p) = &c.package {
                props.push(json!({"name": "trustgate:package", "value": p}));
            }
            if let Some(eol) = &c.end_of_life {
                props.push(json!({"name": "trustgate:end-of-life", "value": eol}));
            }
            json!({
                "type": kind,
                "bom-ref": format!("{}@{}", c.name, c.version),
                "name": c.name,
                "version": c.version,
                "purl": purl(&c.name, &c.version),
                "evidence": {"identity": [{
                    "field": "version",
                    "confidence": confidence,
                    "methods": [{"technique": match c.source.as_str() { "banner" => "binary-analysis", "modules-dir" => "filename", _ => "manifest-analysis" }, "confidence": confidence, "value": c.evidence.first().map(|e| e.reference.clone()).unwrap_or_default()}],
                }]},
                "properties": props,
            })
        })
        .collect();
    let vulnerabilities: Vec<Value> = report
        .vulnerabilities
        .iter()
        .map(|v| {
            let (state, detail) = match v.status {
                VexStatus::Affected => (
                    "in_triage",
                    format!(
                        "affected (unverified): {} {} is in the affected version range; matched by version only, not confirmed in the binary",
                        v.component, v.version
                    ),
                ),
                VexStatus::FixedByBackport => (
                    "resolved",
                    format!(
                        "fixed by backport: {}",
                        v.evidence
                            .first()
                            .map(|e| e.excerpt.clone())
                            .unwrap_or_default()
                    ),
                ),
            };
            json!({
                "id": v.id,
                "source": {"name": "OSV"},
                "description": v.summary,
                "affects": [{"ref": format!("{}@{}", v.component, v.version)}],
                "analysis": {"state": state, "detail": detail},
            })
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "specVersion": "1.6",
        "serialNumber": serial(&report.image.sha256),
        "version": 1,
        "metadata": {
            "timestamp": format!("{}T00:00:00Z", report.as_of),
            "tools": {"components": [{"type": "application", "name": "trustgate-assess", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {
                "type": "firmware",
                "bom-ref": "image",
                "name": report.image.name,
                "hashes": [{"alg": "SHA-256", "content": report.image.sha256}],
            },
        },
        "components": components,
        "dependencies": [{"ref": "image", "dependsOn": report.components.iter().map(|c| format!("{}@{}", c.name, c.version)).collect::<Vec<_>>()}],
        "vulnerabilities": vulnerabilities,
    })
}
