//! The claim set's JSON Schema (`crates/label/schema/claims.schema.json`, draft 2020-12),
//! shipped with the program: what `trustgate label issue` validates a claims file against
//! before anything else, what `trustgate label template` explains, and what a vendor's own
//! tooling can validate against.
//!
//! The schema and the serde types in [`crate::claims`] describe the same format; the tests
//! check that they agree (the example validates, every schema property is a serde field and
//! the other way round).

use std::sync::OnceLock;

use serde_json::Value;

/// The schema text.
pub const CLAIMS_SCHEMA: &str = include_str!("../schema/claims.schema.json");

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(CLAIMS_SCHEMA).expect("the claims schema is JSON"))
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| jsonschema::validator_for(schema()).expect("the claims schema is valid"))
}

/// Validates a claims document against the schema. Every violation is listed, each starting
/// with the JSON pointer of the value it is about (`/support/end-date: ...`).
pub fn validate(instance: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator()
        .iter_errors(instance)
        .map(|e| {
            let at = e.instance_path.to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The schema node describing the value at `path` (object keys; array items are entered with
/// `[]`), following `$ref`s into `$defs`.
fn node_at<'a>(path: &[&str]) -> Option<&'a Value> {
    let root = schema();
    let mut at = root;
    for p in path {
        at = resolve(root, at);
        at = if *p == "[]" {
            at.get("items")?
        } else {
            at.get("properties")?.get(*p)?
        };
    }
    Some(at)
}

fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root["$defs"].get(name))
            .unwrap_or(v),
        None => v,
    }
}

/// The description of the field at `path` (object keys; array items are entered with `[]`),
/// if the schema has one.
pub fn description(path: &[&str]) -> Option<&'static str> {
    node_at(path)?.get("description")?.as_str()
}

/// Whether the schema requires the field `key` of the object at `path`.
fn required(path: &[&str], key: &str) -> bool {
    node_at(path)
        .map(|n| resolve(schema(), n))
        .and_then(|n| n.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|k| k == key))
}

/// A complete example claims file (plain JSON), valid against the schema and accepted by
/// `trustgate label issue` (dates relative to `today` so it stays issuable): what
/// `trustgate label template --json` prints.
pub fn template_json(today: time::Date) -> String {
    serde_json::to_string_pretty(&template_value(today)).expect("a JSON value serialises")
}

fn template_value(today: time::Date) -> Value {
    use time::Duration;
    let mut c = crate::example_claims();
    c.id = "urn:example:label:cam-100:1".into();
    c.assessment.date = today;
    c.support.end_date = today + Duration::days(5 * 365);
    c.validity.not_before = today.midnight().assume_utc();
    c.validity.not_after = (today + Duration::days(3 * 365)).midnight().assume_utc();
    c.software[0].image_sha256 = crate::Sha256Digest::of(b"replace with: sha256sum firmware.bin");
    c.conformance = None;
    serde_json::to_value(&c).expect("claims serialise")
}

/// The same example with every field explained in a `//` comment above it, and whether it is
/// required: what `trustgate label template` prints. Comments are not JSON: use
/// `template --json` for a file to edit and issue.
pub fn template_commented(today: time::Date) -> String {
    let mut out = String::new();
    out.push_str("// A trustgate label claims file (schema trustgate-label/1).\n");
    out.push_str(
        "// Comments are not JSON: `trustgate label template --json > claims.json` gives this\n",
    );
    out.push_str(
        "// example without them, ready to edit and issue with `trustgate label issue`.\n",
    );
    out.push_str("// The full JSON Schema: `trustgate label template --schema`.\n");
    write_value(&template_value(today), &mut Vec::new(), 0, &mut out);
    out.push('\n');
    out
}

fn write_value<'a>(v: &'a Value, path: &mut Vec<&'a str>, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    match v {
        Value::Object(map) => {
            out.push_str("{\n");
            let n = map.len();
            for (i, (k, child)) in map.iter().enumerate() {
                path.push(k);
                if let Some(d) = description(path) {
                    let req = if required(&path[..path.len() - 1], k) {
                        "required"
                    } else {
                        "optional"
                    };
                    for (j, line) in wrap(d, 88).into_iter().enumerate() {
                        if j == 0 {
                            out.push_str(&format!("{pad}// ({req}) {line}\n"));
                        } else {
                            out.push_str(&format!("{pad}//   {line}\n"));
                        }
                    }
                }
                out.push_str(&format!("{pad}{}: ", Value::String(k.clone())));
                write_value(child, path, indent + 1, out);
                path.pop();
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            out.push_str("[\n");
            path.push("[]");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write_value(item, path, indent + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            path.pop();
            out.push_str(&"  ".repeat(indent));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Every field of the claims file with its description, one per line (`software[].version`
/// style paths), for `trustgate label issue --help`.
pub fn field_help() -> String {
    let mut out = String::new();
    fields(schema(), schema(), "", &mut out);
    out
}

fn fields(root: &Value, node: &Value, prefix: &str, out: &mut String) {
    let node = resolve(root, node);
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    let req: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (k, child) in props {
        let name = format!("{prefix}{k}");
        let d = child
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let opt = if req.contains(&k.as_str()) {
            ""
        } else {
            " (optional)"
        };
        out.push_str(&format!("  {name}{opt}: {d}\n"));
        let child = resolve(root, child);
        if child.get("properties").is_some() {
            fields(root, child, &format!("{name}."), out);
        } else if let Some(items) = child.get("items") {
            if resolve(root, items).get("properties").is_some() {
                fields(root, items, &format!("{name}[]."), out);
            }
        }
    }
}
