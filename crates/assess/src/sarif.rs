//! SARIF 2.1.0 (OASIS) rendering of a report: one rule per check, one result per finding,
//! locations as artifact URIs with byte offsets (SARIF §3.30 regions).

use serde_json::{json, Value};

use crate::report::{Report, Severity};

/// Percent-encode a tree path into a URI reference (RFC 3986 §2: keep unreserved characters
/// and the sub-delimiters our paths use).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!@:+,=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SARIF log for `report` (deterministic: rules and results in report order).
pub fn to_sarif(report: &Report) -> Value {
    let mut rules: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for f in &report.findings {
        if !rules.iter().any(|(id, _, _)| *id == f.rule) {
            rules.push((f.rule, f.remediation, f.provisions.clone()));
        }
    }
    rules.sort_by(|a, b| a.0.cmp(b.0));
    let rule_json: Vec<Value> = rules
        .iter()
        .map(|(id, help, provisions)| {
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": id.replace('-', " ")},
                "help": {"text": help},
                "properties": {"provisions": provisions, "baseline": report.baseline.id},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = rules.iter().position(|(id, _, _)| *id == f.rule).unwrap_or(0);
            let locations: Vec<Value> = f
                .evidence
                .iter()
                .map(|e| {
                    json!({
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri(&e.path), "uriBaseId": "IMAGE"},
                            "region": {"byteOffset": e.offset},
                        },
                        "message": {"text": e.excerpt},
                    })
                })
                .collect();
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": match f.severity { Severity::High => "error", Severity::Medium => "warning", Severity::Low => "note" },
                "message": {"text": f.message},
                "locations": locations,
                "properties": {"provisions": f.provisions, "evidence": f.evidence.iter().map(|e| &e.reference).collect::<Vec<_>>()},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "trustgate-assess",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_json,
            }},
            "originalUriBaseIds": {"IMAGE": {"description": {"text": format!("the unpacked image {} (sha256 {})", report.image.name, report.image.sha256)}}},
            "artifacts": [{"location": {"description": {"text": report.image.name}}, "length": report.image.bytes, "hashes": {"sha-256": report.image.sha256}}],
            "results": results,
        }],
    })
}
