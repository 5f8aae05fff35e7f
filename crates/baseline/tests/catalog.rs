//! Tests of the embedded catalog's content and of the loader's validation.

use std::collections::{BTreeMap, HashSet};

use baseline::{render_table, Catalog, CatalogError, Level, Strength};

/// Provisions per clause in ETSI EN 303 645 V2.1.1 (2020-06), clauses 5.1–5.13 and 6.
///
/// Source of these numbers: the V2.1.1 Table B.1 provision list as we know it, cross-checked
/// in this session against a third-party transcription of the later V3.1.x Table B.1
/// (github content found via code search, "Table B.1: Implementation of provisions for
/// consumer IoT security") by removing the provisions V3 added or split: 5.1-2A; 5.3-4A/B,
/// 5.3-6A/B, 5.3-15A/B; 5.6-4A/B; 5.13-1B; 6-3A/B, 6-6, 6-7, 6-8 (and clause 5.0). Clause
/// 5.13 has a single provision numbered 5.13-1A in V2.1.1.
const EXPECTED_PER_CLAUSE: [(&str, usize); 14] = [
    ("5.1", 5),
    ("5.2", 3),
    ("5.3", 16),
    ("5.4", 4),
    ("5.5", 8),
    ("5.6", 9),
    ("5.7", 2),
    ("5.8", 3),
    ("5.9", 3),
    ("5.10", 1),
    ("5.11", 4),
    ("5.12", 3),
    ("5.13", 1),
    ("6", 5),
];

fn catalog() -> Catalog {
    Catalog::try_embedded().expect("embedded catalog loads")
}

#[test]
fn ids_are_unique_and_well_formed() {
    let c = catalog();
    let mut seen = HashSet::new();
    for p in &c.provisions {
        assert!(seen.insert(p.id.as_str()), "duplicate {}", p.id);
        let (clause, item) = p.id.split_once('-').expect("id has a dash");
        assert!(
            EXPECTED_PER_CLAUSE.iter().any(|(c, _)| *c == clause),
            "{}: clause {clause} is not one of 5.1-5.13, 6",
            p.id
        );
        let digits = item.trim_end_matches(|ch: char| ch.is_ascii_uppercase());
        assert!(item.len() - digits.len() <= 1, "{}", p.id);
        assert!(
            !digits.starts_with('0') && digits.parse::<u32>().is_ok(),
            "{}",
            p.id
        );
        assert_eq!(p.clause(), clause);
    }
}

#[test]
fn counts_per_clause_match_v2_1_1() {
    let c = catalog();
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &c.provisions {
        *got.entry(p.clause()).or_default() += 1;
    }
    for (clause, n) in EXPECTED_PER_CLAUSE {
        assert_eq!(got.get(clause).copied(), Some(n), "clause {clause}");
    }
    assert_eq!(got.len(), EXPECTED_PER_CLAUSE.len());
    assert_eq!(c.provisions.len(), 67);
    // by_group returns the same partition, in document order
    let groups = c.by_group();
    let order: Vec<&str> = groups.iter().map(|g| g.clause).collect();
    let expected: Vec<&str> = EXPECTED_PER_CLAUSE.iter().map(|(c, _)| *c).collect();
    assert_eq!(order, expected);
    assert_eq!(groups[0].title, "No universal default passwords");
    assert_eq!(groups[2].title, "Keep software updated");
    assert_eq!(
        groups[13].title,
        "Data protection provisions for consumer IoT"
    );
}

#[test]
fn specific_statuses() {
    let c = catalog();
    let p = c.provision("5.1-1").unwrap();
    assert_eq!(p.status.level, Level::Mandatory);
    assert!(p.status.is_conditional(), "5.1-1 is mandatory-conditional");
    assert_eq!(p.status.to_string(), "M C(1)");

    let p = c.provision("5.3-13").unwrap();
    assert!(p.status.is_mandatory() && !p.status.is_conditional());
    assert_eq!(p.status.to_string(), "M");

    // other anchors cross-checked in the session
    for id in ["5.2-1", "5.3-16", "5.8-3", "5.11-1", "5.13-1A", "6-1"] {
        assert_eq!(c.provision(id).unwrap().status.to_string(), "M", "{id}");
    }
    for id in ["5.3-14", "5.3-15"] {
        assert_eq!(
            c.provision(id).unwrap().status.to_string(),
            "R C(3)",
            "{id}"
        );
    }
    assert!(c.provision("5.1-2A").is_none(), "5.1-2A is a V3 addition");
    assert!(c.provision("5.0-1").is_none(), "5.0-1 is a V3 addition");
}

#[test]
fn mandatory_and_conditions() {
    let c = catalog();
    let m = c.mandatory();
    assert!(m.iter().all(|p| p.status.is_mandatory()));
    assert_eq!(
        m.len(),
        c.provisions
            .iter()
            .filter(|p| p.status.level == Level::Mandatory)
            .count()
    );
    assert!(m.iter().any(|p| p.id == "5.1-1"));
    assert!(!m.iter().any(|p| p.id == "5.2-2"));
    for p in &c.provisions {
        for n in &p.status.conditions {
            assert!(c.condition(*n).is_some(), "{}: condition {n}", p.id);
        }
        // unconfirmed condition numbers must be flagged in notes (the data's own rule)
        let only_seen = p.status.conditions.iter().all(|n| *n == 3 || *n == 12);
        if !only_seen {
            assert!(
                p.notes
                    .as_deref()
                    .is_some_and(|n| n.contains("not confirmed")),
                "{}: unconfirmed condition without a note",
                p.id
            );
        }
    }
}

#[test]
fn paraphrases_are_one_line_and_our_own() {
    for p in &catalog().provisions {
        assert!(
            !p.paraphrase.contains('\n') && p.paraphrase.len() <= 220,
            "{}",
            p.id
        );
        // ETSI's normative wording uses shall/should; our paraphrases do not quote it.
        let lower = p.paraphrase.to_lowercase();
        assert!(
            !lower.contains("shall") && !lower.contains("should"),
            "{}",
            p.id
        );
    }
}

#[test]
fn every_mapping_resolves() {
    let c = catalog();
    assert_eq!(c.frameworks.len(), 2);
    for fw in &c.frameworks {
        for r in &fw.requirements {
            let resolved = c.mapped_from(&fw.id, &r.id).unwrap();
            assert_eq!(resolved.len(), r.maps_to.len(), "{} {}", fw.id, r.id);
            for (m, p) in r.maps_to.iter().zip(&resolved) {
                assert_eq!(m.provision, p.id);
            }
        }
    }
    assert!(c.mapped_from("uk-psti", "4").is_none());
    assert!(c.mapped_from("nope", "1").is_none());
}

#[test]
fn psti_schedule_2_deemed_compliance() {
    let c = catalog();
    let fw = c.framework("uk-psti").unwrap();
    assert_eq!(fw.requirements.len(), 3);
    let ids = |req: &str| -> Vec<String> {
        c.mapped_from("uk-psti", req)
            .unwrap()
            .iter()
            .map(|p| p.id.clone())
            .collect()
    };
    assert_eq!(ids("1"), ["5.1-1", "5.1-2"]);
    assert_eq!(ids("2"), ["5.2-1"]);
    assert_eq!(ids("3"), ["5.3-13"]);
    assert!(fw
        .requirements
        .iter()
        .flat_map(|r| &r.maps_to)
        .all(|m| m.strength == Strength::Deemed));
    // reverse lookup
    let back = c.mappings_to("5.3-13");
    assert!(back
        .iter()
        .any(|(f, r, _)| f.id == "uk-psti" && r.id == "3"));
}

#[test]
fn nist_ir_8425_outcomes() {
    let c = catalog();
    let fw = c.framework("nist-ir-8425").unwrap();
    let ids: Vec<&str> = fw.requirements.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "asset-identification",
            "product-configuration",
            "data-protection",
            "interface-access-control",
            "software-update",
            "cybersecurity-state-awareness",
            "documentation",
            "information-and-query-reception",
            "information-dissemination",
            "product-education-and-awareness",
        ]
    );
    // our NIST mappings are judgement calls and are all marked approximate
    assert!(fw
        .requirements
        .iter()
        .flat_map(|r| &r.maps_to)
        .all(|m| m.strength == Strength::Approximate));
    assert!(fw.requirements.iter().all(|r| !r.maps_to.is_empty()));
}

#[test]
fn render_table_lists_everything() {
    let c = catalog();
    let t = render_table(&c);
    for p in &c.provisions {
        assert!(
            t.lines().any(|l| l.starts_with(&format!("{} ", p.id))),
            "{}",
            p.id
        );
    }
    assert!(t.contains("5.1 No universal default passwords"));
    assert!(t.contains("=5.3-13"));
    assert!(t.contains("~5.2-1"));
    assert!(t.contains("V2.1.1"));
    assert_eq!(t, render_table(&c), "deterministic");
}

#[test]
fn serializes_to_json() {
    let c = catalog();
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["provisions"][0]["id"], "5.1-1");
    assert_eq!(v["provisions"][0]["status"], "M C(1)");
    assert_eq!(v["frameworks"][0]["id"], "uk-psti");
}

// ---- loader rejections --------------------------------------------------------------------

/// A small valid single-file catalog to mutate.
fn small() -> serde_json::Value {
    serde_json::json!({
        "baseline": {
            "id": "t", "name": "Test baseline", "version": "1",
            "conditions": [{ "number": 1, "text": "passwords are used" }],
            "provisions": [
                { "id": "5.1-1", "group": "Passwords", "status": "M C(1)", "paraphrase": "Unique passwords." },
                { "id": "5.1-2", "group": "Passwords", "status": "R", "paraphrase": "Good generation." },
                { "id": "5.2-1", "group": "Disclosure", "status": "M", "paraphrase": "Publish a policy." }
            ]
        },
        "frameworks": [{
            "id": "fw", "name": "Framework", "version": "1", "source": "here",
            "requirements": [
                { "id": "1", "title": "Passwords", "summary": "No defaults.",
                  "maps_to": [{ "provision": "5.1-1", "strength": "deemed" }] }
            ]
        }]
    })
}

fn load(v: &serde_json::Value) -> Result<Catalog, CatalogError> {
    Catalog::from_json("alt/catalog.json", &v.to_string())
}

fn rejected(v: &serde_json::Value) -> String {
    let e = load(v).expect_err("catalog should be rejected");
    let msg = e.to_string();
    assert!(
        msg.starts_with("alt/catalog.json: "),
        "path not named: {msg}"
    );
    msg
}

#[test]
fn small_catalog_loads() {
    let c = load(&small()).unwrap();
    assert_eq!(c.provisions.len(), 3);
    assert_eq!(c.mapped_from("fw", "1").unwrap()[0].id, "5.1-1");
}

#[test]
fn rejects_dangling_mapping() {
    let mut v = small();
    v["frameworks"][0]["requirements"][0]["maps_to"][0]["provision"] = "5.9-9".into();
    let msg = rejected(&v);
    assert!(msg.contains(r#"framework "fw" requirement "1""#), "{msg}");
    assert!(msg.contains(r#"unknown provision "5.9-9""#), "{msg}");
}

#[test]
fn rejects_duplicate_id() {
    let mut v = small();
    v["baseline"]["provisions"][1]["id"] = "5.1-1".into();
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"provision "5.1-1""#) && msg.contains("duplicate"),
        "{msg}"
    );
}

#[test]
fn rejects_bad_status() {
    let mut v = small();
    v["baseline"]["provisions"][1]["status"] = "Mandatory".into();
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"provision "5.1-2""#) && msg.contains("bad status"),
        "{msg}"
    );

    let mut v = small();
    v["baseline"]["provisions"][2]["status"] = "M C(7)".into();
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"provision "5.2-1""#) && msg.contains("condition 7"),
        "{msg}"
    );
}

#[test]
fn rejects_malformed_id() {
    for bad in ["5.1.1", "5.1-01", "5.1-1ab", "P5.1-1"] {
        let mut v = small();
        v["baseline"]["provisions"][0]["id"] = bad.into();
        let msg = rejected(&v);
        assert!(
            msg.contains(&format!("provision {bad:?}")) && msg.contains("malformed"),
            "{msg}"
        );
    }
}

#[test]
fn rejects_inconsistent_group_and_scattered_clause() {
    let mut v = small();
    v["baseline"]["provisions"][1]["group"] = "Other".into();
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"provision "5.1-2""#) && msg.contains("differs"),
        "{msg}"
    );

    let mut v = small();
    let provs = v["baseline"]["provisions"].as_array_mut().unwrap();
    provs.swap(1, 2); // 5.1-1, 5.2-1, 5.1-2
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"provision "5.1-2""#) && msg.contains("not listed together"),
        "{msg}"
    );
}

#[test]
fn rejects_duplicate_requirement_and_framework() {
    let mut v = small();
    let req = v["frameworks"][0]["requirements"][0].clone();
    v["frameworks"][0]["requirements"]
        .as_array_mut()
        .unwrap()
        .push(req);
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"requirement "1""#) && msg.contains("duplicate"),
        "{msg}"
    );

    let mut v = small();
    let fw = v["frameworks"][0].clone();
    v["frameworks"].as_array_mut().unwrap().push(fw);
    let msg = rejected(&v);
    assert!(
        msg.contains(r#"framework "fw""#) && msg.contains("duplicate"),
        "{msg}"
    );
}

#[test]
fn rejects_unknown_fields_and_bad_json() {
    let mut v = small();
    v["baseline"]["provisions"][0]["mandatory"] = true.into();
    let msg = rejected(&v);
    assert!(msg.contains("unknown field `mandatory`"), "{msg}");

    let mut v = small();
    v["frameworks"][0]["requirements"][0]["maps_to"][0]["strength"] = "strong".into();
    let msg = rejected(&v);
    assert!(msg.contains("strong"), "{msg}");

    let e = Catalog::from_json("alt/catalog.json", "{").unwrap_err();
    assert!(matches!(e, CatalogError::Parse { .. }));
    assert!(e.to_string().starts_with("alt/catalog.json: "));
}

#[test]
fn embedded_documents_name_their_file() {
    let (path, text) = baseline::data::UK_PSTI;
    let broken = text.replace("\"5.3-13\"", "\"5.3-99\"");
    let e = Catalog::from_documents(baseline::data::ETSI_EN_303_645, &[(path, &broken)])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("crates/baseline/data/uk_psti_2023.json: "),
        "{e}"
    );
    assert!(e.contains(r#"framework "uk-psti" requirement "3""#), "{e}");
}

#[test]
fn load_from_file_and_missing_file() {
    let dir = std::env::temp_dir().join(format!("baseline-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("catalog.json");
    std::fs::write(&path, small().to_string()).unwrap();
    let c = Catalog::load(&path).unwrap();
    assert_eq!(c.id, "t");
    std::fs::remove_dir_all(&dir).unwrap();

    let e = Catalog::load(&dir.join("missing.json")).unwrap_err();
    assert!(matches!(e, CatalogError::Io { .. }));
    assert!(e.to_string().contains("missing.json"));
}

#[test]
fn single_file_form_matches_embedded() {
    let part = |(_, text): (&str, &str)| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let v = serde_json::json!({
        "baseline": part(baseline::data::ETSI_EN_303_645),
        "frameworks": [part(baseline::data::UK_PSTI), part(baseline::data::NIST_IR_8425)],
    });
    let alt = load(&v).unwrap();
    let emb = catalog();
    assert_eq!(alt.provisions, emb.provisions);
    assert_eq!(alt.frameworks, emb.frameworks);
    assert_eq!(alt.conditions, emb.conditions);
}
