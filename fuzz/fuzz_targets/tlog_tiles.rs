//! C2SP tlog-tiles as a client reads them from a registry or a mirror: tile and entry-bundle
//! paths (also what the registry's `/tile/{*path}` route parses), entry bundles, and tile
//! contents served to `TileHashReader`, which builds roots and proofs from them. Whatever the
//! tiles hold, a proof built from them verifies against the root built from the same tiles.
//!
//! Input: `[size: u32 BE][index: u32 BE][old: u32 BE][path length: u8][path][tile bytes]`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::collections::HashMap;
use tlog::tile::{decode_entry_bundle, EntryBundle};
use tlog::{HashReader, NodeId, StorageError, Tile, TileHashReader, TileReader};

/// Serves tiles made from the input: a level-0 tile's hashes are a window of the input chosen
/// by its index (so a partial tile is a prefix of the full one, as in a real log), and each
/// hash of a level-1 tile is the root of the full level-0 tile below it. The tiles are thus those
/// of a real (if odd) tree, whatever the input, and every proof must verify.
struct FromInput<'a>(&'a [u8], RefCell<HashMap<u64, [u8; 32]>>);

impl FromInput<'_> {
    fn new(data: &[u8]) -> FromInput<'_> {
        FromInput(data, RefCell::new(HashMap::new()))
    }

    /// The root of the full level-0 tile `index` (computed once per input).
    fn level0_root(&self, index: u64) -> [u8; 32] {
        if let Some(r) = self.1.borrow().get(&index) {
            return *r;
        }
        let data = self.level0(index, 256);
        let leaves: Vec<tlog::Hash> = data
            .chunks_exact(32)
            .map(|c| tlog::Hash::from_slice(c).unwrap())
            .collect();
        let r = *tlog::root_from_leaf_hashes(&leaves).as_bytes();
        self.1.borrow_mut().insert(index, r);
        r
    }

    fn level0(&self, index: u64, width: u16) -> Vec<u8> {
        let want = usize::from(width) * 32;
        if self.0.is_empty() {
            return vec![0; want];
        }
        let start = (index as usize).wrapping_mul(97) % self.0.len();
        self.0[start..].iter().copied().cycle().take(want).collect()
    }

    fn tile(&self, t: &Tile) -> Vec<u8> {
        match t.level {
            0 => self.level0(t.index, t.width),
            1 => (0..u64::from(t.width))
                .flat_map(|j| self.level0_root(t.index * 256 + j))
                .collect(),
            _ => unreachable!("trees here are under 65536 leaves"),
        }
    }
}

impl TileReader for FromInput<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
        Ok(tiles.iter().map(|t| self.tile(t)).collect())
    }
}

fn u32_at(d: &[u8], i: usize) -> u64 {
    u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as u64
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 13 {
        return;
    }
    let size = u32_at(data, 0) % 65_536;
    let index = u32_at(data, 4);
    let old = u32_at(data, 8);
    let plen = (data[12] as usize).min(data.len() - 13);
    let (path, tiles) = data[13..].split_at(plen);
    if let Ok(path) = std::str::from_utf8(path) {
        if let Ok(t) = Tile::parse_path(path) {
            assert_eq!(Tile::parse_path(&t.path()).ok(), Some(t), "tile path round trip");
            let _ = t.hash_range();
            let _ = t.nodes();
            let _ = t.hashes(tiles);
        }
        if let Ok(b) = EntryBundle::parse_path(path) {
            let _ = b.entry_range();
            let _ = b.tile();
            let _ = b.path();
        }
    }
    if let Ok(entries) = decode_entry_bundle(tiles) {
        let again = tlog::tile::encode_entry_bundle(&entries).unwrap();
        assert_eq!(again, tiles, "entry bundle round trip");
    }
    let _ = tlog::tile::tiles_for_size(size);
    let reader = TileHashReader::new(size, FromInput::new(tiles));
    let Ok(root) = tlog::tree_root(size, &reader) else {
        return;
    };
    if size > 0 {
        let i = index % size;
        if let Ok(proof) = tlog::prove_inclusion(i, size, &reader) {
            let leaf = reader.read_hashes(&[NodeId::leaf(i)]).unwrap()[0];
            tlog::verify_inclusion(&leaf, i, size, &proof, &root)
                .expect("inclusion proof from tiles verifies against their root");
        }
        // The old tree read from the same tiles (its nodes are complete in the new tree): a
        // consistency proof built from them verifies.
        let old = old % (size + 1);
        if let (Ok(old_root), Ok(proof)) = (
            tlog::tree_root(old, &reader),
            tlog::prove_consistency(old, size, &reader),
        ) {
            tlog::verify_consistency(old, size, &old_root, &root, &proof)
                .expect("consistency proof from tiles verifies");
        }
    }
});
