//! Proofs against a naive reference tree: the RFC 9162 §2.1 definitions (MTH, PATH, SUBPROOF)
//! written as literal recursions over a list of leaf hashes, compared with the crate's generation
//! (from stored subtree hashes and from tiles) and verification, exhaustively for small trees and
//! sampled (proptest) up to a few thousand leaves.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use proptest::prelude::*;
use tlog::proof::{consistency_plan, inclusion_plan};
use tlog::tile::{
    new_tiles, read_tile_data, tiles_for_consistency_proof, tiles_for_inclusion_proof,
    tiles_for_size, Tile, TileHashReader, TileReader,
};
use tlog::{
    leaf_hash, node_hash, prove_consistency, prove_inclusion, right_edge_nodes, tree_root,
    verify_consistency, verify_inclusion, Hash, HashReader, MemoryLog, NodeId, StorageError,
    TreeBuilder, VerifyError,
};

// ----- the reference: RFC 9162 §2.1 by the letter ---------------------------------------------

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.1 MTH over leaf hashes.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => tlog::EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

// ----- a shared log of distinct entries ---------------------------------------------------------

const BIG: usize = 4096;

struct Fixture {
    log: MemoryLog,
    leaves: Vec<Hash>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut log = MemoryLog::new();
        let mut leaves = Vec::new();
        for i in 0..BIG {
            let entry = format!("entry {i}").into_bytes();
            leaves.push(leaf_hash(&entry));
            log.append(entry);
        }
        Fixture { log, leaves }
    })
}

/// Every single-byte change of every proof hash must break the proof.
fn each_byte_flipped(proof: &[Hash]) -> impl Iterator<Item = Vec<Hash>> + '_ {
    (0..proof.len()).flat_map(move |i| {
        (0..32).map(move |b| {
            let mut p = proof.to_vec();
            p[i].0[b] ^= 0x01 << (b % 8);
            p
        })
    })
}

fn check_inclusion(index: u64, size: u64, flip_every_byte: bool) {
    let f = fixture();
    let d = &f.leaves[..size as usize];
    let root = mth(d);
    let want = path(index as usize, d);
    let got = prove_inclusion(index, size, &f.log).unwrap();
    assert_eq!(got, want, "proof {index}/{size}");
    assert_eq!(tree_root(size, &f.log).unwrap(), root);
    let leaf = f.leaves[index as usize];
    verify_inclusion(&leaf, index, size, &got, &root).unwrap();

    // Tampered hash bytes.
    if flip_every_byte {
        for p in each_byte_flipped(&got) {
            assert!(verify_inclusion(&leaf, index, size, &p, &root).is_err());
        }
    } else if !got.is_empty() {
        let mut p = got.clone();
        let i = (index as usize) % p.len();
        p[i].0[(size as usize) % 32] ^= 0x80;
        assert!(verify_inclusion(&leaf, index, size, &p, &root).is_err());
    }
    // Tampered leaf.
    assert!(verify_inclusion(&leaf_hash(b"other"), index, size, &got, &root).is_err());
    // Tampered index: every other index of the tree fails (distinct leaves, no collisions).
    let others: Vec<u64> = if size <= 64 {
        (0..size).filter(|&i| i != index).collect()
    } else {
        [index.wrapping_sub(1), index + 1, index ^ 1, index ^ 2, size]
            .into_iter()
            .filter(|&i| i != index && i <= size)
            .collect()
    };
    for i in others {
        assert!(
            verify_inclusion(&leaf, i, size, &got, &root).is_err(),
            "index {i} accepted for {index}/{size}"
        );
    }
    // Tampered size with the root of that size: always fails.
    for n in [size - 1, size + 1, size * 2, size / 2] {
        if n > index && n != size && (n as usize) <= BIG {
            let r = mth(&f.leaves[..n as usize]);
            assert!(
                verify_inclusion(&leaf, index, n, &got, &r).is_err(),
                "size {n} accepted for {index}/{size}"
            );
        }
    }
    // Tampered size with the original root: twice or half the size changes how many levels the
    // proof must climb, so it always fails. (Some nearby sizes can share the proof's shape: see
    // `size_is_bound_by_the_checkpoint_not_the_proof`.)
    for n in [size * 2, size / 2] {
        if n > index && n != size {
            assert!(verify_inclusion(&leaf, index, n, &got, &root).is_err());
        }
    }
    // Truncated and extended proofs.
    if !got.is_empty() {
        assert_eq!(
            verify_inclusion(&leaf, index, size, &got[..got.len() - 1], &root),
            Err(VerifyError::ProofTooShort)
        );
    }
    let mut longer = got.clone();
    longer.push(root);
    assert_eq!(
        verify_inclusion(&leaf, index, size, &longer, &root),
        Err(VerifyError::ProofTooLong)
    );
}

fn check_consistency(old: u64, new: u64, flip_every_byte: bool) {
    let f = fixture();
    let d = &f.leaves[..new as usize];
    let (r1, r2) = (mth(&d[..old as usize]), mth(d));
    let want = subproof(old as usize, d, true);
    let got = prove_consistency(old, new, &f.log).unwrap();
    assert_eq!(got, want, "proof {old}->{new}");
    verify_consistency(old, new, &r1, &r2, &got).unwrap();
    if old == new {
        assert!(got.is_empty());
        assert!(verify_consistency(old, new, &r1, &leaf_hash(b"x"), &got).is_err());
        return;
    }
    if flip_every_byte {
        for p in each_byte_flipped(&got) {
            assert!(verify_consistency(old, new, &r1, &r2, &p).is_err());
        }
    } else {
        let mut p = got.clone();
        let i = (old as usize) % p.len();
        p[i].0[(new as usize) % 32] ^= 0x04;
        assert!(verify_consistency(old, new, &r1, &r2, &p).is_err());
    }
    // Wrong roots.
    assert!(verify_consistency(old, new, &r2, &r2, &got).is_err());
    assert!(verify_consistency(old, new, &r1, &r1, &got).is_err());
    assert!(verify_consistency(old, new, &r2, &r1, &got).is_err());
    // Tampered sizes, each with the true root of the tampered size.
    let root_of = |n: u64| mth(&f.leaves[..n as usize]);
    for m in [old - 1, old + 1, old ^ 1, old ^ 2] {
        if m != old && m >= 1 && m <= new {
            assert!(
                verify_consistency(m, new, &root_of(m), &r2, &got).is_err(),
                "old size {m} accepted for {old}->{new}"
            );
        }
    }
    for n in [new - 1, new + 1, new * 2] {
        if n != new && n >= old && (n as usize) <= BIG {
            assert!(
                verify_consistency(old, n, &r1, &root_of(n), &got).is_err(),
                "new size {n} accepted for {old}->{new}"
            );
        }
    }
    // Truncated, extended, empty.
    assert!(verify_consistency(old, new, &r1, &r2, &got[..got.len() - 1]).is_err());
    assert!(verify_consistency(old, new, &r1, &r2, &[got.clone(), vec![r2]].concat()).is_err());
    assert!(verify_consistency(old, new, &r1, &r2, &[vec![r1], got.clone()].concat()).is_err());
    assert_eq!(
        verify_consistency(old, new, &r1, &r2, &[]),
        Err(VerifyError::EmptyProof)
    );
}

// ----- exhaustive small trees -------------------------------------------------------------------

#[test]
fn every_inclusion_proof_up_to_size_64() {
    for size in 1..=64u64 {
        for index in 0..size {
            check_inclusion(index, size, size <= 24);
        }
    }
}

#[test]
fn every_consistency_proof_up_to_size_64() {
    for new in 1..=64u64 {
        for old in 1..=new {
            check_consistency(old, new, new <= 20);
        }
    }
}

#[test]
fn generation_rejects_impossible_requests() {
    let log = &fixture().log;
    assert!(prove_inclusion(5, 5, log).is_err());
    assert!(prove_inclusion(0, 0, log).is_err());
    assert!(prove_consistency(0, 5, log).is_err());
    assert!(prove_consistency(6, 5, log).is_err());
    // Beyond what the storage holds: a storage error, not a made-up proof.
    assert!(prove_inclusion(0, BIG as u64 + 1, log).is_err());
}

/// RFC 9162 §2.1.3.2 binds the leaf to the root; the root's size comes from the checkpoint.
/// With a root held fixed, a proof for size 3 also "verifies" at size 4, because both sizes walk
/// the same left/left path for leaf 0. This test pins that fact, which is why bundles take size
/// and root together from one signed checkpoint.
#[test]
fn size_is_bound_by_the_checkpoint_not_the_proof() {
    let f = fixture();
    let root3 = mth(&f.leaves[..3]);
    let proof = prove_inclusion(0, 3, &f.log).unwrap();
    verify_inclusion(&f.leaves[0], 0, 3, &proof, &root3).unwrap();
    assert!(verify_inclusion(&f.leaves[0], 0, 4, &proof, &root3).is_ok());
    let root4 = mth(&f.leaves[..4]);
    assert!(verify_inclusion(&f.leaves[0], 0, 4, &proof, &root4).is_err());
}

// ----- sampled larger trees ---------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sampled_inclusion_proofs(size in 65u64..=BIG as u64, seed in any::<u64>()) {
        let index = seed % size;
        check_inclusion(index, size, false);
        // Right edge and left edge of the same tree too.
        check_inclusion(size - 1, size, false);
        check_inclusion(0, size, false);
    }

    #[test]
    fn sampled_consistency_proofs(new in 65u64..=BIG as u64, seed in any::<u64>()) {
        let old = 1 + seed % new;
        check_consistency(old, new, false);
    }

    #[test]
    fn tiles_give_the_same_proofs(size in 1u64..=BIG as u64, seed in any::<u64>()) {
        let log = &fixture().log;
        let index = seed % size;
        let rec = RecordingTiles::new(log);
        let reader = TileHashReader::new(size, &rec);
        prop_assert_eq!(
            prove_inclusion(index, size, &reader).unwrap(),
            prove_inclusion(index, size, log).unwrap()
        );
        // The tiles read, in one batch, are exactly the ones tiles_for_inclusion_proof names.
        prop_assert_eq!(rec.take(), tiles_for_inclusion_proof(index, size).unwrap());
        prop_assert!(*rec.calls.borrow() <= 1);

        let old = 1 + seed % size;
        prop_assert_eq!(
            prove_consistency(old, size, &reader).unwrap(),
            prove_consistency(old, size, log).unwrap()
        );
        prop_assert_eq!(rec.take(), tiles_for_consistency_proof(old, size).unwrap());
        prop_assert_eq!(tree_root(size, &reader).unwrap(), mth(&fixture().leaves[..size as usize]));
    }
}

// ----- tiles ------------------------------------------------------------------------------------

/// A tile reader over a memory log that records which tiles were asked for.
struct RecordingTiles<'a> {
    log: &'a MemoryLog,
    asked: RefCell<BTreeSet<Tile>>,
    calls: RefCell<usize>,
}

impl<'a> RecordingTiles<'a> {
    fn new(log: &'a MemoryLog) -> Self {
        RecordingTiles {
            log,
            asked: RefCell::new(BTreeSet::new()),
            calls: RefCell::new(0),
        }
    }
}

impl RecordingTiles<'_> {
    fn take(&self) -> Vec<Tile> {
        std::mem::take(&mut *self.asked.borrow_mut())
            .into_iter()
            .collect()
    }
}

impl TileReader for RecordingTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
        *self.calls.borrow_mut() += 1;
        self.asked.borrow_mut().extend(tiles.iter().copied());
        self.log.read_tiles(tiles)
    }
}

#[test]
fn every_tile_of_a_tree_matches_its_definition() {
    // tlog-tiles: tile n at level l holds MTH(D[(n*256 + i) * 256^l : (n*256 + i + 1) * 256^l]).
    let f = fixture();
    for size in [1u64, 255, 256, 257, 511, 512, 4095, 4096] {
        for tile in tiles_for_size(size) {
            let data = read_tile_data(tile, &f.log).unwrap();
            assert_eq!(data.len(), usize::from(tile.width) * 32);
            let span = 256usize.pow(u32::from(tile.level));
            for (i, chunk) in data.chunks(32).enumerate() {
                let start = (tile.index as usize * 256 + i) * span;
                assert_eq!(chunk, &mth(&f.leaves[start..start + span]).0[..], "{tile}");
            }
        }
    }
}

#[test]
fn new_tiles_are_exactly_the_tiles_that_changed() {
    let f = fixture();
    let data_at = |t: &Tile| read_tile_data(*t, &f.log).unwrap();
    for (old, new) in [
        (0u64, 1u64),
        (1, 2),
        (255, 256),
        (256, 257),
        (100, 4096),
        (4000, 4096),
        (511, 513),
    ] {
        let before: BTreeSet<(Tile, Vec<u8>)> = tiles_for_size(old)
            .iter()
            .map(|t| (*t, data_at(t)))
            .collect();
        let after: BTreeSet<(Tile, Vec<u8>)> = tiles_for_size(new)
            .iter()
            .map(|t| (*t, data_at(t)))
            .collect();
        let changed: BTreeSet<Tile> = after.difference(&before).map(|(t, _)| *t).collect();
        let got: BTreeSet<Tile> = new_tiles(old, new).into_iter().collect();
        assert_eq!(got, changed, "{old}->{new}");
        // A tile is only ever extended: a new partial tile starts with the old one's hashes.
        for t in &got {
            if let Some((ot, od)) = before
                .iter()
                .find(|(b, _)| b.level == t.level && b.index == t.index)
            {
                assert!(ot.width < t.width);
                assert!(data_at(t).starts_with(od));
            }
        }
    }
}

#[test]
fn tampered_tiles_give_proofs_that_fail_verification() {
    struct Tampered<'a>(&'a MemoryLog);
    impl TileReader for Tampered<'_> {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
            let mut out = self.0.read_tiles(tiles)?;
            for d in &mut out {
                for b in d.iter_mut() {
                    *b ^= 0x01;
                }
            }
            Ok(out)
        }
    }
    let f = fixture();
    let size = 1000;
    let root = mth(&f.leaves[..size as usize]);
    let reader = TileHashReader::new(size, Tampered(&f.log));
    let proof = prove_inclusion(7, size, &reader).unwrap();
    assert!(verify_inclusion(&f.leaves[7], 7, size, &proof, &root).is_err());
}

#[test]
fn short_tile_data_is_a_storage_error() {
    struct Short<'a>(&'a MemoryLog);
    impl TileReader for Short<'_> {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
            let mut out = self.0.read_tiles(tiles)?;
            out[0].pop();
            Ok(out)
        }
    }
    let f = fixture();
    let reader = TileHashReader::new(1000, Short(&f.log));
    assert!(prove_inclusion(7, 1000, &reader).is_err());
}

// ----- read costs on a 10-million-entry log -----------------------------------------------------

/// A log of `n` identical entries: every perfect subtree at level `l` has the same hash `h[l]`,
/// so a real 10-million-entry tree costs 24 hashes to build. Counts batches and nodes read.
struct UniformLog {
    level_hash: Vec<Hash>,
    size: u64,
    batches: RefCell<usize>,
    nodes: RefCell<usize>,
    tiles: RefCell<usize>,
}

impl UniformLog {
    fn new(size: u64) -> Self {
        let mut level_hash = vec![leaf_hash(b"same")];
        for l in 1..64 {
            let h = level_hash[l - 1];
            level_hash.push(node_hash(&h, &h));
        }
        UniformLog {
            level_hash,
            size,
            batches: RefCell::new(0),
            nodes: RefCell::new(0),
            tiles: RefCell::new(0),
        }
    }
}

impl HashReader for UniformLog {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        *self.batches.borrow_mut() += 1;
        *self.nodes.borrow_mut() += nodes.len();
        nodes
            .iter()
            .map(|n| {
                if n.exists_in(self.size) {
                    Ok(self.level_hash[usize::from(n.level)])
                } else {
                    Err(StorageError::new(format!("{n:?} not in tree")))
                }
            })
            .collect()
    }
}

impl TileReader for UniformLog {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
        *self.batches.borrow_mut() += 1;
        *self.tiles.borrow_mut() += tiles.len();
        Ok(tiles
            .iter()
            .map(|t| {
                let h = self.level_hash[usize::from(t.level) * 8];
                h.0.repeat(usize::from(t.width))
            })
            .collect())
    }
}

#[test]
fn ten_million_entry_proofs_read_logarithmically() {
    let size = 10_000_000u64;
    let log = UniformLog::new(size);
    let root = tree_root(size, &log).unwrap();
    assert_eq!(*log.nodes.borrow(), size.count_ones() as usize);
    let leaf = log.level_hash[0];
    for index in [0u64, 1, 255, 256, 4_999_999, 9_999_872, 9_999_999] {
        let (b0, n0) = (*log.batches.borrow(), *log.nodes.borrow());
        let proof = prove_inclusion(index, size, &log).unwrap();
        verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
        let (b, n) = (*log.batches.borrow() - b0, *log.nodes.borrow() - n0);
        assert_eq!(b, 1, "one batch per proof");
        assert!(n <= 48, "inclusion {index}: {n} node reads");
        assert_eq!(n, inclusion_plan(index, size).unwrap().nodes().len());

        // The same proof from tiles: a handful of tiles in one batch.
        let tiles = TileHashReader::new(size, &log);
        let (b0, t0) = (*log.batches.borrow(), *log.tiles.borrow());
        assert_eq!(prove_inclusion(index, size, &tiles).unwrap(), proof);
        let (b, t) = (*log.batches.borrow() - b0, *log.tiles.borrow() - t0);
        assert_eq!(b, 1);
        assert!(t <= 6, "inclusion {index}: {t} tiles");
    }
    for old in [1u64, 3, 1 << 20, 7_654_321, 9_999_999] {
        let old_root = tree_root(old, &log).unwrap();
        let (b0, n0) = (*log.batches.borrow(), *log.nodes.borrow());
        let proof = prove_consistency(old, size, &log).unwrap();
        verify_consistency(old, size, &old_root, &root, &proof).unwrap();
        let (b, n) = (*log.batches.borrow() - b0, *log.nodes.borrow() - n0);
        assert_eq!(b, 1);
        assert!(n <= 50, "consistency {old}: {n} node reads");
        assert_eq!(n, consistency_plan(old, size).unwrap().nodes().len());
    }
}

// ----- the tree builder against stored hashes ---------------------------------------------------

#[test]
fn builder_resumes_from_storage_at_every_size() {
    let f = fixture();
    let mut live = TreeBuilder::new();
    for size in 0..=600u64 {
        let resumed = TreeBuilder::resume(size, &f.log).unwrap();
        assert_eq!(resumed, live, "size {size}");
        assert_eq!(resumed.root(), mth(&f.leaves[..size as usize]));
        assert_eq!(right_edge_nodes(size).len(), live.right_edge().len());
        live.append_leaf_hash(f.leaves[size as usize]).unwrap();
    }
}
