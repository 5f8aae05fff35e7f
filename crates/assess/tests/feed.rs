//! The curated OSV feed: every record valid against the shipped OSV schema, parsed by the
//! matcher, and the schema itself able to reject bad records.

use std::path::Path;

fn feed_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/feed"))
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/osv-schema.json"
        )))
        .unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn every_record_is_valid_osv() {
    let v = validator();
    let mut n = 0;
    for e in std::fs::read_dir(feed_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("CVE-") {
            continue;
        }
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&rec)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(rec["id"].as_str().unwrap(), name.trim_end_matches(".json"));
        n += 1;
    }
    assert_eq!(
        n,
        assess::components::EMBEDDED_FEED.len(),
        "every file is embedded"
    );
    let embedded = assess::Feed::embedded();
    let loaded = assess::Feed::load_dir(feed_dir()).unwrap();
    assert_eq!(embedded.records.len(), loaded.records.len());
}

#[test]
fn schema_rejects_broken_records() {
    let v = validator();
    let good: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(feed_dir().join("CVE-2022-48174.json")).unwrap(),
    )
    .unwrap();
    assert!(v.is_valid(&good));
    let mut no_modified = good.clone();
    no_modified.as_object_mut().unwrap().remove("modified");
    assert!(!v.is_valid(&no_modified));
    let mut bad_range = good.clone();
    bad_range["affected"][0]["ranges"][0]["type"] = "VERSION".into();
    assert!(!v.is_valid(&bad_range));
    let mut two_in_one_event = good.clone();
    two_in_one_event["affected"][0]["ranges"][0]["events"][0] =
        serde_json::json!({"introduced": "0", "fixed": "1.0"});
    assert!(!v.is_valid(&two_in_one_event));
    let mut no_introduced = good.clone();
    no_introduced["affected"][0]["ranges"][0]["events"] = serde_json::json!([{"fixed": "1.36.0"}]);
    assert!(!v.is_valid(&no_introduced));
    let mut bad_ecosystem = good;
    bad_ecosystem["affected"][0]["package"]["ecosystem"] = "Upstream".into();
    assert!(!v.is_valid(&bad_ecosystem));
}

#[test]
fn load_dir_names_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"id\": 1}").unwrap();
    let err = assess::Feed::load_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("bad.json") && err.contains("not an OSV record"),
        "{err}"
    );
}
