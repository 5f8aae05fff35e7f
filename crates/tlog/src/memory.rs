//! An in-memory log: the reference implementation of the storage traits, for tests and tools.
//! It is not a storage engine for the registry (which keeps hashes or tiles in its database).

use crate::builder::TreeBuilder;
use crate::hash::Hash;
use crate::proof::{self, HashReader, NodeId, ProofError, StorageError};
use crate::tile::{encode_entry_bundle, read_tile_data, EntryBundle, Tile, TileReader};

/// An append-only log held in memory: its entries and every perfect subtree hash.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    entries: Vec<Vec<u8>>,
    /// `levels[l][i]` is the hash of `NodeId::new(l, i)`.
    levels: Vec<Vec<Hash>>,
    builder: TreeBuilder,
}

/// A node or tile the [`MemoryLog`] does not (yet) have.
#[derive(Debug, thiserror::Error)]
#[error("memory log of size {size} has no {what}")]
pub struct NotFound {
    size: u64,
    what: String,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry and returns its leaf index.
    pub fn append(&mut self, entry: impl Into<Vec<u8>>) -> u64 {
        let entry = entry.into();
        let completed = self
            .builder
            .append(&entry)
            .expect("an in-memory log cannot hold 2^64 entries");
        for (node, hash) in completed {
            let level = usize::from(node.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            debug_assert_eq!(self.levels[level].len() as u64, node.index);
            self.levels[level].push(hash);
        }
        self.entries.push(entry);
        self.entries.len() as u64 - 1
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Option<&[u8]> {
        self.entries
            .get(usize::try_from(index).ok()?)
            .map(|e| &e[..])
    }

    /// The leaf hash at `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of the whole log.
    pub fn root(&self) -> Hash {
        self.builder.root()
    }

    /// The root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        proof::tree_root(size, self)
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        proof::prove_inclusion(index, size, self)
    }

    /// The consistency proof from the first `old` to the first `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new)?;
        proof::prove_consistency(old, new, self)
    }

    /// The entry bundle `bundle` (tlog-tiles §"Log entries").
    pub fn entry_bundle(&self, bundle: EntryBundle) -> Result<Vec<u8>, StorageError> {
        let start = bundle.index.saturating_mul(256);
        let end = start.saturating_add(u64::from(bundle.width));
        if end > self.size() {
            return Err(self.not_found(format!("entry bundle {}", bundle.path())));
        }
        encode_entry_bundle(&self.entries[start as usize..end as usize]).map_err(StorageError::new)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::Storage(
                self.not_found(format!("tree of size {size}")),
            ));
        }
        Ok(())
    }

    fn not_found(&self, what: String) -> StorageError {
        StorageError::new(NotFound {
            size: self.size(),
            what,
        })
    }
}

impl HashReader for MemoryLog {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        nodes
            .iter()
            .map(|n| {
                self.levels
                    .get(usize::from(n.level))
                    .and_then(|l| l.get(usize::try_from(n.index).ok()?))
                    .copied()
                    .ok_or_else(|| self.not_found(format!("node {n:?}")))
            })
            .collect()
    }
}

impl TileReader for MemoryLog {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
        tiles
            .iter()
            .map(|t| {
                read_tile_data(*t, self).map_err(|e| match e {
                    ProofError::Storage(s) => s,
                    other => StorageError::new(other),
                })
            })
            .collect()
    }
}
