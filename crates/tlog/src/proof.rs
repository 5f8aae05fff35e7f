//! RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs: generation over stored
//! subtree hashes, and verification by the RFC's own algorithms.
//!
//! # How generation reads storage
//!
//! Every hash a proof carries is `MTH(D[a:b])` for some range the RFC's recursion (`PATH`,
//! `SUBPROOF`) names. Each such range is aligned the way the largest-power-of-two split aligns
//! ranges, so it is the fold of at most `log2(b - a) + 1` *perfect* subtrees (subtrees whose leaf
//! count is a power of two). A perfect subtree never changes once its last leaf is appended, so
//! it is what a storage layer keeps: this module asks a [`HashReader`] for perfect subtree
//! hashes, identified by [`NodeId`], in **one batch per proof**, `O(log n)` of them in all. A
//! storage layer that keeps C2SP tiles answers through [`crate::tile::TileHashReader`].

use crate::hash::{node_hash, split_point, Hash, EMPTY_ROOT};

/// A perfect subtree of the log: the `2^level` leaves `D[index * 2^level : (index + 1) * 2^level]`.
///
/// Level 0 nodes are leaves (their hash is the RFC 9162 §2.1.1 leaf hash); the hash of a node at
/// level `l > 0` is `node_hash(child(l-1, 2i), child(l-1, 2i+1))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; the subtree holds `2^level` leaves. At most 63.
    pub level: u8,
    /// Position among the nodes of this level, counting from 0 at the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` and `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The leaf at `index`.
    pub const fn leaf(index: u64) -> Self {
        NodeId { level: 0, index }
    }

    /// The first leaf index it covers, or `None` on overflow or `level > 63`.
    pub fn start(&self) -> Option<u64> {
        self.index
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }

    /// One past the last leaf index it covers, or `None` on overflow or `level > 63`.
    pub fn end(&self) -> Option<u64> {
        self.index
            .checked_add(1)?
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }

    /// Whether the node is complete in a tree of `size` leaves (only complete nodes have a
    /// stored hash: a node's hash is fixed once its last leaf is appended).
    pub fn exists_in(&self, size: u64) -> bool {
        self.end().is_some_and(|end| end <= size)
    }
}

/// An error from the storage behind a [`HashReader`] or a [`crate::tile::TileReader`].
#[derive(Debug, thiserror::Error)]
#[error("storage")]
pub struct StorageError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

impl StorageError {
    /// Wraps any error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        StorageError(err.into())
    }
}

/// Read access to the hashes of perfect subtrees: the whole interface between proof generation
/// and whatever stores the log. This crate never chooses a storage engine.
pub trait HashReader {
    /// Returns the hash of each node, in the order asked. Every node asked for is complete in
    /// the tree being proved (see [`NodeId::exists_in`]); an implementation returns an error for
    /// a node it does not have, never a made-up hash.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError>;
}

impl<T: HashReader + ?Sized> HashReader for &T {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        (**self).read_hashes(nodes)
    }
}

/// Why a proof or root could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// RFC 9162 §2.1.3.1: an inclusion proof needs `0 <= index < tree size`.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// Leaf index asked for.
        index: u64,
        /// Tree size asked for.
        size: u64,
    },
    /// RFC 9162 §2.1.4.1: a consistency proof needs `0 < old <= new` (an empty old tree is
    /// consistent with every tree and has no proof).
    #[error("no consistency proof from size {old} to size {new}")]
    InvalidSizes {
        /// Older tree size.
        old: u64,
        /// Newer tree size.
        new: u64,
    },
    /// A node asked for is not complete in the tree (see [`NodeId::exists_in`]).
    #[error("node {node:?} is not complete in a tree of size {size}")]
    NodeNotInTree {
        /// The node.
        node: NodeId,
        /// The tree size.
        size: u64,
    },
    /// The tile lies beyond any tree of at most `2^64 - 1` leaves.
    #[error("no tree has tile {0}")]
    NoSuchTile(String),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The storage answered a batch with the wrong number of hashes.
    #[error("storage returned {got} hashes for {want} nodes")]
    ShortRead {
        /// Number of nodes asked for.
        want: usize,
        /// Number of hashes returned.
        got: usize,
    },
}

/// A half-open range of leaves `[start, end)` whose Merkle Tree Hash a proof or root needs.
///
/// Only ranges produced by the RFC 9162 recursion are ever built, and those are aligned: `start`
/// is a multiple of the smallest power of two `>= end - start`. That makes [`Self::nodes`] exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u64,
    end: u64,
}

impl Range {
    /// RFC 9162 §2.1.1 applied to an aligned range: `MTH(D[a:b])` splits at the largest power of
    /// two `k < b - a`, and `D[a:a+k]` is then perfect, so the range is the perfect subtrees given
    /// by the set bits of `b - a`, largest (leftmost) first.
    fn nodes(self, out: &mut Vec<NodeId>) {
        let mut start = self.start;
        let mut len = self.end - self.start;
        while len > 0 {
            let level = 63 - len.leading_zeros();
            let width = 1u64 << level;
            debug_assert_eq!(start % width, 0, "range {self:?} is not aligned");
            out.push(NodeId::new(level as u8, start >> level));
            start += width;
            len -= width;
        }
    }
}

/// Which perfect subtrees make up each proof element, in proof order: the plan a storage layer
/// (or [`crate::tile`]) can use to fetch everything a proof needs in one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    /// For each proof element, in order, the perfect subtrees whose hashes fold (right to left,
    /// `node_hash(n0, node_hash(n1, ...))`) into it.
    pub elements: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    fn from_ranges(ranges: &[Range]) -> Self {
        let elements = ranges
            .iter()
            .map(|r| {
                let mut v = Vec::new();
                r.nodes(&mut v);
                v
            })
            .collect();
        ProofPlan { elements }
    }

    /// Every node the plan reads, in plan order (may repeat a node only if two elements share
    /// it, which the RFC recursion never does).
    pub fn nodes(&self) -> Vec<NodeId> {
        self.elements.iter().flatten().copied().collect()
    }

    /// Reads the nodes in one batch and folds them into the proof hashes.
    pub fn execute<R: HashReader + ?Sized>(&self, reader: &R) -> Result<Vec<Hash>, ProofError> {
        let nodes = self.nodes();
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let hashes = reader.read_hashes(&nodes)?;
        if hashes.len() != nodes.len() {
            return Err(ProofError::ShortRead {
                want: nodes.len(),
                got: hashes.len(),
            });
        }
        let mut at = 0;
        let mut out = Vec::with_capacity(self.elements.len());
        for element in &self.elements {
            let part = &hashes[at..at + element.len()];
            at += element.len();
            out.push(fold_right(part));
        }
        Ok(out)
    }
}

/// `node_hash(h0, node_hash(h1, ... node_hash(h_{k-2}, h_{k-1})))`: the Merkle Tree Hash of an
/// aligned range from its perfect subtrees, largest first (RFC 9162 §2.1.1 recursion, unrolled).
fn fold_right(parts: &[Hash]) -> Hash {
    let (last, rest) = parts.split_last().expect("a range has at least one node");
    rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
}

/// The plan for the root of a tree of `size > 0` leaves: one element, `MTH(D[0:size])`.
pub fn root_plan(size: u64) -> ProofPlan {
    ProofPlan::from_ranges(&[Range {
        start: 0,
        end: size,
    }])
}

/// RFC 9162 §2.1.1: the root hash of the first `size` leaves, from `popcount(size)` stored
/// perfect subtree hashes. The empty tree's root is [`EMPTY_ROOT`].
pub fn tree_root<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    Ok(root_plan(size).execute(reader)?[0])
}

/// RFC 9162 §2.1.3.1 `PATH(m, D[n])`, as the list of ranges it hashes, in proof order.
///
/// ```text
/// PATH(0, {d(0)}) = {}
/// m <  k: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
/// m >= k: PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
/// ```
fn path_ranges(m: u64, start: u64, end: u64, out: &mut Vec<Range>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path_ranges(m, start, start + k, out);
        out.push(Range {
            start: start + k,
            end,
        });
    } else {
        path_ranges(m - k, start + k, end, out);
        out.push(Range {
            start,
            end: start + k,
        });
    }
}

/// The nodes an inclusion proof for leaf `index` in a tree of `size` leaves reads.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    path_ranges(index, 0, size, &mut ranges);
    Ok(ProofPlan::from_ranges(&ranges))
}

/// RFC 9162 §2.1.3.1: the inclusion proof (audit path) for leaf `index` in the tree of the first
/// `size` leaves, nearest sibling first.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofError> {
    inclusion_plan(index, size)?.execute(reader)
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(m, D[n], b)`, as the list of ranges it hashes, in proof order.
///
/// ```text
/// SUBPROOF(m, D[m], true)  = {}
/// SUBPROOF(m, D[m], false) = {MTH(D[m])}
/// m <= k: SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
/// m >  k: SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
/// ```
fn subproof_ranges(m: u64, start: u64, end: u64, b: bool, out: &mut Vec<Range>) {
    let n = end - start;
    if m == n {
        if !b {
            out.push(Range { start, end });
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof_ranges(m, start, start + k, b, out);
        out.push(Range {
            start: start + k,
            end,
        });
    } else {
        subproof_ranges(m - k, start + k, end, false, out);
        out.push(Range {
            start,
            end: start + k,
        });
    }
}

/// The nodes a consistency proof from `old` to `new` leaves reads. `0 < old <= new`; the proof
/// from a size to itself is empty.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::InvalidSizes { old, new });
    }
    let mut ranges = Vec::new();
    // RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    subproof_ranges(old, 0, new, true, &mut ranges);
    Ok(ProofPlan::from_ranges(&ranges))
}

/// RFC 9162 §2.1.4.1: the consistency proof that the tree of the first `old` leaves is a prefix
/// of the tree of the first `new` leaves.
pub fn prove_consistency<R: HashReader + ?Sized>(
    old: u64,
    new: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofError> {
    consistency_plan(old, new)?.execute(reader)
}

/// Why a proof did not verify. Each variant names the step of the RFC 9162 algorithm that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// RFC 9162 §2.1.3.2 step 1: `leaf_index >= tree_size`.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// Claimed leaf index.
        index: u64,
        /// Claimed tree size.
        size: u64,
    },
    /// RFC 9162 §2.1.3.2 step 4a / §2.1.4.2 step 6a: more proof hashes than the tree has levels.
    #[error("proof has more hashes than the tree sizes allow")]
    ProofTooLong,
    /// RFC 9162 §2.1.3.2 step 5 / §2.1.4.2 step 7: `sn` not 0 once the proof is used up.
    #[error("proof has fewer hashes than the tree sizes need")]
    ProofTooShort,
    /// RFC 9162 §2.1.3.2 step 5: the computed root is not the claimed root.
    #[error("computed root does not match the tree root")]
    RootMismatch,
    /// RFC 9162 §2.1.4: a consistency proof relates an older (smaller) tree to a newer one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldLargerThanNew {
        /// Claimed old size.
        old: u64,
        /// Claimed new size.
        new: u64,
    },
    /// RFC 9162 §2.1.4.2 step 1: an empty proof between different sizes.
    #[error("consistency proof is empty")]
    EmptyProof,
    /// Equal sizes, or an empty old tree, need an empty proof (RFC 9162 §2.1.4.1 gives none).
    #[error("consistency proof must be empty for these sizes")]
    UnexpectedProof,
    /// RFC 9162 §2.1.4.2 step 7: the computed old root is not the claimed old root.
    #[error("computed old root does not match the old tree root")]
    OldRootMismatch,
    /// RFC 9162 §2.1.4.2 step 7: the computed new root is not the claimed new root.
    #[error("computed new root does not match the new tree root")]
    NewRootMismatch,
}

/// RFC 9162 §2.1.3.2 steps 1–4: the root that `leaf_hash` at `index` and `proof` imply for a
/// tree of `size` leaves (step 5 checks it against the known root: [`verify_inclusion`]).
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    // Step 1: compare leaf_index from the inclusion_proof_v2 structure against tree_size. If
    // leaf_index is greater than or equal to tree_size, then fail the proof verification.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // Step 2: set fn to leaf_index and sn to tree_size - 1.
    let (mut fn_, mut sn) = (index, size - 1);
    // Step 3: set r to hash.
    let mut r = *leaf_hash;
    // Step 4: for each value p in the inclusion_path array:
    for p in proof {
        // 4a: if sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        // 4b: if LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. if LSB(fn) is not set, then right-shift both fn and sn equally until either
            //     LSB(fn) is set or fn is 0.
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // 4c: finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5 (first half): sn must be 0.
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok(r)
}

/// RFC 9162 §2.1.3.2: verifies that `leaf_hash` is the leaf at `index` of the tree of `size`
/// leaves whose root is `root`.
///
/// The proof binds the leaf to `root`; it is the signed checkpoint that binds `root` to `size`.
/// Always take `size` and `root` together from one verified checkpoint.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let r = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    // Step 5 (second half): compare r against the root_hash.
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`.
///
/// Edge cases the RFC algorithm leaves to the caller (it assumes `0 < first < second`):
/// equal sizes need an empty proof and equal roots; an empty old tree needs an empty proof and
/// `old_root` equal to [`EMPTY_ROOT`] (RFC 9162 §2.1.1 `MTH({})`).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::UnexpectedProof);
        }
        if old_size == 0 {
            return if *old_root == EMPTY_ROOT {
                Ok(())
            } else {
                Err(VerifyError::OldRootMismatch)
            };
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(VerifyError::NewRootMismatch)
        };
    }
    // Step 1: if consistency_path is an empty array, stop and fail the proof verification.
    if proof.is_empty() {
        return Err(VerifyError::EmptyProof);
    }
    // Step 2: if first is an exact power of 2, then prepend first_hash to the consistency_path.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // Step 3: set fn to first - 1 and sn to second - 1.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // Step 4: if LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5: set both fr and sr to the first value in the consistency_path array.
    let (mut fr, mut sr) = (path[0], path[0]);
    // Step 6: for each subsequent value c in the consistency_path array:
    for c in &path[1..] {
        // 6a: if sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        // 6b: if LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. set fr to HASH(0x01 || c || fr); ii. set sr to HASH(0x01 || c || sr).
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            // iii. if LSB(fn) is not set, then right-shift both fn and sn equally until either
            //      LSB(fn) is set or fn is 0.
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: set sr to HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // 6c: finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7: verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_decompose_into_aligned_perfect_nodes() {
        let mut v = Vec::new();
        Range { start: 8, end: 15 }.nodes(&mut v);
        assert_eq!(
            v,
            vec![NodeId::new(2, 2), NodeId::new(1, 6), NodeId::new(0, 14)]
        );
    }

    #[test]
    fn node_bounds_are_checked() {
        assert_eq!(NodeId::new(3, 2).start(), Some(16));
        assert_eq!(NodeId::new(3, 2).end(), Some(24));
        assert_eq!(NodeId::new(64, 0).end(), None);
        assert_eq!(NodeId::new(1, u64::MAX).end(), None);
        assert!(NodeId::new(3, 2).exists_in(24));
        assert!(!NodeId::new(3, 2).exists_in(23));
    }

    #[test]
    fn plans_read_logarithmically_many_nodes() {
        let size = 10_000_000u64;
        for index in [0, 1, 4_999_999, 9_999_998, 9_999_999] {
            let n = inclusion_plan(index, size).unwrap().nodes().len();
            assert!(n <= 2 * 24, "inclusion {index}: {n} reads");
        }
        for old in [1, 2, 3, 1 << 20, 9_999_999] {
            let n = consistency_plan(old, size).unwrap().nodes().len();
            assert!(n <= 2 * 24 + 1, "consistency {old}: {n} reads");
        }
    }
}
