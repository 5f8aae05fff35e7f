//! `/openapi.json` is a valid OpenAPI 3.1 document: checked with the maintained validator
//! `openapi-spec-validator` (PyPI; scripts/test installs it), which resolves every path
//! parameter against its path template, and by a direct check here that every parameter
//! sits where the handler reads it (query parameters in `query`, template names in `path`).

use std::process::Command;

use serde_json::Value;

fn validate_with_python(doc: &Value) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let o = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys\n\
             try:\n    from openapi_spec_validator import validate\n\
             except ImportError:\n    from openapi_spec_validator import validate_spec as validate\n\
             validate(json.load(open(sys.argv[1])))\n",
        )
        .arg(&file)
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        !stderr.contains("No module named 'openapi_spec_validator'"),
        "openapi-spec-validator is not installed (scripts/test installs it: pip install openapi-spec-validator)"
    );
    if o.status.success() {
        Ok(())
    } else {
        Err(stderr)
    }
}

#[test]
fn the_openapi_document_validates() {
    let doc: Value = serde_json::from_str(&registry::openapi_json()).unwrap();
    validate_with_python(&doc).unwrap_or_else(|e| panic!("invalid OpenAPI document: {e}"));

    // The validator catches the mistake this document once had: a query parameter declared
    // as a path parameter of a template without it.
    let mut broken = doc.clone();
    let params = broken["paths"]["/v1/lookup"]["get"]["parameters"]
        .as_array_mut()
        .unwrap();
    params[0]["in"] = "path".into();
    params[0]["required"] = true.into();
    assert!(
        validate_with_python(&broken).is_err(),
        "the validator must refuse a path parameter missing from its template"
    );
}

#[test]
fn every_parameter_is_where_the_handler_reads_it() {
    let doc: Value = serde_json::from_str(&registry::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut seen_query = Vec::new();
    for (template, item) in paths {
        let names: Vec<&str> = template
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: Vec<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut got = in_path.clone();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{method} {template}: path parameters");
            for p in params.iter().filter(|p| p["in"] == "query") {
                seen_query.push(format!("{template}?{}", p["name"].as_str().unwrap()));
            }
        }
    }
    for q in [
        "/v1/lookup?digest",
        "/v1/lookup?firmware",
        "/v1/lookup?mud-url",
        "/v1/consistency?old",
        "/v1/consistency?new",
        "/l/{digest}?lang",
    ] {
        assert!(seen_query.iter().any(|s| s == q), "{q} in {seen_query:?}");
    }
}
