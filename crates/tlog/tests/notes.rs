//! Signed notes and checkpoints: round trips and tampering.

use proptest::prelude::*;
use tlog::checkpoint::CheckpointError;
use tlog::note::{self, MAX_NOTE_SIZE, MAX_SIGNATURES};
use tlog::{leaf_hash, Checkpoint, LogVerifier, Note, NoteError, NoteSigner, VerifierKey};

fn signer(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, &[seed; 32]).unwrap()
}

fn signed(text: &str, signers: &[&NoteSigner]) -> String {
    let mut n = Note::new(text).unwrap();
    for s in signers {
        n.sign(s).unwrap();
    }
    n.to_text()
}

prop_compose! {
    fn key_name()(name in "[a-z0-9./_-]{1,40}") -> String { name }
}

prop_compose! {
    /// Note text: one or more lines of printable characters (some non-ASCII), blank lines
    /// allowed inside, ending in a newline.
    fn note_text()(lines in prop::collection::vec("[ -~éè—]{0,60}", 1..8)) -> String {
        let mut t = lines.join("\n");
        t.push('\n');
        t
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_parse_verify_round_trip(name in key_name(), seed in any::<[u8; 32]>(), text in note_text()) {
        let s = NoteSigner::from_seed(&name, &seed).unwrap();
        let vkey = s.verifier_key();
        prop_assert_eq!(VerifierKey::parse(&vkey.to_string()).unwrap(), vkey.clone());
        let msg = signed(&text, &[&s]);
        let parsed = Note::parse(msg.as_bytes()).unwrap();
        prop_assert_eq!(parsed.text(), text.as_str());
        prop_assert_eq!(parsed.to_text(), msg.clone());
        let v = note::open(msg.as_bytes(), &[vkey]).unwrap();
        prop_assert_eq!(v.text, text);
    }

    #[test]
    fn another_key_with_the_same_name_does_not_verify(seed in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
        prop_assume!(seed != other);
        let s = NoteSigner::from_seed("log.example/a", &seed).unwrap();
        let o = NoteSigner::from_seed("log.example/a", &other).unwrap();
        let msg = signed("hello\n", &[&s]);
        // Different key, so (almost surely) a different key ID: an unknown key, ignored.
        prop_assert!(note::open(msg.as_bytes(), &[o.verifier_key()]).is_err());
    }
}

#[test]
fn every_single_byte_change_of_a_signed_note_is_rejected() {
    let s = signer("example.com/log", 1);
    let msg = signed("example.com/log\n42\nAAAA\nline with — and é\n", &[&s]);
    let keys = [s.verifier_key()];
    note::open(msg.as_bytes(), &keys).unwrap();
    let bytes = msg.as_bytes();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut m = bytes.to_vec();
            m[i] ^= bit;
            assert!(
                note::open(&m, &keys).is_err(),
                "byte {i} ^ {bit:#x} accepted: {:?}",
                String::from_utf8_lossy(&m)
            );
        }
    }
    // Every truncation too.
    for len in 0..bytes.len() {
        assert!(
            note::open(&bytes[..len], &keys).is_err(),
            "truncated to {len}"
        );
    }
}

#[test]
fn unknown_signatures_are_ignored_but_a_bad_known_one_rejects_the_note() {
    let log = signer("log.example", 1);
    let witness = signer("witness.example", 2);
    let stranger = signer("stranger.example", 3);
    let text = "log.example\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let msg = signed(text, &[&log, &witness, &stranger]);

    let v = note::open(msg.as_bytes(), &[log.verifier_key()]).unwrap();
    assert_eq!(v.verified_by, vec![log.verifier_key()]);
    assert_eq!(v.unverified.len(), 2);
    let v = note::open(
        msg.as_bytes(),
        &[log.verifier_key(), witness.verifier_key()],
    )
    .unwrap();
    assert_eq!(v.verified_by.len(), 2);

    // Replace the witness signature with the stranger's bytes under the witness's name and ID:
    // a known key whose signature fails rejects the whole note, even though the log's verifies.
    let mut n = Note::parse(msg.as_bytes()).unwrap();
    let forged = {
        let sigs = n.signatures();
        let mut w = sigs[1].clone();
        w.signature = sigs[2].signature.clone();
        w
    };
    let lines: Vec<String> = n
        .signatures()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 1 {
                forged.to_line()
            } else {
                s.to_line()
            }
        })
        .collect();
    let tampered = format!("{text}\n{}\n", lines.join("\n"));
    assert_eq!(
        note::open(
            tampered.as_bytes(),
            &[log.verifier_key(), witness.verifier_key()]
        )
        .unwrap_err(),
        NoteError::InvalidSignature {
            name: "witness.example".into(),
            key_id: witness.key_id()
        }
    );
    // Without the witness key the forged line is just an unknown signature.
    assert!(note::open(tampered.as_bytes(), &[log.verifier_key()]).is_ok());
    n.sign(&log).unwrap();
    assert_eq!(
        n.signatures().len(),
        3,
        "re-signing replaces the log's line"
    );
}

#[test]
fn size_and_signature_count_bounds() {
    let s = signer("a", 1);
    // signed-note: verifiers MUST accept at least 16 signatures.
    let signers: Vec<NoteSigner> = (0..16).map(|i| signer(&format!("k{i}"), i)).collect();
    let refs: Vec<&NoteSigner> = signers.iter().collect();
    let msg = signed("text\n", &refs);
    let v = note::open(msg.as_bytes(), &[signers[15].verifier_key()]).unwrap();
    assert_eq!(v.unverified.len(), 15);

    let mut n = Note::new("text\n").unwrap();
    n.sign(&s).unwrap();
    let line = format!("{}\n", n.signatures()[0].to_line());
    let many = format!("text\n\n{}", line.repeat(MAX_SIGNATURES + 1));
    assert_eq!(
        Note::parse(many.as_bytes()).unwrap_err(),
        NoteError::TooManySignatures
    );
    let big = format!("{}\n\n{line}", "x".repeat(MAX_NOTE_SIZE));
    assert!(matches!(
        Note::parse(big.as_bytes()).unwrap_err(),
        NoteError::TooLarge { .. }
    ));
}

#[test]
fn malformed_signature_lines_are_rejected_with_their_reason() {
    let s = signer("a", 1);
    let mut n = Note::new("t\n").unwrap();
    n.sign(&s).unwrap();
    let b64 = n.signatures()[0]
        .to_line()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    for (line, why) in [
        (format!("- a {b64}"), "must start with an em dash"),
        (format!("—a {b64}"), "must start with an em dash"),
        (format!("— a  {b64}"), "canonical standard base64"),
        (format!("— a+b {b64}"), "key name"),
        ("— a AAAA".to_string(), "4-byte key ID"),
        (
            format!("— a {}", b64.trim_end_matches('=')),
            "canonical standard base64",
        ),
        ("— a".to_string(), "want a key name"),
    ] {
        let msg = format!("t\n\n{line}\n");
        match Note::parse(msg.as_bytes()) {
            Err(NoteError::MalformedSignature { line: 1, reason }) => {
                assert!(reason.contains(why), "{line:?}: {reason}")
            }
            other => panic!("{line:?}: {other:?}"),
        }
    }
    assert_eq!(Note::parse(b"t\n\n").unwrap_err(), NoteError::NoSignatures);
    assert!(matches!(
        Note::parse(b"t\r\n\n\xe2\x80\x94 a AAAAAAAA\n").unwrap_err(),
        NoteError::ControlCharacter { byte: b'\r', .. }
    ));
}

#[test]
fn verifier_keys_are_strict() {
    let k = signer("example.com/log", 9).verifier_key().to_string();
    assert!(VerifierKey::parse(&k).is_ok());
    // Uppercase key ID, wrong key ID, wrong name, trailing garbage.
    let (name, rest) = k.split_once('+').unwrap();
    let (id, b64) = rest.split_once('+').unwrap();
    let mut bad = vec![
        format!("{name}+00000000+{b64}"),
        format!("example.com/other+{id}+{b64}"),
        format!("{k}="),
        format!("{k} "),
        format!(" {k}"),
        format!("a b+{id}+{b64}"),
        format!("{name}+{id}+{}", &b64[1..]),
    ];
    // Key IDs are lowercase hex; an uppercase spelling is refused (when the ID has a letter).
    if id.to_uppercase() != id {
        bad.push(format!("{name}+{}+{b64}", id.to_uppercase()));
    }
    for bad in bad {
        assert!(VerifierKey::parse(&bad).is_err(), "accepted {bad:?}");
    }
    assert!(NoteSigner::from_seed("bad name", &[0; 32]).is_err());
}

// ----- checkpoints ------------------------------------------------------------------------------

#[test]
fn checkpoints_round_trip_and_verify() {
    let s = signer("trustgate.example/log", 4);
    let log = LogVerifier::new(s.verifier_key());
    let mut cp = Checkpoint::new("trustgate.example/log", 12345, leaf_hash(b"root"));
    let msg = cp.sign(&[&s]).unwrap();
    assert_eq!(log.verify_checkpoint(msg.as_bytes()).unwrap(), cp);

    cp.extensions = vec!["ext one".into(), "ext two".into()];
    let msg = cp.sign(&[&s]).unwrap();
    assert_eq!(log.verify_checkpoint(msg.as_bytes()).unwrap(), cp);

    // Empty tree.
    let empty = Checkpoint::new("trustgate.example/log", 0, tlog::EMPTY_ROOT);
    let msg = empty.sign(&[&s]).unwrap();
    assert!(msg
        .starts_with("trustgate.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"));
    assert_eq!(log.verify_checkpoint(msg.as_bytes()).unwrap(), empty);
}

#[test]
fn checkpoint_origin_and_key_must_be_the_logs() {
    let s = signer("trustgate.example/log", 4);
    let other = signer("trustgate.example/log", 5);
    let cp = Checkpoint::new("trustgate.example/other", 1, leaf_hash(b"x"));
    let msg = cp.sign(&[&s]).unwrap();
    assert_eq!(
        LogVerifier::new(s.verifier_key())
            .verify_checkpoint(msg.as_bytes())
            .unwrap_err(),
        CheckpointError::WrongOrigin {
            want: "trustgate.example/log".into(),
            got: "trustgate.example/other".into()
        }
    );
    assert!(LogVerifier::new(s.verifier_key())
        .with_origin("trustgate.example/other")
        .verify_checkpoint(msg.as_bytes())
        .is_ok());
    assert_eq!(
        LogVerifier::new(other.verifier_key())
            .with_origin("trustgate.example/other")
            .verify_checkpoint(msg.as_bytes())
            .unwrap_err(),
        CheckpointError::Note(NoteError::NoKnownSignature)
    );
}

/// A predicate on the error a case must produce.
type ErrorCheck = fn(&CheckpointError) -> bool;

#[test]
fn malformed_checkpoint_bodies_are_rejected() {
    let root = leaf_hash(b"r").to_base64();
    let cases: Vec<(String, ErrorCheck)> = vec![
        ("o\n1\n".into(), |e| {
            matches!(e, CheckpointError::TooFewLines)
        }),
        (format!("\n1\n{root}\n"), |e| {
            matches!(e, CheckpointError::EmptyLine { line: 1 })
        }),
        (format!("o\n1\n{root}\n\next\n"), |e| {
            matches!(e, CheckpointError::EmptyLine { line: 4 })
        }),
        (format!("o\n01\n{root}\n"), |e| {
            matches!(e, CheckpointError::Size(_))
        }),
        (format!("o\n-1\n{root}\n"), |e| {
            matches!(e, CheckpointError::Size(_))
        }),
        ("o\n1\nAAAA\n".into(), |e| {
            matches!(e, CheckpointError::RootHash(_))
        }),
        (format!("o\n1\n{}\n", root.trim_end_matches('=')), |e| {
            matches!(e, CheckpointError::RootHash(_))
        }),
        (format!("o\n1\n{root}"), |e| {
            matches!(e, CheckpointError::Text(_))
        }),
        (format!("o\t\n1\n{root}\n"), |e| {
            matches!(e, CheckpointError::Text(_))
        }),
    ];
    for (text, want) in cases {
        let err = Checkpoint::parse(&text).unwrap_err();
        assert!(want(&err), "{text:?}: {err:?}");
    }
    let mut cp = Checkpoint::new("o", 1, leaf_hash(b"r"));
    cp.extensions = vec!["".into()];
    assert_eq!(cp.to_text().unwrap_err(), CheckpointError::InvalidLine);
    cp.extensions = vec!["a\nb".into()];
    assert_eq!(cp.to_text().unwrap_err(), CheckpointError::InvalidLine);
}

// ----- parsers of untrusted input never panic ---------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Note::parse(&bytes);
        let _ = tlog::tile::decode_entry_bundle(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse(s);
            let _ = VerifierKey::parse(s);
            let _ = NoteSigner::parse(s);
            let _ = tlog::Tile::parse_path(s);
            let _ = tlog::tile::EntryBundle::parse_path(s);
            let _ = tlog::ProofBundle::from_json(s);
        }
    }

    #[test]
    fn parsers_never_panic_on_near_valid_text(
        s in r"(tile/(entries|[0-9]{1,3})/((x[0-9]{3}/){0,8}[0-9]{3})(\.p/[0-9]{1,4})?)|([a-z]{1,5}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]{0,60})|([a-z.]{1,9}\n[0-9]{1,22}\n[A-Za-z0-9+/=]{0,50}\n(\n— [a-z]{1,4} [A-Za-z0-9+/=]{0,100}\n)?)"
    ) {
        let _ = Note::parse(s.as_bytes());
        let _ = Checkpoint::parse(&s);
        let _ = VerifierKey::parse(&s);
        if let Ok(t) = tlog::Tile::parse_path(&s) {
            // Whatever parses re-encodes to the same path, and never panics when used.
            prop_assert_eq!(t.path(), s.clone());
            let _ = t.nodes();
            let log = tlog::MemoryLog::new();
            let _ = tlog::tile::read_tile_data(t, &log);
        }
        if let Ok(b) = tlog::tile::EntryBundle::parse_path(&s) {
            prop_assert_eq!(b.path(), s.clone());
            let _ = tlog::MemoryLog::new().entry_bundle(b);
        }
    }
}
