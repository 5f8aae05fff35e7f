//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile coordinates and paths, tile contents,
//! which tiles a tree or a proof needs, and proof generation from tiles.
//!
//! tlog-tiles §"Merkle Tree": the `n`-th tile at level `l` is the 256 Merkle Tree Hashes
//! `MTH(D[(n*256 + i) * 256^l : (n*256 + i + 1) * 256^l])`, `i` in `0..256`, concatenated. So a
//! tile at level `l` holds the hashes of the perfect subtrees at tree level `8*l`, and any perfect
//! subtree at tree level `8*l + r` (`r < 8`) is the Merkle Tree Hash of `2^r` consecutive hashes of
//! one tile: one tile read per proof node, `O(log n / 8)` distinct tiles per proof.

use std::collections::BTreeMap;
use std::fmt;

use crate::hash::{Hash, HASH_SIZE};
use crate::proof::{
    consistency_plan, inclusion_plan, HashReader, NodeId, ProofError, StorageError,
};

/// tlog-tiles: "Full tiles MUST be exactly 256 hashes wide".
pub const TILE_WIDTH: u16 = 256;
/// Tree levels per tile level (`log2(TILE_WIDTH)`).
pub const TILE_HEIGHT: u8 = 8;

/// A Merkle tree tile: level `level`, index `index`, holding `width` hashes (256 when full,
/// 1..=255 when partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level `L`: its hashes are tree nodes at level `8 * L`. tlog-tiles: 0..=63.
    pub level: u8,
    /// Tile index `N` within its level.
    pub index: u64,
    /// Number of hashes, 1..=256.
    pub width: u16,
}

/// An entry bundle (tlog-tiles §"Log entries"): the entries whose leaf hashes form the level-0
/// tile with the same index and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundle {
    /// Bundle index `N`.
    pub index: u64,
    /// Number of entries, 1..=256.
    pub width: u16,
}

/// A malformed tile or entry-bundle path, or malformed tile contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    #[error("malformed tile path {path:?}: {reason}")]
    Path {
        /// The path given.
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Tile contents are not `width * 32` bytes.
    #[error("tile {tile} holds {got} bytes, want {want}")]
    DataLength {
        /// The tile path.
        tile: String,
        /// Bytes expected.
        want: usize,
        /// Bytes given.
        got: usize,
    },
    /// An entry bundle is truncated, has trailing bytes, or holds an entry over 65535 bytes.
    #[error("malformed entry bundle: {0}")]
    Bundle(&'static str),
}

fn path_err(path: &str, reason: &'static str) -> TileError {
    TileError::Path {
        path: path.to_string(),
        reason,
    }
}

/// tlog-tiles: "`<N>` ... MUST be a non-negative integer encoded into zero-padded 3-digit path
/// elements. All but the last path element MUST begin with an `x`." (1234067 → `x001/x234/067`.)
pub fn encode_tile_index(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        parts.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

/// Parses the `<N>` path elements strictly: only the canonical encoding
/// [`encode_tile_index`] produces is accepted (no `x000` leading element, no missing `x`).
fn parse_tile_index(path: &str, elems: &[&str]) -> Result<u64, TileError> {
    let Some((last, rest)) = elems.split_last() else {
        return Err(path_err(path, "missing tile index"));
    };
    let mut n: u64 = 0;
    for (i, e) in rest.iter().chain(std::iter::once(last)).enumerate() {
        let digits = if i < rest.len() {
            e.strip_prefix('x')
                .ok_or_else(|| path_err(path, "non-final index element must start with 'x'"))?
        } else {
            e
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(path_err(path, "index element must be 3 decimal digits"));
        }
        let d: u64 = digits.parse().expect("3 ascii digits");
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(|| path_err(path, "tile index overflows 64 bits"))?;
    }
    if encode_tile_index(n) != elems.join("/") {
        return Err(path_err(path, "tile index is not canonically encoded"));
    }
    Ok(n)
}

/// A decimal with no leading zeroes (tlog-tiles `<L>` and `<W>`).
fn parse_small_decimal(path: &str, s: &str, what: &'static str) -> Result<u64, TileError> {
    if s.is_empty()
        || s.len() > 3
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(path_err(path, what));
    }
    Ok(s.parse().expect("short ascii digits"))
}

/// Splits `tile/<rest>[.p/<W>]` into the `/`-separated elements of `<rest>` and the width.
fn split_path(path: &str) -> Result<(Vec<&str>, u16), TileError> {
    let rest = path
        .strip_prefix("tile/")
        .ok_or_else(|| path_err(path, "must start with \"tile/\""))?;
    let (main, width) = match rest.split_once(".p/") {
        Some((main, w)) => {
            let w = parse_small_decimal(path, w, "width must be 1..=255 without leading zeroes")?;
            if !(1..=255).contains(&w) {
                return Err(path_err(
                    path,
                    "width must be 1..=255 without leading zeroes",
                ));
            }
            (main, w as u16)
        }
        None => (rest, TILE_WIDTH),
    };
    Ok((main.split('/').collect(), width))
}

/// `index * 256 .. index * 256 + width` when it fits in `u64`.
fn span(index: u64, width: u16) -> Option<std::ops::Range<u64>> {
    let start = index.checked_mul(u64::from(TILE_WIDTH))?;
    let end = start.checked_add(u64::from(width))?;
    Some(start..end)
}

fn width_suffix(width: u16) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

impl Tile {
    /// tlog-tiles: `tile/<L>/<N>[.p/<W>]`, the `.p/<W>` suffix only for partial tiles.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}{}",
            self.level,
            encode_tile_index(self.index),
            width_suffix(self.width)
        )
    }

    /// Parses a tile path strictly: `<L>` 0..=63 and `<W>` 1..=255 with no leading zeroes, `<N>`
    /// canonically encoded.
    pub fn parse_path(path: &str) -> Result<Tile, TileError> {
        let (elems, width) = split_path(path)?;
        let (level, index_elems) = elems
            .split_first()
            .ok_or_else(|| path_err(path, "missing level"))?;
        if *level == "entries" {
            return Err(path_err(path, "an entry bundle path, not a tile path"));
        }
        let level =
            parse_small_decimal(path, level, "level must be 0..=63 without leading zeroes")?;
        if level > 63 {
            return Err(path_err(
                path,
                "level must be 0..=63 without leading zeroes",
            ));
        }
        let index = parse_tile_index(path, index_elems)?;
        Ok(Tile {
            level: level as u8,
            index,
            width,
        })
    }

    /// The positions, among the hashes of its level, of the hashes this tile holds:
    /// `index * 256 .. index * 256 + width`. A well-formed path may name a tile beyond any
    /// 64-bit position (`<N>` up to `2^64 - 1`); that is an error, never an overflow.
    pub fn hash_range(&self) -> Result<std::ops::Range<u64>, TileError> {
        span(self.index, self.width).ok_or_else(|| TileError::Path {
            path: self.path(),
            reason: "tile lies beyond the 2^64 - 1 hashes a level can hold",
        })
    }

    /// Whether the tile is partial (fewer than 256 hashes).
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The tree nodes (level `8 * L`) whose hashes the tile holds, left to right, or `None` for a
    /// tile no tree of at most `2^64 - 1` leaves has (`L > 7`, or an index too large). Such paths
    /// are still well-formed: tlog-tiles allows `L` up to 63.
    pub fn nodes(&self) -> Option<Vec<NodeId>> {
        let level = u16::from(self.level) * u16::from(TILE_HEIGHT);
        if level > 63 {
            return None;
        }
        let first = self.index.checked_mul(u64::from(TILE_WIDTH))?;
        let nodes: Vec<NodeId> = (0..u64::from(self.width))
            .map(|i| Some(NodeId::new(level as u8, first.checked_add(i)?)))
            .collect::<Option<_>>()?;
        // The last node must itself fit below 2^64 leaves.
        nodes.last()?.end()?;
        Some(nodes)
    }

    /// Checks that `data` is exactly `width * 32` bytes and returns its hashes.
    pub fn hashes(&self, data: &[u8]) -> Result<Vec<Hash>, TileError> {
        let want = usize::from(self.width) * HASH_SIZE;
        if data.len() != want {
            return Err(TileError::DataLength {
                tile: self.path(),
                want,
                got: data.len(),
            });
        }
        Ok(data
            .chunks_exact(HASH_SIZE)
            .map(|c| Hash::from_slice(c).expect("chunk is HASH_SIZE"))
            .collect())
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl EntryBundle {
    /// tlog-tiles: `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/entries/{}{}",
            encode_tile_index(self.index),
            width_suffix(self.width)
        )
    }

    /// Parses an entry bundle path strictly (see [`Tile::parse_path`]).
    pub fn parse_path(path: &str) -> Result<EntryBundle, TileError> {
        let (elems, width) = split_path(path)?;
        match elems.split_first() {
            Some((&"entries", index_elems)) => Ok(EntryBundle {
                index: parse_tile_index(path, index_elems)?,
                width,
            }),
            _ => Err(path_err(path, "must start with \"tile/entries/\"")),
        }
    }

    /// The log positions of the entries this bundle holds: `index * 256 .. index * 256 +
    /// width`, or an error for a bundle beyond any 64-bit position (see [`Tile::hash_range`]).
    pub fn entry_range(&self) -> Result<std::ops::Range<u64>, TileError> {
        span(self.index, self.width).ok_or_else(|| TileError::Path {
            path: self.path(),
            reason: "entry bundle lies beyond the 2^64 - 1 entries a log can hold",
        })
    }

    /// The level-0 tile holding these entries' leaf hashes.
    pub fn tile(&self) -> Tile {
        Tile {
            level: 0,
            index: self.index,
            width: self.width,
        }
    }
}

/// tlog-tiles §"Log entries": "Entry bundles are sequences of big-endian uint16 length-prefixed
/// log entries."
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len =
            u16::try_from(e.len()).map_err(|_| TileError::Bundle("entry over 65535 bytes"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries; rejects truncation and trailing bytes.
pub fn decode_entry_bundle(mut data: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 2 {
            return Err(TileError::Bundle("truncated length prefix"));
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        data = &data[2..];
        if data.len() < len {
            return Err(TileError::Bundle("truncated entry"));
        }
        out.push(data[..len].to_vec());
        data = &data[len..];
    }
    if out.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::Bundle("more than 256 entries"));
    }
    Ok(out)
}

/// Number of hashes at tile level `level` in a tree of `size` leaves: `floor(size / 256^level)`.
fn hashes_at_tile_level(size: u64, level: u8) -> u64 {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    size.checked_shr(shift).unwrap_or(0)
}

/// The tile (full if it exists at `size`, else the partial one of the width `size` implies) at
/// `level` holding hash number `hash_index` of that level, or `None` if that hash does not exist
/// in a tree of `size` leaves.
fn tile_holding(level: u8, hash_index: u64, size: u64) -> Option<Tile> {
    let count = hashes_at_tile_level(size, level);
    if hash_index >= count {
        return None;
    }
    let index = hash_index / u64::from(TILE_WIDTH);
    let width = (count - index * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH)) as u16;
    Some(Tile {
        level,
        index,
        width,
    })
}

/// Where a perfect subtree lives in the tiles of a tree of `size` leaves: the tile, and the range
/// of that tile's hashes whose Merkle Tree Hash it is. `None` if the node is not complete at `size`
/// or its level is beyond 63.
pub fn locate_node(node: NodeId, size: u64) -> Option<(Tile, std::ops::Range<usize>)> {
    if node.level > 63 || !node.exists_in(size) {
        return None;
    }
    let tile_level = node.level / TILE_HEIGHT;
    let r = node.level % TILE_HEIGHT;
    // The node spans hashes [index << r, (index + 1) << r) of its tile level.
    let first = node.index.checked_shl(u32::from(r))?;
    let last = (node.index + 1).checked_shl(u32::from(r))? - 1;
    let tile = tile_holding(tile_level, last, size)?;
    let base = tile.index * u64::from(TILE_WIDTH);
    let lo = (first - base) as usize;
    let hi = (last - base) as usize + 1;
    Some((tile, lo..hi))
}

/// The distinct tiles (deduplicated, sorted) holding `nodes` in a tree of `size` leaves.
pub fn tiles_for_nodes(nodes: &[NodeId], size: u64) -> Result<Vec<Tile>, ProofError> {
    let mut tiles = Vec::with_capacity(nodes.len());
    for node in nodes {
        let (tile, _) =
            locate_node(*node, size).ok_or(ProofError::NodeNotInTree { node: *node, size })?;
        tiles.push(tile);
    }
    tiles.sort();
    tiles.dedup();
    Ok(tiles)
}

/// The tiles needed to build the inclusion proof of leaf `index` in the tree of `size` leaves
/// (at most two per tile level that the path crosses).
pub fn tiles_for_inclusion_proof(index: u64, size: u64) -> Result<Vec<Tile>, ProofError> {
    tiles_for_nodes(&inclusion_plan(index, size)?.nodes(), size)
}

/// The tiles needed to build the consistency proof from `old` to `new` leaves (tiles of the
/// `new` tree).
pub fn tiles_for_consistency_proof(old: u64, new: u64) -> Result<Vec<Tile>, ProofError> {
    tiles_for_nodes(&consistency_plan(old, new)?.nodes(), new)
}

/// The tiles that exist at tree size `new` but not (with the same width) at size `old`: what a
/// log must write when it grows from `old` to `new`. tlog-tiles §"Partial Tiles": "The partial
/// tile at level *l* for a tree of size *s* has `floor(s / 256**l) mod 256` entries."
pub fn new_tiles(old: u64, new: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    if new <= old {
        return out;
    }
    for level in 0..=63u8 {
        let count_new = hashes_at_tile_level(new, level);
        if count_new == 0 {
            break;
        }
        let count_old = hashes_at_tile_level(old, level);
        if count_new == count_old {
            continue;
        }
        let first = count_old / u64::from(TILE_WIDTH);
        let end = count_new.div_ceil(u64::from(TILE_WIDTH));
        for index in first..end {
            let width = (count_new - index * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH));
            out.push(Tile {
                level,
                index,
                width: width as u16,
            });
        }
    }
    out
}

/// Every tile of a tree of `size` leaves: `new_tiles(0, size)`.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    new_tiles(0, size)
}

/// The contents of `tile` (its hashes concatenated), read from stored perfect subtree hashes.
pub fn read_tile_data<R: HashReader + ?Sized>(
    tile: Tile,
    reader: &R,
) -> Result<Vec<u8>, ProofError> {
    let nodes = tile.nodes().ok_or(ProofError::NoSuchTile(tile.path()))?;
    let hashes = reader.read_hashes(&nodes)?;
    if hashes.len() != nodes.len() {
        return Err(ProofError::ShortRead {
            want: nodes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Read access to stored tiles: what a static tlog-tiles log (files, object store, CDN) offers.
pub trait TileReader {
    /// Returns the contents of each tile, in order: `width * 32` bytes each.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StorageError> {
        (**self).read_tiles(tiles)
    }
}

/// A [`HashReader`] over the tiles of a tree of a fixed size: it maps each node to its tile (full,
/// or the partial tile that size implies), reads each distinct tile once per batch, and hashes the
/// node up from the tile's hashes.
///
/// Tile contents are not authenticated here: a proof built from tampered tiles simply fails
/// verification against the signed checkpoint's root, which every verifier performs.
#[derive(Debug, Clone)]
pub struct TileHashReader<R> {
    size: u64,
    tiles: R,
}

impl<R: TileReader> TileHashReader<R> {
    /// Reads the tree of `size` leaves from `tiles`.
    pub fn new(size: u64, tiles: R) -> Self {
        TileHashReader { size, tiles }
    }
}

#[derive(Debug, thiserror::Error)]
enum TileReadError {
    #[error("node {0:?} is not complete in a tree of size {1}")]
    Missing(NodeId, u64),
    #[error("tile reader returned {got} tiles for {want}")]
    Count { want: usize, got: usize },
    #[error(transparent)]
    Tile(#[from] TileError),
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        let mut located = Vec::with_capacity(nodes.len());
        let mut wanted: BTreeMap<Tile, usize> = BTreeMap::new();
        for node in nodes {
            let (tile, span) = locate_node(*node, self.size)
                .ok_or_else(|| StorageError::new(TileReadError::Missing(*node, self.size)))?;
            wanted.insert(tile, 0);
            located.push((tile, span));
        }
        let order: Vec<Tile> = wanted.keys().copied().collect();
        let data = self.tiles.read_tiles(&order)?;
        if data.len() != order.len() {
            return Err(StorageError::new(TileReadError::Count {
                want: order.len(),
                got: data.len(),
            }));
        }
        let mut hashes: BTreeMap<Tile, Vec<Hash>> = BTreeMap::new();
        for (tile, bytes) in order.iter().zip(&data) {
            let h = tile
                .hashes(bytes)
                .map_err(|e| StorageError::new(TileReadError::Tile(e)))?;
            hashes.insert(*tile, h);
        }
        Ok(located
            .into_iter()
            .map(|(tile, span)| crate::hash::root_from_leaf_hashes(&hashes[&tile][span]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_node_maps_levels_to_tiles() {
        // A level-3 node spans 8 hashes of a level-0 tile.
        let (t, span) = locate_node(NodeId::new(3, 33), 1 << 20).unwrap();
        assert_eq!(
            t,
            Tile {
                level: 0,
                index: 1,
                width: 256
            }
        );
        assert_eq!(span, 8..16);
        // A level-8 node is one hash of a level-1 tile; in a tree of 300 * 256 leaves the tile
        // at level 1 index 1 is partial with width 44.
        let (t, span) = locate_node(NodeId::new(8, 299), 300 * 256).unwrap();
        assert_eq!(
            t,
            Tile {
                level: 1,
                index: 1,
                width: 44
            }
        );
        assert_eq!(span, 43..44);
        assert!(locate_node(NodeId::new(8, 300), 300 * 256).is_none());
    }

    /// The largest index whose first hash position still fits in 64 bits.
    const LAST_INDEX: u64 = u64::MAX / 256;

    #[test]
    fn ranges_at_the_edge_of_u64_are_errors_not_overflows() {
        // index * 256 fits, + 256 does not: 2^64.
        let t = Tile::parse_path(&format!("tile/0/{}", encode_tile_index(LAST_INDEX))).unwrap();
        let err = t.hash_range().unwrap_err();
        assert!(
            err.to_string().contains("beyond the 2^64 - 1 hashes"),
            "{err}"
        );
        assert!(err.to_string().contains(&t.path()), "{err}");
        // The same index with width 255 ends exactly at u64::MAX.
        let p =
            Tile::parse_path(&format!("tile/0/{}.p/255", encode_tile_index(LAST_INDEX))).unwrap();
        assert_eq!(p.hash_range().unwrap(), LAST_INDEX * 256..u64::MAX);
        // index * 256 itself overflows.
        let far = Tile::parse_path(&format!("tile/3/{}", encode_tile_index(u64::MAX))).unwrap();
        assert!(far.hash_range().is_err());
        let b =
            EntryBundle::parse_path(&format!("tile/entries/{}.p/1", encode_tile_index(u64::MAX)))
                .unwrap();
        let err = b.entry_range().unwrap_err();
        assert!(
            err.to_string().contains("beyond the 2^64 - 1 entries"),
            "{err}"
        );
        let b = EntryBundle::parse_path(&format!("tile/entries/{}", encode_tile_index(LAST_INDEX)))
            .unwrap();
        assert!(b.entry_range().is_err());
        assert_eq!(
            EntryBundle { index: 2, width: 7 }.entry_range().unwrap(),
            512..519
        );
    }

    proptest::proptest! {
        /// Any index and width: the range is exactly the checked arithmetic, and never panics.
        #[test]
        fn ranges_never_overflow(index in proptest::prop_oneof![
            0..1000u64,
            (LAST_INDEX - 2)..=u64::MAX,
            proptest::num::u64::ANY,
        ], width in 1..=256u16) {
            let t = Tile { level: 0, index, width };
            let want = index
                .checked_mul(256)
                .and_then(|s| s.checked_add(u64::from(width)).map(|e| s..e));
            proptest::prop_assert_eq!(t.hash_range().ok(), want.clone());
            proptest::prop_assert_eq!(EntryBundle { index, width }.entry_range().ok(), want);
            // nodes() agrees with hash_range() on which tiles exist at level 0.
            if t.nodes().is_some() {
                proptest::prop_assert!(t.hash_range().is_ok());
            }
        }
    }
}
