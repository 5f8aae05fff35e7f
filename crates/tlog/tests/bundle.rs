//! Offline proof bundles end to end: log, sign, bundle, JSON, verify, tamper.

use tlog::checkpoint::CheckpointError;
use tlog::note::NoteError;
use tlog::{
    verify, BundleError, Checkpoint, LogVerifier, MemoryLog, NoteSigner, ProofBundle, VerifyError,
    BUNDLE_FORMAT,
};

const ORIGIN: &str = "registry.trustgate.example/log";

struct Setup {
    log: MemoryLog,
    signer: NoteSigner,
    verifier: LogVerifier,
}

fn setup() -> Setup {
    let mut log = MemoryLog::new();
    for i in 0..1000 {
        log.append(format!("label issuance {i}").into_bytes());
    }
    let signer = NoteSigner::from_seed(ORIGIN, &[42; 32]).unwrap();
    let verifier = LogVerifier::new(signer.verifier_key());
    Setup {
        log,
        signer,
        verifier,
    }
}

fn bundle_at(s: &Setup, index: u64, size: u64) -> ProofBundle {
    let cp = Checkpoint::new(ORIGIN, size, s.log.root_at(size).unwrap());
    let signed = cp.sign(&[&s.signer]).unwrap();
    ProofBundle::build(
        s.log.entry(index).unwrap().to_vec(),
        index,
        &cp,
        signed,
        &s.log,
    )
    .unwrap()
}

#[test]
fn bundles_verify_offline_after_a_json_round_trip() {
    let s = setup();
    for (index, size) in [(0, 1), (0, 1000), (499, 500), (999, 1000), (513, 777)] {
        let b = bundle_at(&s, index, size);
        let json = b.to_json();
        let back = ProofBundle::from_json(&json).unwrap();
        assert_eq!(back, b);
        let v = verify(&back, &s.verifier).unwrap();
        assert_eq!(v.entry, s.log.entry(index).unwrap());
        assert_eq!(v.leaf_index, index);
        assert_eq!(v.leaf_hash, s.log.leaf_hash(index).unwrap());
        assert_eq!(v.checkpoint.size, size);
        assert_eq!(v.checkpoint.origin, ORIGIN);
    }
}

#[test]
fn the_json_form_is_the_documented_one() {
    let s = setup();
    let b = bundle_at(&s, 3, 4);
    let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
    assert_eq!(v["format"], BUNDLE_FORMAT);
    assert_eq!(v["leaf_index"], 3);
    // "label issuance 3" in standard base64.
    assert_eq!(v["entry"], "bGFiZWwgaXNzdWFuY2UgMw==");
    assert_eq!(v["inclusion_proof"].as_array().unwrap().len(), 2);
    assert!(v["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{ORIGIN}\n4\n")));
}

#[test]
fn tampered_bundles_fail() {
    let s = setup();
    let good = bundle_at(&s, 513, 777);
    verify(&good, &s.verifier).unwrap();

    let mut b = good.clone();
    b.entry.push(b'!');
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Inclusion(VerifyError::RootMismatch))
    ));

    for index in [512, 514, 0, 776] {
        let mut b = good.clone();
        b.leaf_index = index;
        assert!(verify(&b, &s.verifier).is_err(), "index {index}");
    }
    let mut b = good.clone();
    b.leaf_index = 777;
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Inclusion(VerifyError::IndexOutOfRange { .. }))
    ));

    for i in 0..good.inclusion_proof.len() {
        let mut b = good.clone();
        b.inclusion_proof[i].0[5] ^= 0x10;
        assert!(verify(&b, &s.verifier).is_err());
    }
    let mut b = good.clone();
    b.inclusion_proof.pop();
    assert!(verify(&b, &s.verifier).is_err());

    // The checkpoint's size or root changed: its signature no longer holds.
    let mut b = good.clone();
    b.checkpoint = b.checkpoint.replacen("\n777\n", "\n778\n", 1);
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Checkpoint(CheckpointError::Note(
            NoteError::InvalidSignature { .. }
        )))
    ));

    // A checkpoint of the right shape signed by another key.
    let other = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
    let cp = Checkpoint::new(ORIGIN, 777, s.log.root_at(777).unwrap());
    let mut b = good.clone();
    b.checkpoint = cp.sign(&[&other]).unwrap();
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Checkpoint(CheckpointError::Note(
            NoteError::NoKnownSignature
        )))
    ));

    // Right key, another log's origin.
    let mut b = good.clone();
    b.checkpoint = Checkpoint::new("elsewhere.example/log", 777, s.log.root_at(777).unwrap())
        .sign(&[&s.signer])
        .unwrap();
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Checkpoint(CheckpointError::WrongOrigin { .. }))
    ));

    let mut b = good.clone();
    b.format = "trustgate-tlog-proof-bundle/v2".into();
    assert!(matches!(
        verify(&b, &s.verifier),
        Err(BundleError::Format(_))
    ));
}

#[test]
fn malformed_json_is_rejected() {
    let s = setup();
    let json = bundle_at(&s, 1, 2).to_json();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();

    let mut extra = v.clone();
    extra["note"] = "hi".into();
    assert!(ProofBundle::from_json(&extra.to_string()).is_err());

    let mut missing = v.clone();
    missing.as_object_mut().unwrap().remove("checkpoint");
    assert!(ProofBundle::from_json(&missing.to_string()).is_err());

    // "bGFiZWwgaXNzdWFuY2UgMQ==" without padding.
    v["entry"] = "bGFiZWwgaXNzdWFuY2UgMQ".into();
    assert!(ProofBundle::from_json(&v.to_string()).is_err());

    let mut short = serde_json::from_str::<serde_json::Value>(&json).unwrap();
    short["inclusion_proof"][0] = "AAAA".into();
    assert!(ProofBundle::from_json(&short.to_string()).is_err());

    let huge = " ".repeat(tlog::bundle::MAX_BUNDLE_JSON + 1);
    assert!(ProofBundle::from_json(&huge).is_err());
}

/// The label's bundle with statements about it, all against the same checkpoint.
fn bundle_with_statements(s: &Setup, index: u64, statements: &[u64], size: u64) -> ProofBundle {
    let cp = Checkpoint::new(ORIGIN, size, s.log.root_at(size).unwrap());
    let mut b = bundle_at(s, index, size);
    b.statements = Some(
        statements
            .iter()
            .map(|&i| {
                tlog::BundledEntry::build(s.log.entry(i).unwrap().to_vec(), i, &cp, &s.log).unwrap()
            })
            .collect(),
    );
    b
}

#[test]
fn statements_are_proven_against_the_bundle_checkpoint() {
    let s = setup();
    let b = bundle_with_statements(&s, 3, &[10, 700], 800);
    let back = ProofBundle::from_json(&b.to_json()).unwrap();
    assert_eq!(back, b);
    let v = verify(&back, &s.verifier).unwrap();
    let st = v.statements.unwrap();
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].leaf_index, 10);
    assert_eq!(st[1].entry, s.log.entry(700).unwrap());

    // An empty list is "checked: none", distinct from an absent one.
    let mut empty = bundle_at(&s, 3, 800);
    empty.statements = Some(vec![]);
    assert_eq!(
        verify(&empty, &s.verifier).unwrap().statements,
        Some(vec![])
    );
    let old = bundle_at(&s, 3, 800);
    assert!(!old.to_json().contains("statements"), "old form unchanged");
    assert_eq!(verify(&old, &s.verifier).unwrap().statements, None);

    // A statement whose bytes were changed, or whose proof is for another checkpoint.
    let mut t = b.clone();
    t.statements.as_mut().unwrap()[1].entry[0] ^= 1;
    assert!(matches!(
        verify(&t, &s.verifier),
        Err(BundleError::Statement {
            index: 1,
            leaf_index: 700,
            ..
        })
    ));
    let other_cp = bundle_with_statements(&s, 3, &[10, 700], 900);
    let mut t = b.clone();
    t.statements = other_cp.statements;
    assert!(matches!(
        verify(&t, &s.verifier),
        Err(BundleError::Statement { .. })
    ));
    // The same leaf twice (or the label's own leaf as a statement) is refused.
    let dup = bundle_with_statements(&s, 3, &[10, 10], 800);
    assert!(matches!(
        verify(&dup, &s.verifier),
        Err(BundleError::Statement { index: 1, .. })
    ));
    let own = bundle_with_statements(&s, 3, &[3], 800);
    assert!(matches!(
        verify(&own, &s.verifier),
        Err(BundleError::Statement { index: 0, .. })
    ));
}
