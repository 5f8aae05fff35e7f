//! JSON rendering: round trip, kebab-case keys, unknown fields refused with
//! a message naming them, semantic validation.

use label::*;

fn json() -> serde_json::Value {
    serde_json::to_value(example_claims()).unwrap()
}

#[test]
fn json_round_trip() {
    let text = example_claims().to_json_pretty();
    assert_eq!(Claims::from_json(&text).unwrap(), example_claims());
}

#[test]
fn json_keys_are_kebab_case_and_formats_documented() {
    let v = json();
    for k in [
        "vulnerability-disclosure",
        "credentials-policy",
        "data-practices",
        "sbom-sha256",
        "network-profile",
    ] {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    assert_eq!(v["product"]["hardware-revision"], "B");
    assert_eq!(v["support"]["end-date"], "2030-12-31");
    assert_eq!(v["support"]["update-mode"], "automatic");
    assert_eq!(v["credentials-policy"], "unique-per-device");
    assert_eq!(v["assessment"]["verdicts"][1]["verdict"], "cannot-tell");
    assert_eq!(v["validity"]["not-before"], "2026-01-15T00:00:00Z");
    assert_eq!(
        v["software"][0]["image-sha256"],
        Sha256Digest::of(b"example firmware image").to_string()
    );
    // Absent optionals are omitted, never null.
    assert!(v["vulnerability-disclosure"].get("contact").is_none());
    // Empty evidence lists are omitted too.
    assert!(v["assessment"]["verdicts"][1].get("evidence").is_none());
}

#[test]
fn all_four_verdicts_parse() {
    for (text, verdict) in [
        ("pass", Verdict::Pass),
        ("fail", Verdict::Fail),
        ("cannot-tell", Verdict::CannotTell),
        ("not-applicable", Verdict::NotApplicable),
    ] {
        let mut v = json();
        v["assessment"]["verdicts"][0]["verdict"] = text.into();
        let c = Claims::from_json(&v.to_string()).unwrap();
        assert_eq!(c.assessment.verdicts[0].verdict, verdict);
    }
}

fn expect_json_error(v: serde_json::Value, needle: &str) {
    match Claims::from_json(&v.to_string()) {
        Err(ClaimsError::Json(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected Json error naming {needle:?}, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    let mut v = json();
    v["colour"] = "red".into();
    expect_json_error(v, "unknown field `colour`");

    let mut v = json();
    v["product"]["firmware"] = "x".into();
    expect_json_error(v, "unknown field `firmware`");

    let mut v = json();
    v["assessment"]["verdicts"][0]["score"] = 3.into();
    expect_json_error(v, "unknown field `score`");

    // snake_case spelling of a real field is unknown too.
    let mut v = json();
    let obj = v.as_object_mut().unwrap();
    let val = obj.remove("network-profile").unwrap();
    obj.insert("network_profile".into(), val);
    expect_json_error(v, "unknown field `network_profile`");
}

#[test]
fn bad_values_are_refused_with_their_reason() {
    let mut v = json();
    v["software"][0]["image-sha256"] = "abc".into();
    expect_json_error(v, "64 lowercase hex");

    let mut v = json();
    v["support"]["end-date"] = "31/12/2030".into();
    expect_json_error(v, "YYYY-MM-DD");

    let mut v = json();
    v["validity"]["not-after"] = "tomorrow".into();
    expect_json_error(v, "RFC 3339");

    let mut v = json();
    v["assessment"]["verdicts"][0]["verdict"] = "maybe".into();
    expect_json_error(v, "unknown variant `maybe`");

    let mut v = json();
    v.as_object_mut().unwrap().remove("support");
    expect_json_error(v, "missing field `support`");

    expect_json_error(serde_json::Value::String("x".into()), "invalid type");
}

fn expect_invalid(v: serde_json::Value, needle: &str) {
    match Claims::from_json(&v.to_string()) {
        Err(ClaimsError::Invalid(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected Invalid naming {needle:?}, got {other:?}"),
    }
}

#[test]
fn semantic_rules_are_enforced() {
    let mut v = json();
    v["schema"] = "trustgate-label/2".into();
    expect_invalid(v, "schema");

    let mut v = json();
    v["id"] = " ".into();
    expect_invalid(v, "`id`");

    let mut v = json();
    v["software"] = serde_json::json!([]);
    expect_invalid(v, "software");

    let mut v = json();
    v["assessment"]["verdicts"][1]["provision"] = "5.1-1".into();
    expect_invalid(v, "more than one verdict");

    let mut v = json();
    v["vulnerability-disclosure"] = serde_json::json!({});
    expect_invalid(v, "vulnerability-disclosure");

    let mut v = json();
    v["network-profile"]["mud-url"] = "http://acme.example/mud.json".into();
    expect_invalid(v, "mud-url");

    let mut v = json();
    v["manufacturer"]["security-contact"] = "call us".into();
    expect_invalid(v, "security-contact");

    let mut v = json();
    v["validity"]["not-before"] = "2032-01-01T00:00:00Z".into();
    expect_invalid(v, "not-before");
}

#[test]
fn instants_are_normalised_to_utc() {
    let mut v = json();
    v["validity"]["not-before"] = "2026-01-15T01:00:00+01:00".into();
    let c = Claims::from_json(&v.to_string()).unwrap();
    assert_eq!(c, example_claims());
    assert_eq!(
        serde_json::to_value(&c).unwrap()["validity"]["not-before"],
        "2026-01-15T00:00:00Z"
    );
}

#[test]
fn cbor_encoding_is_deterministic_and_round_trips() {
    let bytes = label::cbor::encode_deterministic(&example_claims());
    let back: Claims = label::cbor::decode_deterministic(&bytes).unwrap();
    assert_eq!(back, example_claims());
    // Top-level map of 16 entries, first key by §4.2.1 order is "id"
    // (shortest encoding: 0x62 'i' 'd').
    assert_eq!(bytes[0], 0xa0 + 16);
    assert_eq!(&bytes[1..4], &[0x62, b'i', b'd']);
}

#[test]
fn duplicate_keys_are_refused() {
    let text = example_claims().to_json_pretty();
    let dup = text.replacen("\"id\":", "\"id\": \"x\",\n  \"id\":", 1);
    match Claims::from_json(&dup) {
        Err(ClaimsError::Json(m)) => assert!(m.contains("duplicate field `id`"), "{m}"),
        other => panic!("{other:?}"),
    }
}

mod props {
    use label::*;
    use proptest::prelude::*;

    fn verdict() -> impl Strategy<Value = Verdict> {
        prop_oneof![
            Just(Verdict::Pass),
            Just(Verdict::Fail),
            Just(Verdict::CannotTell),
            Just(Verdict::NotApplicable)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Arbitrary text and verdict lists survive JSON and deterministic
        /// CBOR, and the CBOR is stable under re-encoding.
        #[test]
        fn claims_round_trip(
            id in "\\PC{1,40}",
            model in "\\PC{1,40}",
            verdicts in proptest::collection::btree_map("[0-9]\\.[0-9]{1,2}-[0-9]{1,2}", verdict(), 0..12),
            key_seed in any::<[u8; 32]>(),
        ) {
            prop_assume!(!id.trim().is_empty() && !model.trim().is_empty());
            let mut c = example_claims();
            c.id = id;
            c.product.model = model;
            c.assessment.verdicts = verdicts
                .into_iter()
                .map(|(provision, verdict)| ProvisionVerdict { provision, verdict, evidence: vec![] })
                .collect();
            prop_assert_eq!(&Claims::from_json(&c.to_json_pretty()).unwrap(), &c);
            let bytes = label::cbor::encode_deterministic(&c);
            let back: Claims = label::cbor::decode_deterministic(&bytes).unwrap();
            prop_assert_eq!(&back, &c);
            prop_assert_eq!(label::cbor::encode_deterministic(&back), bytes);
            let k = SigningKey::from_bytes(&key_seed);
            let signed = sign(&c, &k).unwrap();
            prop_assert_eq!(verify(&signed, &[k.verifying_key()]).unwrap().claims, c);
        }
    }
}
