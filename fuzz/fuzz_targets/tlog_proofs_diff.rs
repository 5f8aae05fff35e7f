//! Differential: RFC 9162 roots, inclusion and consistency proofs from `tlog` (MemoryLog,
//! TreeBuilder, prove_* over a HashReader) against a naive recursive tree computed here
//! straight from RFC 9162 §2.1, for trees of up to 300 leaves the input describes; and every
//! proof verifies, and no longer verifies once a byte of it is changed.
//!
//! Input: `[n: u8 ×2 → n = (a as usize + b as usize) % 301][m: u8][i: u8][flip: u8][leaf bytes…]`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tlog::{leaf_hash, node_hash, Hash};

/// Largest power of two smaller than n (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => tlog::EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![mth(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], b);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let n = (data[0] as usize + data[1] as usize) % 301;
    let (m_sel, i_sel, flip) = (data[2] as usize, data[3] as usize, data[4] as usize);
    let bytes = &data[5..];
    // Leaf i's entry: a window of the input (entries may repeat, be empty, or differ by a byte).
    let entry = |i: usize| -> Vec<u8> {
        if bytes.is_empty() {
            return i.to_be_bytes().to_vec();
        }
        let start = (i * 7) % bytes.len();
        let len = (bytes[start] as usize % 9).min(bytes.len() - start);
        let mut e = bytes[start..start + len].to_vec();
        e.extend_from_slice(&(i as u16 / 3).to_be_bytes());
        e
    };

    let mut log = tlog::MemoryLog::new();
    let mut builder = tlog::TreeBuilder::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let e = entry(i);
        leaves.push(leaf_hash(&e));
        builder.append(&e).unwrap();
        log.append(e);
    }
    assert_eq!(log.root(), mth(&leaves), "MemoryLog root");
    assert_eq!(builder.root(), mth(&leaves), "TreeBuilder root");
    assert_eq!(tlog::root_from_leaf_hashes(&leaves), mth(&leaves), "root_from_leaf_hashes");

    let m = m_sel % (n + 1);
    let root_m = mth(&leaves[..m]);
    assert_eq!(log.root_at(m as u64).unwrap(), root_m, "root_at");
    assert_eq!(tlog::tree_root(m as u64, &log).unwrap(), root_m, "tree_root");

    if m > 0 {
        let i = i_sel % m;
        let naive = path(i, &leaves[..m]);
        let ours = log.inclusion_proof(i as u64, m as u64).unwrap();
        assert_eq!(ours, naive, "inclusion proof ({i}, {m})");
        assert_eq!(tlog::prove_inclusion(i as u64, m as u64, &log).unwrap(), naive);
        tlog::verify_inclusion(&leaves[i], i as u64, m as u64, &ours, &root_m)
            .expect("a true inclusion proof verifies");
        if !ours.is_empty() {
            let mut bad = ours.clone();
            let k = flip % bad.len();
            let mut b = *bad[k].as_bytes();
            b[flip % 32] ^= 1 << (flip % 8);
            bad[k] = Hash::from_slice(&b).unwrap();
            assert!(
                tlog::verify_inclusion(&leaves[i], i as u64, m as u64, &bad, &root_m).is_err(),
                "a changed inclusion proof verifies"
            );
        }
        let mut short = ours.clone();
        short.pop();
        if short.len() != ours.len() {
            assert!(tlog::verify_inclusion(&leaves[i], i as u64, m as u64, &short, &root_m).is_err());
        }
        let mut long = ours.clone();
        long.push(root_m);
        assert!(tlog::verify_inclusion(&leaves[i], i as u64, m as u64, &long, &root_m).is_err());
        assert!(tlog::verify_inclusion(&leaves[i], m as u64, m as u64, &ours, &root_m).is_err());
    }

    // Consistency between m and every size from m to n (a few), RFC 9162 §2.1.4.
    let root_n = mth(&leaves);
    for new in [n, (m + n) / 2, m] {
        if new < m {
            continue;
        }
        let root_new = mth(&leaves[..new]);
        if m == 0 {
            // No proof from the empty tree is made; the empty proof verifies from EMPTY_ROOT.
            assert!(log.consistency_proof(0, new as u64).is_err());
            tlog::verify_consistency(0, new as u64, &tlog::EMPTY_ROOT, &root_new, &[])
                .expect("the empty tree is consistent with any tree");
            continue;
        }
        let naive = if m == new { vec![] } else { subproof(m, &leaves[..new], true) };
        let ours = log.consistency_proof(m as u64, new as u64).unwrap();
        assert_eq!(ours, naive, "consistency proof ({m}, {new})");
        assert_eq!(tlog::prove_consistency(m as u64, new as u64, &log).unwrap(), naive);
        tlog::verify_consistency(m as u64, new as u64, &root_m, &root_new, &ours)
            .expect("a true consistency proof verifies");
        if !ours.is_empty() {
            let mut bad = ours.clone();
            let k = flip % bad.len();
            let mut b = *bad[k].as_bytes();
            b[flip % 32] ^= 1 << (flip % 8);
            bad[k] = Hash::from_slice(&b).unwrap();
            assert!(
                tlog::verify_consistency(m as u64, new as u64, &root_m, &root_new, &bad).is_err(),
                "a changed consistency proof verifies"
            );
        }
        if m > 0 && m < new && root_m != root_n {
            // The old root of another tree must not be proven consistent.
            let _ = tlog::verify_consistency(m as u64, new as u64, &root_n, &root_new, &ours)
                .map(|_| panic!("consistency verified against a wrong old root"));
        }
    }
});
