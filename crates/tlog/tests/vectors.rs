//! Published test vectors, each with its source.

use serde::Deserialize;
use tlog::hash::HashDecodeError;
use tlog::note::{self, KeyError};
use tlog::tile::{encode_tile_index, tiles_for_size, EntryBundle, Tile};
use tlog::{
    leaf_hash, verify_consistency, verify_inclusion, Checkpoint, Hash, MemoryLog, Note, NoteError,
    NoteSigner, VerifierKey, VerifyError,
};

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).unwrap()
}

fn b64(s: &str) -> Hash {
    Hash::from_base64(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// transparency-dev/merkle, proof/verify_test.go (Apache-2.0): `leaves`, `roots`,
// `inclusionProofs`, `consistencyProofs` — RFC 6962 trees of the 8 leaves below. Inclusion vectors
// there are 1-based (`{leaf, size}` means index leaf-1).
// ---------------------------------------------------------------------------------------------

const TD_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const TD_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `(index (0-based), size, proof)`.
fn td_inclusion() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// `(size1, size2, proof)`.
fn td_consistency() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

/// `(what, index, size, leaf, proof, root)`.
type InclusionProbe = (&'static str, u64, u64, Hash, Vec<Hash>, Hash);
/// `(what, size1, size2, root1, root2, proof)`.
type ConsistencyProbe = (&'static str, u64, u64, Hash, Hash, Vec<Hash>);

fn td_log() -> MemoryLog {
    let mut log = MemoryLog::new();
    for leaf in TD_LEAVES {
        log.append(hex::decode(leaf).unwrap());
    }
    log
}

fn td_root(size: u64) -> Hash {
    h(TD_ROOTS[size as usize - 1])
}

#[test]
fn transparency_dev_roots() {
    let log = td_log();
    for size in 1..=8u64 {
        assert_eq!(log.root_at(size).unwrap(), td_root(size), "size {size}");
    }
}

#[test]
fn transparency_dev_inclusion_proofs_generate_and_verify() {
    let log = td_log();
    for (index, size, proof) in td_inclusion() {
        assert_eq!(
            log.inclusion_proof(index, size).unwrap(),
            proof,
            "{index}/{size}"
        );
        let leaf = log.leaf_hash(index).unwrap();
        verify_inclusion(&leaf, index, size, &proof, &td_root(size)).unwrap();
    }
}

/// The corruptions of transparency-dev/merkle proof/verify_test.go `corruptInclusionProof`, each
/// of which must fail for every vector (for size 1 only those that stay well-defined).
#[test]
fn transparency_dev_inclusion_corruptions_fail() {
    let log = td_log();
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size, proof) in td_inclusion() {
        let leaf = log.leaf_hash(index).unwrap();
        let root = td_root(size);
        let mut probes: Vec<InclusionProbe> = vec![
            ("index+1", index + 1, size, leaf, proof.clone(), root),
            ("index^2", index ^ 2, size, leaf, proof.clone(), root),
            ("size*2", index, size * 2, leaf, proof.clone(), root),
            (
                "wrong leaf",
                index,
                size,
                leaf_hash(b"WrongLeaf"),
                proof.clone(),
                root,
            ),
            (
                "empty root",
                index,
                size,
                leaf,
                proof.clone(),
                tlog::EMPTY_ROOT,
            ),
            ("random root", index, size, leaf, proof.clone(), some_hash),
            (
                "trailing root",
                index,
                size,
                leaf,
                [&proof[..], &[root]].concat(),
                root,
            ),
            (
                "preceding root",
                index,
                size,
                leaf,
                [&[root], &proof[..]].concat(),
                root,
            ),
        ];
        if index > 0 {
            probes.push(("index-1", index - 1, size, leaf, proof.clone(), root));
        }
        if size / 2 > index {
            probes.push(("size/2", index, size / 2, leaf, proof.clone(), root));
        }
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i].0[0] ^= 8;
            probes.push(("flipped bit", index, size, leaf, p, root));
        }
        if !proof.is_empty() {
            probes.push((
                "removed component",
                index,
                size,
                leaf,
                proof[..proof.len() - 1].to_vec(),
                root,
            ));
        }
        if proof.len() > 1 {
            let mut p = proof.clone();
            p.insert(1, some_hash);
            probes.push(("inserted component", index, size, leaf, p, root));
        }
        for (what, i, n, l, p, r) in probes {
            assert!(
                verify_inclusion(&l, i, n, &p, &r).is_err(),
                "{what} verified for {index}/{size}"
            );
        }
    }
}

#[test]
fn transparency_dev_consistency_proofs_generate_and_verify() {
    let log = td_log();
    for (old, new, proof) in td_consistency() {
        assert_eq!(
            log.consistency_proof(old, new).unwrap(),
            proof,
            "{old}->{new}"
        );
        verify_consistency(old, new, &td_root(old), &td_root(new), &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        // transparency-dev/merkle `corruptConsistencyProof`.
        let (r1, r2) = (td_root(old), td_root(new));
        let mut probes: Vec<ConsistencyProbe> = vec![
            ("size1-1", old - 1, new, r1, r2, proof.clone()),
            ("size1+1", old + 1, new, r1, r2, proof.clone()),
            ("size1^2", old ^ 2, new, r1, r2, proof.clone()),
            ("size2*2", old, new * 2, r1, r2, proof.clone()),
            ("size2/2", old, new / 2, r1, r2, proof.clone()),
            (
                "wrong root1",
                old,
                new,
                leaf_hash(b"WrongRoot"),
                r2,
                proof.clone(),
            ),
            (
                "wrong root2",
                old,
                new,
                r1,
                leaf_hash(b"WrongRoot"),
                proof.clone(),
            ),
            ("swapped roots", old, new, r2, r1, proof.clone()),
            ("empty proof", old, new, r1, r2, vec![]),
            (
                "trailing root1",
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r1]].concat(),
            ),
            (
                "trailing root2",
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r2]].concat(),
            ),
            (
                "preceding root1",
                old,
                new,
                r1,
                r2,
                [&[r1], &proof[..]].concat(),
            ),
            (
                "preceding root2",
                old,
                new,
                r1,
                r2,
                [&[r2], &proof[..]].concat(),
            ),
            (
                "preceding proof[0]",
                old,
                new,
                r1,
                r2,
                [&[proof[0]], &proof[..]].concat(),
            ),
            (
                "truncated",
                old,
                new,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
            ),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i].0[0] ^= 16;
            probes.push(("flipped bit", old, new, r1, r2, p));
        }
        for (what, m, n, a, b, p) in probes {
            assert!(
                verify_consistency(m, n, &a, &b, &p).is_err(),
                "{what} verified for {old}->{new}"
            );
        }
    }
}

/// transparency-dev/merkle proof/verify_test.go `TestVerifyConsistency`: the trivial cases.
#[test]
fn transparency_dev_trivial_consistency_cases() {
    let (r1, r2) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let e = tlog::EMPTY_ROOT;
    // Must fail: different roots at equal sizes, time travel, empty proof, non-empty proof.
    assert!(verify_consistency(1, 1, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(1, 0, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(2, 1, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(1, 2, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(0, 0, &e, &e, &[e]).is_err());
    assert!(verify_consistency(0, 1, &e, &e, &[e]).is_err());
    assert!(verify_consistency(1, 1, &e, &e, &[e]).is_err());
    // Always consistent.
    assert!(verify_consistency(1, 1, &r2, &r2, &[]).is_ok());
    assert!(verify_consistency(0, 1, &e, &r2, &[]).is_ok());
    // Deliberately stricter than transparency-dev, which accepts any root for size 0: the
    // RFC 9162 §2.1.1 root of the empty tree is SHA-256 of nothing, so anything else is wrong.
    assert_eq!(
        verify_consistency(0, 1, &r1, &r2, &[]),
        Err(VerifyError::OldRootMismatch)
    );
}

// ---------------------------------------------------------------------------------------------
// golang.org/x/mod sumdb/tlog testdata/argon2020 (BSD): a real inclusion proof and a real
// consistency proof from Google's Argon 2020 CT log, a tree of 961,984,013 leaves.
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CtSth {
    tree_size: u64,
    sha256_root_hash: Hash,
}
#[derive(Deserialize)]
struct CtEntries {
    entries: Vec<CtEntry>,
}
#[derive(Deserialize)]
struct CtEntry {
    leaf_input: String,
}
#[derive(Deserialize)]
struct CtProof {
    leaf_index: u64,
    audit_path: Vec<Hash>,
}
#[derive(Deserialize)]
struct CtConsistency {
    consistency: Vec<Hash>,
}

fn testdata<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!(
        "{}/tests/testdata/argon2020/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn argon2020_inclusion_and_consistency() {
    use base64::Engine as _;
    let sth: CtSth = testdata("sth.json");
    let entries: CtEntries = testdata("entries.json");
    let proof: CtProof = testdata("proof.json");
    let cons: CtConsistency = testdata("consistency.json");
    assert_eq!(sth.tree_size, 961_984_013);

    let entry = base64::engine::general_purpose::STANDARD
        .decode(&entries.entries[0].leaf_input)
        .unwrap();
    let leaf = leaf_hash(&entry);
    verify_inclusion(
        &leaf,
        proof.leaf_index,
        sth.tree_size,
        &proof.audit_path,
        &sth.sha256_root_hash,
    )
    .unwrap();
    // One flipped bit anywhere in the real proof breaks it.
    for i in 0..proof.audit_path.len() {
        let mut p = proof.audit_path.clone();
        p[i].0[31] ^= 1;
        assert_eq!(
            verify_inclusion(
                &leaf,
                proof.leaf_index,
                sth.tree_size,
                &p,
                &sth.sha256_root_hash
            ),
            Err(VerifyError::RootMismatch)
        );
    }
    assert!(verify_inclusion(
        &leaf,
        proof.leaf_index + 1,
        sth.tree_size,
        &proof.audit_path,
        &sth.sha256_root_hash
    )
    .is_err());

    // ct_test.go: the root of the tree of size 3654490.
    let old_root = b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=");
    verify_consistency(
        3_654_490,
        sth.tree_size,
        &old_root,
        &sth.sha256_root_hash,
        &cons.consistency,
    )
    .unwrap();
    assert!(verify_consistency(
        3_654_491,
        sth.tree_size,
        &old_root,
        &sth.sha256_root_hash,
        &cons.consistency
    )
    .is_err());
}

// ---------------------------------------------------------------------------------------------
// golang.org/x/mod sumdb/tlog note_test.go (BSD) `TestFormatTree` / `TestParseTree`: the go.sum
// database tree note, which is a C2SP checkpoint body. Its root is RecordHash("hello world"), the
// RFC 6962 leaf hash, so this also pins `leaf_hash`.
// ---------------------------------------------------------------------------------------------

const GO_TREE: &str =
    "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";

#[test]
fn go_sumdb_tree_note_is_a_checkpoint() {
    let cp = Checkpoint::new(
        "go.sum database tree",
        123_456_789_012,
        leaf_hash(b"hello world"),
    );
    assert_eq!(cp.to_text().unwrap(), GO_TREE);
    assert_eq!(Checkpoint::parse(GO_TREE).unwrap(), cp);
    // TestParseTree's bad trees.
    assert!(Checkpoint::parse(
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    )
    .is_err());
    assert!(Checkpoint::parse(
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n"
    )
    .is_err());
    // Go ignores junk after the tree; C2SP makes such lines extension lines, which must be
    // complete (newline-terminated) and non-empty.
    let ext = Checkpoint::parse(&format!("{GO_TREE}JOE\n")).unwrap();
    assert_eq!(ext.extensions, vec!["JOE".to_string()]);
    assert!(Checkpoint::parse(&format!("{GO_TREE}JOE")).is_err());
    assert!(Checkpoint::parse(&format!("{GO_TREE}\nJOE\n")).is_err());
}

// ---------------------------------------------------------------------------------------------
// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) and signed-note
// (https://c2sp.org/signed-note) examples. Their public keys are not published, so they are
// checked for parsing and for rejection without a known key.
// ---------------------------------------------------------------------------------------------

const C2SP_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

const C2SP_NOTE: &str = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

#[test]
fn c2sp_checkpoint_example_parses() {
    let note = Note::parse(C2SP_CHECKPOINT.as_bytes()).unwrap();
    let cp = Checkpoint::parse(note.text()).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(
        cp.root.to_base64(),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(cp.extensions.is_empty());
    let sig = &note.signatures()[0];
    assert_eq!(sig.name, "example.com/behind-the-sofa");
    assert_eq!(sig.key_id, 0x033de0ae);
    assert_eq!(sig.signature.len(), 64);
    // Round trip is byte for byte.
    assert_eq!(note.to_text(), C2SP_CHECKPOINT);
    // Without the log's key it must not verify.
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!(
        note.verify(&[peter]).unwrap_err(),
        NoteError::NoKnownSignature
    );
}

#[test]
fn c2sp_signed_note_example_splits_at_the_last_blank_line() {
    let note = Note::parse(C2SP_NOTE.as_bytes()).unwrap();
    assert_eq!(
        note.text(),
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n"
    );
    assert_eq!(note.signatures().len(), 1);
    assert_eq!(note.signatures()[0].name, "quasimodo.example/salvatore");
    assert_eq!(note.to_text(), C2SP_NOTE);
}

// ---------------------------------------------------------------------------------------------
// golang.org/x/mod sumdb/note note_test.go (BSD): the PeterNeumann and EnochRoot keys and
// signatures (TestNewVerifier, TestNewSigner, TestSign, TestOpen). Ed25519 is deterministic
// (RFC 8032), so signing with the published private key must reproduce the published note.
// ---------------------------------------------------------------------------------------------

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn go_note_sign_reproduces_the_published_signature() {
    let signer = NoteSigner::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier_key().to_string(), PETER_VKEY);
    let mut note = Note::new(GO_TEXT).unwrap();
    note.sign(&signer).unwrap();
    assert_eq!(note.to_text(), format!("{GO_TEXT}\n{PETER_SIG}"));
    // Signing again replaces, not duplicates (TestSign "existing signature is replaced").
    note.sign(&signer).unwrap();
    assert_eq!(note.signatures().len(), 1);
}

#[test]
fn go_note_open() {
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    let enoch = VerifierKey::parse(ENOCH_VKEY).unwrap();
    assert_eq!(peter.to_string(), PETER_VKEY);
    assert_eq!(enoch.key_id(), 0xaf0cfe78);
    let msg = format!("{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    // One known key: verified, the other ignored.
    let v = note::open(msg.as_bytes(), std::slice::from_ref(&peter)).unwrap();
    assert_eq!(v.text, GO_TEXT);
    assert_eq!(v.verified_by, vec![peter.clone()]);
    assert_eq!(v.unverified.len(), 1);
    assert_eq!(v.unverified[0].name, "EnochRoot");
    assert_eq!(v.unverified[0].key_id, 0xaf0cfe78);

    // Both known: both verify.
    let v = note::open(msg.as_bytes(), &[peter.clone(), enoch.clone()]).unwrap();
    assert_eq!(v.verified_by, vec![peter.clone(), enoch.clone()]);
    assert!(v.unverified.is_empty());

    // None known.
    assert_eq!(
        note::open(msg.as_bytes(), &[]).unwrap_err(),
        NoteError::NoKnownSignature
    );

    // Too many signatures (Go: 101 copies of the signature line).
    let many = format!("{GO_TEXT}\n{}", PETER_SIG.repeat(101));
    assert_eq!(
        note::open(many.as_bytes(), std::slice::from_ref(&peter)).unwrap_err(),
        NoteError::TooManySignatures
    );

    // Invalid signature by a known key rejects the note (Go inserts "ABCD" at byte 60).
    let (a, b) = PETER_SIG.split_at(60);
    let bad = format!("{GO_TEXT}\n{a}ABCD{b}");
    assert_eq!(
        note::open(bad.as_bytes(), std::slice::from_ref(&peter)).unwrap_err(),
        NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );

    // Go's badMsgs: each is malformed.
    let bad_msgs = [
        GO_TEXT.to_string(),
        format!("{GO_TEXT}\n"),
        format!("{GO_TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{GO_TEXT}\n{PETER_SIG}"),
        format!("{GO_TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
        format!("{GO_TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for m in &bad_msgs {
        assert!(
            Note::parse(m.as_bytes()).is_err(),
            "accepted malformed note {m:?}"
        );
    }
    let mut invalid_utf8 = b"\xff".to_vec();
    invalid_utf8.extend_from_slice(format!("{GO_TEXT}\n{PETER_SIG}").as_bytes());
    assert_eq!(Note::parse(&invalid_utf8).unwrap_err(), NoteError::NotUtf8);

    // A signature claimed by the right key ID under another name is an unknown key (ignored),
    // and so is the right name with another key ID.
    let renamed = format!(
        "{GO_TEXT}\n{}",
        PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    );
    assert_eq!(
        note::open(renamed.as_bytes(), std::slice::from_ref(&peter)).unwrap_err(),
        NoteError::NoKnownSignature
    );
    let rehashed = format!("{GO_TEXT}\n{}", PETER_SIG.replace("x08g", "xxxx"));
    assert_eq!(
        note::open(rehashed.as_bytes(), &[peter]).unwrap_err(),
        NoteError::NoKnownSignature
    );
}

#[test]
fn go_note_key_manglings_are_rejected() {
    // TestNewVerifier: every proper substring and every single-byte increment must be rejected.
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            if let Ok(s) = std::str::from_utf8(&b[i..j]) {
                assert!(VerifierKey::parse(s).is_err(), "accepted {s:?}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        if let Ok(s) = std::str::from_utf8(&m) {
            assert!(VerifierKey::parse(s).is_err(), "accepted {s:?}");
        }
    }
    // Wrong key length and unknown algorithm, each with a key hash adjusted to match.
    assert!(VerifierKey::parse(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    )
    .is_err());
    assert_eq!(
        VerifierKey::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .unwrap_err(),
        KeyError::UnsupportedAlgorithm(0x65)
    );
    // TestNewSigner: every proper substring of the signer key is rejected too.
    let s = PETER_SKEY.as_bytes();
    for i in 0..=s.len() {
        for j in i + 1..=s.len() {
            if i == 0 && j == s.len() {
                continue;
            }
            let sub = std::str::from_utf8(&s[i..j]).unwrap();
            assert!(NoteSigner::parse(sub).is_err(), "accepted {sub:?}");
        }
    }
}

/// The key ID rule of signed-note §"Ed25519 signatures", checked against both published keys.
#[test]
fn key_ids_are_sha256_of_name_newline_type_key() {
    for (vkey, id) in [(PETER_VKEY, 0xc74f20a3u32), (ENOCH_VKEY, 0xaf0cfe78)] {
        let k = VerifierKey::parse(vkey).unwrap();
        assert_eq!(
            note::ed25519_key_id(k.name(), k.public_key().as_bytes()),
            id
        );
    }
}

// ---------------------------------------------------------------------------------------------
// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) examples, and the index encodings of
// golang.org/x/mod sumdb/tlog tlog_test.go `tilePaths` (whose paths also carry a tile height,
// which C2SP fixes at 8 and drops, so only their <N> parts apply).
// ---------------------------------------------------------------------------------------------

#[test]
fn tile_index_encoding() {
    // tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
    assert_eq!(encode_tile_index(1_234_067), "x001/x234/067");
    // sumdb/tlog tilePaths: N=1, 123456078, 3057500.
    assert_eq!(encode_tile_index(1), "001");
    assert_eq!(encode_tile_index(123_456_078), "x123/x456/078");
    assert_eq!(encode_tile_index(3_057_500), "x003/x057/500");
    assert_eq!(encode_tile_index(0), "000");
    assert_eq!(encode_tile_index(1000), "x001/000");
    assert_eq!(
        encode_tile_index(u64::MAX),
        "x018/x446/x744/x073/x709/x551/615"
    );
}

#[test]
fn tile_paths_round_trip_and_reject_malformed() {
    let cases = [
        (
            "tile/0/x001/x234/067",
            Tile {
                level: 0,
                index: 1_234_067,
                width: 256,
            },
        ),
        (
            "tile/0/x001/x234/067.p/11",
            Tile {
                level: 0,
                index: 1_234_067,
                width: 11,
            },
        ),
        (
            "tile/1/000",
            Tile {
                level: 1,
                index: 0,
                width: 256,
            },
        ),
        (
            "tile/63/x018/x446/x744/x073/x709/x551/615.p/255",
            Tile {
                level: 63,
                index: u64::MAX,
                width: 255,
            },
        ),
    ];
    for (path, tile) in cases {
        assert_eq!(tile.path(), path);
        assert_eq!(Tile::parse_path(path).unwrap(), tile, "{path}");
    }
    let eb = EntryBundle {
        index: 1_234_067,
        width: 7,
    };
    assert_eq!(eb.path(), "tile/entries/x001/x234/067.p/7");
    assert_eq!(EntryBundle::parse_path(&eb.path()).unwrap(), eb);

    for bad in [
        "tile/3/5/123/456/078",  // sumdb/tlog: non-final elements without 'x'
        "tile/3/-1/123/456/078", // sumdb/tlog: negative
        "tile/0/x000/005",       // non-canonical leading element
        "tile/0/5",              // not 3 digits
        "tile/0/0005",
        "tile/00/005",      // level with leading zero
        "tile/64/005",      // level out of range
        "tile/0/005.p/0",   // width 0
        "tile/0/005.p/256", // a full tile has no .p suffix
        "tile/0/005.p/011", // width with leading zero
        "tile/0/005.p/",
        "tile/0/x005", // final element with 'x'
        "tile/0/005/",
        "tile/0",
        "tile//005",
        "tiles/0/005",
        "/tile/0/005",
        "tile/0/x018/x446/x744/x073/x709/x551/616", // overflows u64
        "tile/entries/005",                         // an entry bundle, not a tile
    ] {
        assert!(Tile::parse_path(bad).is_err(), "accepted {bad:?}");
    }
    assert!(EntryBundle::parse_path("tile/0/005").is_err());
}

/// tlog-tiles §"Partial Tiles": "a tree of size 70,000 will be represented by 273 full level 0
/// tiles, one partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile
/// of width 17, and one partial level 2 tile of width 1. Note that a tree of size 256 will be
/// represented by a full level 0 tile and a partial level 1 tile of width 1."
#[test]
fn tiles_for_the_spec_example_sizes() {
    let tiles = tiles_for_size(70_000);
    let count = |level: u8, width: u16| {
        tiles
            .iter()
            .filter(|t| t.level == level && t.width == width)
            .count()
    };
    assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
    assert_eq!(count(0, 256), 273);
    assert_eq!(count(0, 112), 1);
    assert_eq!(count(1, 256), 1);
    assert_eq!(count(1, 17), 1);
    assert_eq!(count(2, 1), 1);

    assert_eq!(
        tiles_for_size(256),
        vec![
            Tile {
                level: 0,
                index: 0,
                width: 256
            },
            Tile {
                level: 1,
                index: 0,
                width: 1
            },
        ]
    );
}

#[test]
fn hash_text_forms_are_strict() {
    assert_eq!(Hash::from_hex("00"), Err(HashDecodeError::Length(1)));
    assert_eq!(Hash::from_hex("zz"), Err(HashDecodeError::Hex));
}
