//! The SBOM of every corpus image validates against the published CycloneDX 1.6 schema
//! (read in place from the shared schema folder, with the SPDX and JSF schemas it references
//! beside it), and a vulnerability matched by version alone is never "exploitable".

mod common;

use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    common::workspace().join("../shared/data/schemas/cyclonedx-1.6")
}

fn validator() -> jsonschema::Validator {
    let read = |name: &str| -> serde_json::Value {
        let p = schema_dir().join(name);
        serde_json::from_str(
            &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .unwrap()
    };
    let bom = read("bom-1.6.schema.json");
    // The schema names its neighbours by their published ids; hand them over so nothing is
    // fetched.
    let mut options = jsonschema::options();
    for name in ["spdx.schema.json", "jsf-0.82.schema.json"] {
        let schema = read(name);
        let id = schema["$id"].as_str().unwrap().to_string();
        assert_eq!(id, format!("http://cyclonedx.org/schema/{name}"));
        options = options.with_resource(id, jsonschema::Resource::from_contents(schema).unwrap());
    }
    options
        .build(&bom)
        .expect("the CycloneDX 1.6 schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[test]
fn every_corpus_sbom_is_cyclonedx_1_6() {
    let v = validator();
    let dir = common::corpus();
    let mut checked = 0;
    for name in common::expected_images() {
        if common::expected(&name).get("error").is_some() {
            continue;
        }
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let options = assess::Options {
            as_of: "2025-06-01".into(),
            ..assess::Options::default()
        };
        let report = assess::assess(&name, &bytes, &options).unwrap();
        let sbom = assess::sbom::to_cyclonedx(&report);
        assert_eq!(sbom["specVersion"], "1.6", "{name}");
        let errs = errors(&v, &sbom);
        assert!(errs.is_empty(), "{name}: {errs:?}");
        for vuln in sbom["vulnerabilities"].as_array().unwrap() {
            assert_ne!(
                vuln["analysis"]["state"], "exploitable",
                "{name}: {} matched by version only",
                vuln["id"]
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked} images checked");
}

#[test]
fn version_matches_are_in_triage_and_the_validator_rejects_bad_documents() {
    let v = validator();
    let dir = common::corpus();
    let name = "outdated.squashfs";
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let report = assess::assess(name, &std::fs::read(dir.join(name)).unwrap(), &options).unwrap();
    let sbom = assess::sbom::to_cyclonedx(&report);
    let vulns = sbom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 6);
    for vuln in vulns {
        assert_eq!(vuln["analysis"]["state"], "in_triage");
        let detail = vuln["analysis"]["detail"].as_str().unwrap();
        assert!(detail.contains("affected (unverified)"), "{detail}");
    }
    // The schema is really applied: a state CycloneDX does not define, a 1.5 document shape
    // error and a bad hash all fail.
    let mut bad_state = sbom.clone();
    bad_state["vulnerabilities"][0]["analysis"]["state"] = "affected".into();
    assert!(!errors(&v, &bad_state).is_empty());
    let mut bad_hash = sbom.clone();
    bad_hash["metadata"]["component"]["hashes"][0]["content"] = "not-hex".into();
    assert!(!errors(&v, &bad_hash).is_empty());
    let mut bad_license = sbom;
    bad_license["components"][0]["licenses"] =
        serde_json::json!([{"license": {"id": "Not-An-SPDX-Id"}}]);
    assert!(
        !errors(&v, &bad_license).is_empty(),
        "the SPDX schema beside it is used"
    );
}
