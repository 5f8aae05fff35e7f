//! A compact, append-only tree builder for sequencing: it keeps only the right edge of the tree
//! (one perfect subtree hash per set bit of the size, `O(log n)` memory) and reports every
//! perfect subtree each append completes, so a storage layer can persist exactly those.

use crate::hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
use crate::proof::{HashReader, NodeId, ProofError};

/// The right edge of a Merkle tree under construction (a "compact range" `[0, size)`).
///
/// Invariant: `edge` holds the hashes of the perfect subtrees that `size` decomposes into, one per
/// set bit of `size`, largest (leftmost) first. Their right-to-left fold is the RFC 9162 §2.1.1
/// Merkle Tree Hash of the whole tree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeBuilder {
    size: u64,
    edge: Vec<Hash>,
}

/// Why a [`TreeBuilder`] could not be restored or extended.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// The right edge given does not have one hash per set bit of the size.
    #[error("tree of size {size} has {want} right-edge subtrees, got {got}")]
    EdgeLength {
        /// Size claimed.
        size: u64,
        /// `popcount(size)`.
        want: usize,
        /// Hashes supplied.
        got: usize,
    },
    /// The tree is full (`u64::MAX` leaves).
    #[error("tree is full")]
    Full,
    /// Reading the right edge from storage failed.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// The perfect subtrees forming the right edge of a tree of `size` leaves, largest first: what a
/// storage layer reads to resume a [`TreeBuilder`] (see [`TreeBuilder::resume`]).
pub fn right_edge_nodes(size: u64) -> Vec<NodeId> {
    let mut out = Vec::with_capacity(size.count_ones() as usize);
    let mut start = 0u64;
    for level in (0..64u8).rev() {
        if size & (1u64 << level) != 0 {
            out.push(NodeId::new(level, start >> level));
            start += 1u64 << level;
        }
    }
    out
}

impl TreeBuilder {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores a builder from its size and right edge (as returned by [`Self::right_edge`]).
    pub fn from_parts(size: u64, edge: Vec<Hash>) -> Result<Self, BuilderError> {
        let want = size.count_ones() as usize;
        if edge.len() != want {
            return Err(BuilderError::EdgeLength {
                size,
                want,
                got: edge.len(),
            });
        }
        Ok(TreeBuilder { size, edge })
    }

    /// Restores a builder for a stored tree of `size` leaves, reading its `popcount(size)`
    /// right-edge hashes from `reader` in one batch.
    pub fn resume<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Self, BuilderError> {
        let nodes = right_edge_nodes(size);
        let edge = if nodes.is_empty() {
            Vec::new()
        } else {
            reader
                .read_hashes(&nodes)
                .map_err(|e| BuilderError::Proof(e.into()))?
        };
        Self::from_parts(size, edge)
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge hashes, largest subtree first (one per set bit of [`Self::size`]).
    pub fn right_edge(&self) -> &[Hash] {
        &self.edge
    }

    /// RFC 9162 §2.1.1: the Merkle Tree Hash of all leaves so far.
    pub fn root(&self) -> Hash {
        match self.edge.split_last() {
            None => EMPTY_ROOT,
            Some((last, rest)) => rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)),
        }
    }

    /// Appends an entry (hashed with the RFC 9162 §2.1.1 leaf hash); see
    /// [`Self::append_leaf_hash`].
    pub fn append(&mut self, entry: &[u8]) -> Result<Vec<(NodeId, Hash)>, BuilderError> {
        self.append_leaf_hash(leaf_hash(entry))
    }

    /// Appends a leaf hash and returns every perfect subtree this append completed, the leaf
    /// first and then upward: `(NodeId::leaf(i), leaf)`, then the parent if `i` was a right child,
    /// and so on. These are all the hashes a storage layer must persist to answer
    /// [`HashReader::read_hashes`] for every later tree (or, for tiles, the hashes at levels that
    /// are multiples of 8).
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, BuilderError> {
        if self.size == u64::MAX {
            return Err(BuilderError::Full);
        }
        let index = self.size;
        let mut completed = vec![(NodeId::leaf(index), leaf)];
        let mut hash = leaf;
        let mut level = 0u8;
        // Each trailing one bit of the old size is a perfect subtree of the same height as the
        // one just completed, directly to its left: merge them (RFC 9162 §2.1.1 node hash).
        let mut bits = index;
        while bits & 1 == 1 {
            let left = self.edge.pop().expect("edge has one hash per set bit");
            hash = node_hash(&left, &hash);
            level += 1;
            bits >>= 1;
            completed.push((NodeId::new(level, index >> level), hash));
        }
        self.edge.push(hash);
        self.size += 1;
        Ok(completed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::root_from_leaf_hashes;

    #[test]
    fn root_matches_definition_for_every_size_up_to_300() {
        let mut b = TreeBuilder::new();
        let mut leaves = Vec::new();
        assert_eq!(b.root(), EMPTY_ROOT);
        for i in 0..300u32 {
            let entry = i.to_be_bytes();
            leaves.push(leaf_hash(&entry));
            b.append(&entry).unwrap();
            assert_eq!(b.root(), root_from_leaf_hashes(&leaves), "size {}", i + 1);
            assert_eq!(b.right_edge().len(), b.size().count_ones() as usize);
        }
    }

    #[test]
    fn completed_nodes_are_the_perfect_subtrees_ending_at_the_new_leaf() {
        let mut b = TreeBuilder::new();
        let mut leaves = Vec::new();
        for i in 0..64u64 {
            let entry = i.to_be_bytes();
            leaves.push(leaf_hash(&entry));
            let done = b.append(&entry).unwrap();
            // Leaf i completes levels 0..=trailing_ones(i).
            assert_eq!(done.len(), 1 + i.trailing_ones() as usize);
            for (node, hash) in done {
                let (s, e) = (node.start().unwrap(), node.end().unwrap());
                assert_eq!(e, i + 1);
                assert_eq!(hash, root_from_leaf_hashes(&leaves[s as usize..e as usize]));
            }
        }
    }

    #[test]
    fn from_parts_checks_edge_length() {
        let b = TreeBuilder::from_parts(5, vec![EMPTY_ROOT]);
        assert!(matches!(
            b,
            Err(BuilderError::EdgeLength {
                size: 5,
                want: 2,
                got: 1
            })
        ));
    }

    #[test]
    fn right_edge_nodes_cover_the_tree() {
        assert_eq!(
            right_edge_nodes(13),
            vec![NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
        );
        assert!(right_edge_nodes(0).is_empty());
    }
}
