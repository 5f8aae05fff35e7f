//! The assessment outcome computed from verdicts and the catalog, the signed `conformance`
//! claim that must agree with it, issue-time checks, and the JSON Schema agreeing with the
//! serde types.

use label::*;
use serde_json::Value;
use time::macros::{date, datetime};

fn with_verdicts(list: &[(&str, Verdict)]) -> Claims {
    let mut c = example_claims();
    c.assessment.verdicts = list
        .iter()
        .map(|(p, v)| ProvisionVerdict {
            provision: (*p).into(),
            verdict: *v,
            evidence: vec![],
        })
        .collect();
    c
}

const NOW: time::OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

#[test]
fn outcome_follows_mandatory_failures_only() {
    // 5.1-1 is mandatory (M), 5.3-9 is recommended (R C(12)) in V2.1.1.
    let cat = baseline::Catalog::embedded();
    assert!(cat.provision("5.1-1").unwrap().status.is_mandatory());
    assert!(!cat.provision("5.3-9").unwrap().status.is_mandatory());

    let c = with_verdicts(&[("5.1-1", Verdict::Pass), ("5.3-9", Verdict::Fail)]);
    let k = c.conformance();
    assert_eq!(k.outcome, Outcome::Conformant, "{k:?}");
    // At level mandatory+recommended the recommended failure counts.
    let mut strict = c.clone();
    strict.baseline.level = "mandatory+recommended".into();
    assert_eq!(strict.conformance().outcome, Outcome::NonConformant);
    assert_eq!(strict.conformance().failing, ["5.3-9"]);

    let c = with_verdicts(&[
        ("5.1-1", Verdict::Fail),
        ("5.1-2", Verdict::Fail),
        ("5.3-13", Verdict::CannotTell),
    ]);
    let k = c.conformance();
    assert_eq!(k.outcome, Outcome::NonConformant);
    assert_eq!(k.failing, ["5.1-1", "5.1-2"]);
    assert_eq!(k.undecided, ["5.3-13"]);
    assert!(
        k.plain_words().contains("does NOT conform"),
        "{}",
        k.plain_words()
    );
    assert!(k.plain_words_fr().contains("NON conforme"));

    let none = with_verdicts(&[]);
    assert_eq!(none.conformance().outcome, Outcome::NotAssessed);

    // Another baseline: nothing is known about its provisions, so any fail counts.
    let mut other = with_verdicts(&[("X-1", Verdict::Fail)]);
    other.baseline.id = "somebody-elses-scheme".into();
    assert_eq!(other.conformance().outcome, Outcome::NonConformant);
}

#[test]
fn summary_never_says_valid_for_a_label_that_does_not_conform() {
    let failing = with_verdicts(&[("5.1-1", Verdict::Fail)]).conformance();
    let passing = with_verdicts(&[("5.1-1", Verdict::Pass)]).conformance();
    let unassessed = with_verdicts(&[]).conformance();
    let active = Status::Active;
    assert!(summary_words(&active, &passing).starts_with("Valid"));
    assert!(summary_words_fr(&active, &passing).starts_with("Valide"));
    for k in [&failing, &unassessed] {
        for s in [summary_words(&active, k), summary_words_fr(&active, k)] {
            assert!(!s.starts_with("Valid"), "{s}");
        }
        assert!(!is_good(&active, k));
    }
    assert!(is_good(&active, &passing));
    assert!(!is_good(&Status::Expired, &passing));
}

#[test]
fn a_conformance_claim_must_agree_with_the_verdicts() {
    let key = generate_key().unwrap();
    let mut c = with_verdicts(&[("5.1-1", Verdict::Fail)]);
    c.conformance = Some(ConformanceClaim {
        outcome: Outcome::Conformant,
        failing: vec![],
    });
    let e = sign(&c, &key).unwrap_err();
    assert!(
        e.to_string().contains("`conformance` says conformant"),
        "{e}"
    );
    c.conformance = Some(c.conformance().claim());
    let signed = sign(&c, &key).unwrap();
    let v = verify(&signed, &[key.verifying_key()]).unwrap();
    assert_eq!(
        v.claims.conformance.unwrap(),
        ConformanceClaim {
            outcome: Outcome::NonConformant,
            failing: vec!["5.1-1".into()]
        }
    );
}

#[test]
fn issue_time_checks_name_each_problem() {
    let ok = example_claims();
    ok.check_issuable(NOW, false).unwrap();

    let mut c = example_claims();
    c.support.end_date = date!(9999 - 12 - 31);
    let e = c.check_issuable(NOW, false).unwrap_err();
    assert!(
        e[0].contains("support.end-date") && e[0].contains("15 years"),
        "{e:?}"
    );
    c.support.end_date = date!(2025 - 01 - 01);
    let e = c.check_issuable(NOW, false).unwrap_err();
    assert!(e[0].contains("in the past"), "{e:?}");

    let mut c = example_claims();
    c.validity.not_after = datetime!(2026-02-01 00:00:00 UTC);
    c.validity.not_before = datetime!(2026-01-01 00:00:00 UTC);
    let e = c.check_issuable(NOW, false).unwrap_err();
    assert!(e[0].contains("validity.not-after"), "{e:?}");

    let mut c = example_claims();
    c.assessment.verdicts[0].provision = "9.9-9".into();
    let e = c.check_issuable(NOW, false).unwrap_err();
    assert!(e.iter().any(|p| p.contains("\"9.9-9\"")), "{e:?}");

    let mut c = example_claims();
    c.baseline.level = "gold".into();
    assert!(c.check_issuable(NOW, false).unwrap_err()[0].contains("baseline.level"));

    let mut c = example_claims();
    c.assessment.date = date!(2026 - 06 - 01);
    assert!(c.check_issuable(NOW, false).unwrap_err()[0].contains("future"));

    let failing = with_verdicts(&[("5.1-1", Verdict::Fail), ("5.6-1", Verdict::Fail)]);
    let e = failing.check_issuable(NOW, false).unwrap_err();
    assert!(
        e[0].contains("5.1-1, 5.6-1") && e[0].contains("--non-conformant"),
        "{e:?}"
    );
    failing.check_issuable(NOW, true).unwrap();
}

#[test]
fn key_type_errors_are_in_words() {
    // An EC P-256 public key (SPKI PEM): not Ed25519.
    let ec = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVvYWTNR8Nq6DN3w6CE9O3aJeeTX7\nNdFd1wAwqMkBQg1K9z7oyuVZ2pKp4FYKDPUu6C3jS+Zx7pCmBzu+CjD5zg==\n-----END PUBLIC KEY-----\n";
    let e = verifying_key_from_pem(ec).unwrap_err().to_string();
    assert!(
        e.contains("an Ed25519 public key from `trustgate keygen`"),
        "{e}"
    );
    assert!(!e.contains("1.2.840"), "no OIDs: {e}");
    let key = generate_key().unwrap();
    let pub_pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
    let e = signing_key_from_pem(&pub_pem).unwrap_err().to_string();
    assert!(
        e.contains("Ed25519 private key") && e.contains("it is a public key"),
        "{e}"
    );
    let priv_pem = signing_key_to_pem(&key).unwrap();
    let e = verifying_key_from_pem(&priv_pem).unwrap_err().to_string();
    assert!(e.contains("it is a private key"), "{e}");
}

fn schema() -> Value {
    serde_json::from_str(schema::CLAIMS_SCHEMA).unwrap()
}

#[test]
fn the_example_and_the_template_validate_against_the_schema() {
    let example: Value = serde_json::from_str(&example_claims().to_json_pretty()).unwrap();
    schema::validate(&example).unwrap();
    let t = schema::template_json(NOW.date());
    let v: Value = serde_json::from_str(&t).unwrap();
    schema::validate(&v).unwrap();
    let claims = Claims::from_json(&t).unwrap();
    claims.check_issuable(NOW, false).unwrap();
    // With its conformance claim, as `label issue` writes it.
    let mut c = claims.clone();
    c.conformance = Some(c.conformance().claim());
    schema::validate(&serde_json::to_value(&c).unwrap()).unwrap();
    // The commented template has a comment for every field and, without comments, is the
    // same document.
    let commented = schema::template_commented(NOW.date());
    assert!(
        commented.contains("// (required) Last day security updates are promised"),
        "{commented}"
    );
    let stripped: String = commented
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(serde_json::from_str::<Value>(&stripped).unwrap(), v);
}

#[test]
fn schema_refuses_what_serde_refuses() {
    let good: Value = serde_json::to_value(example_claims()).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "/colour",
            Box::new(|v| {
                v["colour"] = "red".into();
            }),
        ),
        (
            "/support/end-date",
            Box::new(|v| {
                v["support"]["end-date"] = "31/12/2030".into();
            }),
        ),
        (
            "/software/0/image-sha256",
            Box::new(|v| {
                v["software"][0]["image-sha256"] = "ABC".into();
            }),
        ),
        (
            "/assessment/verdicts/0/verdict",
            Box::new(|v| {
                v["assessment"]["verdicts"][0]["verdict"] = "maybe".into();
            }),
        ),
        (
            "/credentials-policy",
            Box::new(|v| {
                v["credentials-policy"] = "admin".into();
            }),
        ),
        (
            "/baseline/level",
            Box::new(|v| {
                v["baseline"]["level"] = "gold".into();
            }),
        ),
    ];
    for (pointer, edit) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let e = schema::validate(&v).unwrap_err();
        let at = pointer
            .rsplit_once('/')
            .map(|(a, _)| if a.is_empty() { "/" } else { a })
            .unwrap();
        assert!(
            e.iter()
                .any(|m| m.starts_with(pointer) || m.starts_with(&format!("{at}:"))),
            "{pointer}: {e:?}"
        );
        // The level is checked at issue time (`check_issuable`), not by every reader.
        if pointer != "/baseline/level" {
            assert!(
                Claims::from_json(&v.to_string()).is_err(),
                "serde refuses {pointer} too"
            );
        }
    }
}

/// Every property the schema names is a serde field, and every serde field is in the schema.
#[test]
fn schema_properties_are_the_serde_fields() {
    let mut c = example_claims();
    c.assessment.verdicts[0].verdict = Verdict::Fail;
    c.assessment.verdicts[1].evidence = vec![Sha256Digest::of(b"e")];
    c.conformance = Some(c.conformance().claim());
    c.vulnerability_disclosure.contact = Some("mailto:x@example.org".into());
    let full = serde_json::to_value(&c).unwrap();
    let s = schema();
    fn walk(schema: &Value, root: &Value, value: &Value, path: String) {
        let node = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => &root["$defs"][r.trim_start_matches("#/$defs/")],
            None => schema,
        };
        if let (Some(props), Some(obj)) = (node.get("properties"), value.as_object()) {
            let props = props.as_object().unwrap();
            for k in obj.keys() {
                assert!(props.contains_key(k), "{path}/{k} is not in the schema");
            }
            for (k, sub) in props {
                if let Some(v) = obj.get(k) {
                    walk(sub, root, v, format!("{path}/{k}"));
                } else {
                    // Optional fields absent from the example are still fields of the type:
                    // the example with everything set must have them.
                    panic!("{path}/{k} is in the schema but not a field of the claims");
                }
            }
        }
        if let (Some(items), Some(arr)) = (node.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                walk(items, root, v, format!("{path}/{i}"));
            }
        }
    }
    walk(&s, &s, &full, String::new());
}
