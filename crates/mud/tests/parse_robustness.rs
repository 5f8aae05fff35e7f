//! `parse` is fed untrusted bytes: whatever they are, it must return, not panic.

use mud::parse::{parse, Mode};
use proptest::prelude::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mud");

fn corpus() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for dir in ["cisco", "namib", "nist", "osmud-negative"] {
        for entry in std::fs::read_dir(format!("{CORPUS}/{dir}")).unwrap() {
            files.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    files
}

fn parse_both(bytes: &[u8]) {
    for mode in [Mode::Strict, Mode::Lenient] {
        if let Err(e) = parse(bytes, mode) {
            // Every refusal names where it happened.
            assert!(e.path.starts_with('/'), "{e}");
            assert!(!e.rule.is_empty());
        }
    }
}

/// Deterministic mutations of every corpus file: truncation at many points, and single
/// bytes replaced by characters that matter to JSON and to our walk.
#[test]
fn mutated_corpus_never_panics() {
    let replacements = b"{}[]\":,0-9.ntfe \\\x00\xff";
    for file in corpus() {
        let step = (file.len() / 80).max(1);
        for cut in (0..file.len()).step_by(step) {
            parse_both(&file[..cut]);
            for &b in replacements {
                let mut mutated = file.clone();
                mutated[cut] = b;
                parse_both(&mutated);
            }
        }
    }
}

/// Structurally valid JSON with the right names but values of every wrong type.
#[test]
fn wrong_types_at_every_node_never_panic() {
    use serde_json::Value;
    fn visit(root: &Value, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        out.push(path.clone());
        match root {
            Value::Object(map) => {
                for (k, v) in map {
                    path.push(PathStep::Key(k.clone()));
                    visit(v, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    visit(v, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    #[derive(Clone)]
    enum PathStep {
        Key(String),
        Index(usize),
    }
    fn at<'a>(v: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
        path.iter().fold(v, |v, step| match step {
            PathStep::Key(k) => &mut v[k.as_str()],
            PathStep::Index(i) => &mut v[*i],
        })
    }
    let replacements = [
        Value::Null,
        Value::Bool(true),
        serde_json::json!(-1),
        serde_json::json!(1e300),
        serde_json::json!(""),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([null]),
    ];
    for name in [
        "cisco/Luminaire_150.json",
        "namib/Ring-Doorbell.json",
        "osmud-negative/MUDFILE.NEST",
    ] {
        let original: Value =
            serde_json::from_slice(&std::fs::read(format!("{CORPUS}/{name}")).unwrap()).unwrap();
        let mut paths = Vec::new();
        visit(&original, &mut Vec::new(), &mut paths);
        for path in &paths {
            for replacement in &replacements {
                let mut v = original.clone();
                *at(&mut v, path) = replacement.clone();
                parse_both(v.to_string().as_bytes());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_both(&bytes);
    }

    /// Random splices of corpus files reach deeper into the walker than random bytes do.
    #[test]
    fn spliced_corpus_never_panics(a in 0usize..64, b in 0usize..64, at in 0.0f64..1.0, len in 0usize..400) {
        let files = corpus();
        let (x, y) = (&files[a % files.len()], &files[b % files.len()]);
        // Truncation of the float to an index is the point here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let cut = (at * x.len() as f64) as usize;
        let mut spliced = x[..cut].to_vec();
        spliced.extend(y.iter().skip(cut).take(len));
        spliced.extend(&x[cut.min(x.len())..]);
        parse_both(&spliced);
    }
}
