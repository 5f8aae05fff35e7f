//! UBI images (`drivers/mtd/ubi/ubi-media.h` in Linux) and the UBIFS filesystems in them
//! (`fs/ubifs/ubifs-media.h`). Hand-written: the maintained readers are Python
//! (`ubi_reader`) or C (`mtd-utils`, the kernel); no Rust crate reads either format.
//!
//! UBI: every physical erase block starts with an erase-counter header naming where its
//! volume-identifier header and data are; the newest copy (highest `sqnum`) of each
//! (volume, logical block) wins, and the layout volume names the volumes. A UBIFS volume is
//! read through its index, as the kernel mounts it: superblock (LEB 0), the newest master
//! node (LEB 1), then the index B-tree from its root down to the leaf nodes (inodes,
//! directory entries, data blocks). Every node's CRC is checked, every position against the
//! volume, every index node visited at most once, every file's size against the limits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use super::field::{be16, be32, be64, le16, le32, le64, Field};
use super::{at_name, Member, UnpackError, Unpacker};

/// `UBI_EC_HDR_MAGIC`.
pub(super) const UBI_MAGIC: &[u8; 4] = b"UBI#";
/// `UBIFS_NODE_MAGIC`, little endian.
pub(super) const UBIFS_MAGIC: [u8; 4] = [0x31, 0x18, 0x10, 0x06];

/// `struct ubi_ec_hdr` (big endian).
mod ec {
    use super::Field;
    /// `version` (1).
    pub const VERSION: usize = 4;
    /// `vid_hdr_offset`.
    pub const VID_HDR_OFFSET: Field = 16..20;
    /// `data_offset`.
    pub const DATA_OFFSET: Field = 20..24;
    /// `hdr_crc`, of the 60 bytes before it.
    pub const HDR_CRC: Field = 60..64;
}

/// `struct ubi_vid_hdr` (big endian).
mod vid {
    use super::Field;
    /// `magic`: `UBI!`.
    pub const MAGIC: Field = 0..4;
    /// `vol_type` (1 dynamic, 2 static).
    pub const VOL_TYPE: usize = 5;
    /// `vol_id`.
    pub const VOL_ID: Field = 8..12;
    /// `lnum`: the logical erase block.
    pub const LNUM: Field = 12..16;
    /// `data_size`: bytes used in a static volume's block.
    pub const DATA_SIZE: Field = 20..24;
    /// `used_ebs`: blocks a static volume's data occupies.
    pub const USED_EBS: Field = 24..28;
    /// `data_pad`: bytes left unused at the end of each block (for the volume's alignment).
    pub const DATA_PAD: Field = 28..32;
    /// `sqnum`: higher is newer.
    pub const SQNUM: Field = 40..48;
    /// `hdr_crc`.
    pub const HDR_CRC: Field = 60..64;
}

/// `struct ubi_vtbl_record` in the layout volume (big endian), 172 bytes each.
mod vtbl {
    use super::Field;
    pub const SIZE: usize = 172;
    /// `reserved_pebs` (0: the slot is empty): the volume's logical blocks.
    pub const RESERVED_PEBS: Field = 0..4;
    /// `name_len`.
    pub const NAME_LEN: Field = 14..16;
    /// `name`.
    pub const NAME: usize = 16;
    /// `crc`, of the 168 bytes before it.
    pub const CRC: Field = 168..172;
}

/// `UBI_VID_STATIC`: a static volume (its data size is recorded).
const VOL_STATIC: u8 = 2;
/// `UBI_LAYOUT_VOLUME_ID`.
const LAYOUT_VOLUME_ID: u32 = 0x7fff_efff;
/// Bytes of the EC and VID headers.
const UBI_HEADER_SIZE: usize = 64;
/// At most this many volumes (`UBI_MAX_VOLUMES`).
const UBI_MAX_VOLUMES: usize = 128;

/// `struct ubifs_ch`: the header of every UBIFS node (little endian, as all of UBIFS).
mod ch {
    use super::Field;
    /// `crc`, of the node from byte 8 to `len`.
    pub const CRC: Field = 4..8;
    /// `len`: bytes of the node.
    pub const LEN: Field = 16..20;
    /// `node_type`.
    pub const NODE_TYPE: usize = 20;
    pub const SIZE: usize = 24;
}

/// `struct ubifs_sb_node`.
mod sb {
    use super::Field;
    /// `key_fmt` (0: simple keys, the only one defined).
    pub const KEY_FMT: usize = 27;
    /// `leb_size`.
    pub const LEB_SIZE: Field = 36..40;
    pub const SIZE: usize = 88;
}

/// `struct ubifs_mst_node`.
mod mst {
    use super::Field;
    /// `root_lnum`, `root_offs`: the index root.
    pub const ROOT_LNUM: Field = 48..52;
    pub const ROOT_OFFS: Field = 52..56;
    pub const SIZE: usize = 60;
}

/// `struct ubifs_idx_node` and its `struct ubifs_branch`es (with 8-byte simple keys).
mod idx {
    use super::Field;
    /// `child_cnt`.
    pub const CHILD_CNT: Field = 24..26;
    /// `level` (0: branches point at leaf nodes).
    pub const LEVEL: Field = 26..28;
    /// The first branch.
    pub const BRANCHES: usize = 28;
    /// Bytes of a branch: `lnum`, `offs`, `len`, key.
    pub const BRANCH_SIZE: usize = 20;
    pub const LNUM: Field = 0..4;
    pub const OFFS: Field = 4..8;
    pub const LEN: Field = 8..12;
}

/// The key every leaf node carries: inode number, then type (top 3 bits) and block number
/// or name hash (simple key format).
mod key {
    use super::Field;
    pub const INUM: Field = 24..28;
    pub const TYPE_BLOCK: Field = 28..32;
}

/// `struct ubifs_ino_node`.
mod ino {
    use super::Field;
    /// `size`.
    pub const SIZE: Field = 48..56;
    /// `mode`.
    pub const MODE: Field = 104..108;
    /// `data_len`: inline data (a symlink's target).
    pub const DATA_LEN: Field = 112..116;
    /// The inline data.
    pub const DATA: usize = 160;
}

/// `struct ubifs_dent_node`.
mod dent {
    use super::Field;
    /// `inum`: the entry's inode.
    pub const INUM: Field = 40..48;
    /// `nlen`.
    pub const NLEN: Field = 50..52;
    /// The name.
    pub const NAME: usize = 56;
}

/// `struct ubifs_data_node`.
mod data {
    use super::Field;
    /// `size`: uncompressed bytes.
    pub const SIZE: Field = 40..44;
    /// `compr_type` (0 none, 1 LZO, 2 zlib, 3 zstd).
    pub const COMPR_TYPE: Field = 44..46;
    pub const DATA: usize = 48;
}

const INO_NODE: u8 = 0;
const DATA_NODE: u8 = 1;
const DENT_NODE: u8 = 2;
const SB_NODE: u8 = 6;
const MST_NODE: u8 = 7;
const IDX_NODE: u8 = 9;
/// `UBIFS_BLOCK_SIZE`.
const BLOCK_SIZE: usize = 4096;
/// `UBIFS_ROOT_INO`.
const ROOT_INO: u64 = 1;
/// Deeper indexes than this are refused (a 4 GiB volume with fan-out 8 needs 11 levels).
const MAX_INDEX_LEVEL: u16 = 64;

/// UBI's and UBIFS's CRC: Linux `crc32(0xFFFFFFFF, …)`, without the final inversion.
fn crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

/// Whether `data` starts with a UBI erase-counter header whose CRC checks out.
pub(super) fn is_ubi(data: &[u8]) -> bool {
    data.len() >= UBI_HEADER_SIZE
        && data.starts_with(UBI_MAGIC)
        && data[ec::VERSION] == 1
        && be32(data, ec::HDR_CRC) == crc(&data[..60])
}

/// Whether `data` starts with a UBIFS superblock node whose CRC checks out.
pub(super) fn is_ubifs(data: &[u8]) -> bool {
    node(data, 0, SB_NODE).is_some()
}

/// The UBIFS node of `node_type` at `pos` in `vol`, when its length and CRC check out.
fn node(vol: &[u8], pos: usize, node_type: u8) -> Option<&[u8]> {
    let head = vol.get(pos..pos.checked_add(ch::SIZE)?)?;
    if head[..4] != UBIFS_MAGIC || head[ch::NODE_TYPE] != node_type {
        return None;
    }
    let len = le32(head, ch::LEN) as usize;
    let n = vol.get(pos..pos.checked_add(len)?)?;
    (len >= ch::SIZE && le32(n, ch::CRC) == crc(&n[8..])).then_some(n)
}

/// The physical erase block size: the distance from the first EC header to the next, a
/// power of two.
fn peb_size(data: &[u8]) -> Option<usize> {
    (12..=24)
        .map(|shift| 1usize << shift)
        .take_while(|&size| size < data.len())
        .find(|&size| is_ubi(&data[size..]))
        .or_else(|| is_ubi(data).then_some(data.len()))
}

/// One volume's logical erase blocks, assembled from the image.
struct Volume {
    name: String,
    /// Bytes of one logical erase block: the erase block less its headers and `data_pad`.
    leb_size: usize,
    /// A static volume's `used_ebs` (its data size is then exact); `None`: dynamic.
    used_ebs: Option<u32>,
    /// The layout volume's `reserved_pebs` for it: no logical block lies past it.
    reserved: Option<u32>,
    /// (lnum → (sqnum, bytes)).
    lebs: BTreeMap<u32, (u64, std::ops::Range<usize>)>,
}

impl Volume {
    /// The volume's bytes: each logical block at `lnum × leb_size`, a block missing from the
    /// image (never written, or erased: a sparse volume) read as erased flash (0xFF); a static
    /// volume exactly `(used_ebs − 1) × leb_size` plus its last block's `data_size`, a dynamic
    /// one up to its highest block. The caller has checked [`Volume::stray_block`] and
    /// [`Volume::size`] against the limits.
    fn assemble(&self, data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xff; self.size()];
        for (&lnum, (_, r)) in &self.lebs {
            let at = lnum as usize * self.leb_size;
            let n = r
                .len()
                .min(self.leb_size)
                .min(bytes.len().saturating_sub(at));
            bytes[at..at + n].copy_from_slice(&data[r.start..r.start + n]);
        }
        bytes
    }

    /// Bytes [`Volume::assemble`] produces (saturating: a hostile count fails the limits).
    fn size(&self) -> usize {
        match self.used_ebs {
            Some(0) => 0,
            Some(used) => {
                let last = self
                    .lebs
                    .get(&(used - 1))
                    .map_or(self.leb_size, |(_, r)| r.len().min(self.leb_size));
                (used as usize - 1)
                    .saturating_mul(self.leb_size)
                    .saturating_add(last)
            }
            None => {
                let count = self.lebs.keys().next_back().map_or(0, |&l| l as usize + 1);
                count.saturating_mul(self.leb_size)
            }
        }
    }

    /// The first logical block past the volume's end (its reserved blocks, or a static
    /// volume's used ones), if any.
    fn stray_block(&self) -> Option<u32> {
        let bound = match (self.used_ebs, self.reserved) {
            (Some(u), Some(r)) => u.min(r),
            (Some(u), None) => u,
            (None, r) => r?,
        };
        self.lebs.keys().copied().find(|&l| l >= bound)
    }
}

impl Unpacker<'_> {
    /// A UBI image: each volume assembled from its newest erase blocks, then read as UBIFS
    /// or unpacked as a blob (a squashfs in a static volume …). Returns the bytes of whole
    /// erase blocks used.
    pub(super) fn ubi(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "UBI";
        let bad = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        let peb = peb_size(data).ok_or_else(|| bad("no erase-counter header".into()))?;
        let mut volumes: BTreeMap<u32, Volume> = BTreeMap::new();
        let mut used = 0;
        let pebs = data.len() / peb;
        for start in (0..pebs).map(|i| i * peb) {
            let block = &data[start..start + peb];
            if !is_ubi(block) {
                continue;
            }
            used = start + peb;
            let vid_at = be32(block, ec::VID_HDR_OFFSET) as usize;
            let data_at = be32(block, ec::DATA_OFFSET) as usize;
            let Some(vh) = block.get(vid_at..vid_at.saturating_add(UBI_HEADER_SIZE)) else {
                continue;
            };
            if vh[vid::MAGIC] != *b"UBI!" || be32(vh, vid::HDR_CRC) != crc(&vh[..60]) {
                continue; // an empty (erased) block
            }
            if data_at >= peb {
                return Err(bad(format!(
                    "erase block at {start}: data offset {data_at}"
                )));
            }
            // A volume's size (largest block number × block size) is checked against the
            // limits before it is assembled.
            let lnum = be32(vh, vid::LNUM);
            let leb_size = (peb - data_at).saturating_sub(be32(vh, vid::DATA_PAD) as usize);
            let is_static = vh[vid::VOL_TYPE] == VOL_STATIC;
            let end = if is_static {
                (start + data_at).saturating_add(be32(vh, vid::DATA_SIZE) as usize)
            } else {
                start + data_at + leb_size
            }
            .min(start + peb);
            let sqnum = be64(vh, vid::SQNUM);
            let vol = volumes.entry(be32(vh, vid::VOL_ID)).or_insert(Volume {
                name: String::new(),
                leb_size,
                used_ebs: None,
                reserved: None,
                lebs: BTreeMap::new(),
            });
            if vol.lebs.get(&lnum).is_none_or(|(s, _)| sqnum > *s) {
                vol.lebs.insert(lnum, (sqnum, start + data_at..end));
                vol.leb_size = leb_size;
                vol.used_ebs = is_static.then(|| be32(vh, vid::USED_EBS));
            }
        }
        if volumes.len() > UBI_MAX_VOLUMES + 1 {
            return Err(bad(format!("{} volumes", volumes.len())));
        }
        // Names from the layout volume's table (its first block; the second is a copy).
        if let Some(layout) = volumes.remove(&LAYOUT_VOLUME_ID) {
            if let Some((_, range)) = layout.lebs.get(&0) {
                for (i, rec) in data[range.clone()]
                    .chunks_exact(vtbl::SIZE)
                    .take(UBI_MAX_VOLUMES)
                    .enumerate()
                {
                    if be32(rec, vtbl::RESERVED_PEBS) == 0
                        || be32(rec, vtbl::CRC) != crc(&rec[..168])
                    {
                        continue;
                    }
                    let len = usize::from(be16(rec, vtbl::NAME_LEN)).min(128);
                    if let Some(v) = volumes.get_mut(&(i as u32)) {
                        v.name = String::from_utf8_lossy(&rec[vtbl::NAME..vtbl::NAME + len]).into();
                        v.reserved = Some(be32(rec, vtbl::RESERVED_PEBS));
                    }
                }
            }
        }
        for (id, vol) in volumes {
            let name = if vol.name.is_empty() {
                format!("volume{id}")
            } else {
                vol.name.replace('/', "_")
            };
            if let Some(lnum) = vol.stray_block() {
                return Err(bad(format!(
                    "volume {name:?}: logical block {lnum} lies past the volume's {} blocks",
                    vol.used_ebs.or(vol.reserved).unwrap_or(0)
                )));
            }
            let cap = self.stream_cap(data.len() as u64);
            if vol.size() as u64 > cap {
                return Err(self.cap_error(cap, data.len() as u64, region));
            }
            let mut bytes = vol.assemble(data);
            let path = format!("/ubi-{name}");
            let blob = if region.is_empty() {
                path.clone()
            } else {
                format!("{region}!{path}")
            };
            if is_ubifs(&bytes) {
                self.charge_bytes(bytes.len() as u64, region)?;
                self.ubifs(&blob, &bytes, depth + 1)?;
                self.out.layers.push(super::Layer {
                    at: blob,
                    within: region.to_string(),
                    offset: 0,
                    format: super::Format::Ubifs,
                    input_bytes: bytes.len() as u64,
                });
            } else {
                // A static volume has its exact size; a dynamic one ends where its data
                // does: drop the erased tail.
                if vol.used_ebs.is_none() {
                    let end = bytes.iter().rposition(|&b| b != 0xff).map_or(0, |p| p + 1);
                    bytes.truncate(end);
                }
                self.expand_blob(region, path, &blob, bytes, depth)?;
            }
        }
        Ok(used)
    }

    /// A UBIFS volume (a UBI volume's bytes, or a `mkfs.ubifs` image), read through its
    /// index. Returns the bytes read (the whole volume).
    pub(super) fn ubifs(
        &mut self,
        region: &str,
        vol: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "UBIFS";
        let bad = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        let sb = node(vol, 0, SB_NODE)
            .filter(|n| n.len() >= sb::SIZE)
            .ok_or_else(|| bad("no superblock node".into()))?;
        if sb[sb::KEY_FMT] != 0 {
            return Err(bad(format!("key format {} is not read", sb[sb::KEY_FMT])));
        }
        let leb = le32(sb, sb::LEB_SIZE) as usize;
        if !(4096..=(16 << 20)).contains(&leb) {
            return Err(bad(format!("logical erase block size {leb}")));
        }
        // The newest master node: LEB 1 holds copies, one per write, 8-byte aligned.
        let mut master: Option<(u64, &[u8])> = None;
        let mut pos = leb;
        while pos + mst::SIZE <= (2 * leb).min(vol.len()) {
            match node(vol, pos, MST_NODE) {
                Some(n) if n.len() >= mst::SIZE => {
                    let sqnum = le64(n, 8..16);
                    if master.is_none_or(|(s, _)| sqnum > s) {
                        master = Some((sqnum, n));
                    }
                    pos += n.len().div_ceil(8) * 8;
                }
                _ => pos += 8,
            }
        }
        let (_, m) = master.ok_or_else(|| bad("no master node".into()))?;
        let at =
            |lnum: u32, offs: u32| (lnum as usize).checked_mul(leb)?.checked_add(offs as usize);
        let root = at(le32(m, mst::ROOT_LNUM), le32(m, mst::ROOT_OFFS))
            .ok_or_else(|| bad("index root out of range".into()))?;
        // Walk the index: every leaf node's position, by type.
        let mut inodes: HashMap<u64, &[u8]> = HashMap::new();
        let mut dents: BTreeMap<u64, Vec<&[u8]>> = BTreeMap::new();
        let mut blocks: HashMap<u64, Vec<&[u8]>> = HashMap::new();
        let mut seen = HashSet::new();
        let mut stack = vec![(root, MAX_INDEX_LEVEL + 1)];
        while let Some((pos, parent_level)) = stack.pop() {
            if !seen.insert(pos) {
                return Err(bad(format!("index node at {pos} is reached twice")));
            }
            let n =
                node(vol, pos, IDX_NODE).ok_or_else(|| bad(format!("no index node at {pos}")))?;
            let level = le16(n, idx::LEVEL);
            if level >= parent_level {
                return Err(bad(format!("index node at {pos}: level {level}")));
            }
            let count = usize::from(le16(n, idx::CHILD_CNT));
            for i in 0..count {
                let b = idx::BRANCHES + i * idx::BRANCH_SIZE;
                let br = n
                    .get(b..b + idx::BRANCH_SIZE)
                    .ok_or_else(|| bad(format!("index node at {pos}: branch {i} runs past it")))?;
                let child = at(le32(br, idx::LNUM), le32(br, idx::OFFS))
                    .ok_or_else(|| bad(format!("index node at {pos}: branch {i} out of range")))?;
                if level > 0 {
                    stack.push((child, level));
                    continue;
                }
                let len = le32(br, idx::LEN) as usize;
                let Some(leaf) = vol.get(child..child.saturating_add(len)) else {
                    return Err(bad(format!("leaf at {child} runs past the volume")));
                };
                let Some(kind) = leaf.get(ch::NODE_TYPE).copied() else {
                    continue;
                };
                let Some(leaf) = node(vol, child, kind) else {
                    return Err(bad(format!("leaf at {child}: bad CRC")));
                };
                if leaf.len() < data::DATA {
                    continue;
                }
                let inum = u64::from(le32(leaf, key::INUM));
                match kind {
                    INO_NODE if leaf.len() >= ino::DATA => {
                        inodes.insert(inum, leaf);
                    }
                    DENT_NODE => dents.entry(inum).or_default().push(leaf),
                    DATA_NODE => blocks.entry(inum).or_default().push(leaf),
                    _ => {}
                }
            }
        }
        let cap = self.stream_cap(vol.len() as u64);
        let mut files: HashMap<u64, Arc<Vec<u8>>> = HashMap::new();
        let mut nested = Vec::new();
        let mut dirs_seen = HashSet::from([ROOT_INO]);
        let mut dirs = vec![(Vec::new(), ROOT_INO)];
        while let Some((dir, dino)) = dirs.pop() {
            let mut list = dents.remove(&dino).unwrap_or_default();
            list.sort_by_key(|d| name_of(d));
            for d in list {
                let path = [dir.as_slice(), b"/", name_of(d)].concat();
                let inum = le64(d, dent::INUM);
                let Some(inode) = inodes.get(&inum) else {
                    continue;
                };
                let mode = le32(inode, ino::MODE);
                let member = match mode & 0o170000 {
                    0o040000 => {
                        if !dirs_seen.insert(inum) {
                            return Err(bad(format!("directory inode {inum} is reached twice")));
                        }
                        dirs.push((path.clone(), inum));
                        Member::Dir
                    }
                    0o120000 => {
                        let len = le32(inode, ino::DATA_LEN) as usize;
                        let target = inode.get(ino::DATA..ino::DATA + len).unwrap_or_default();
                        Member::Symlink(String::from_utf8_lossy(target).into())
                    }
                    0o100000 => {
                        if let Some(bytes) = files.get(&inum) {
                            self.add_shared(region, &path, mode, Arc::clone(bytes))?;
                            continue;
                        }
                        let size = le64(inode, ino::SIZE);
                        if size > cap {
                            return Err(self.cap_error(cap, vol.len() as u64, region));
                        }
                        let mut out = vec![0u8; size as usize];
                        for b in blocks.get(&inum).map(Vec::as_slice).unwrap_or_default() {
                            let block = (le32(b, key::TYPE_BLOCK) & 0x1fff_ffff) as usize;
                            let start = block * BLOCK_SIZE;
                            let len = (le32(b, data::SIZE) as usize).min(BLOCK_SIZE);
                            let end = (start + len).min(out.len());
                            if start >= end {
                                continue;
                            }
                            let block_out =
                                decompress_block(le16(b, data::COMPR_TYPE), &b[data::DATA..], len)
                                    .map_err(|e| {
                                        bad(format!(
                                            "{}: block {block}: {e}",
                                            String::from_utf8_lossy(&path)
                                        ))
                                    })?;
                            out[start..end].copy_from_slice(&block_out[..end - start]);
                        }
                        let bytes = Arc::new(out);
                        files.insert(inum, Arc::clone(&bytes));
                        Member::File(bytes)
                    }
                    _ => Member::Special,
                };
                self.add_member(region, &path, mode, member, &mut nested)?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(vol.len())
    }
}

/// A directory entry's name.
fn name_of(d: &[u8]) -> &[u8] {
    let len = usize::from(le16(d, dent::NLEN));
    d.get(dent::NAME..dent::NAME + len).unwrap_or_default()
}

/// One UBIFS data block, `len` bytes once decompressed.
fn decompress_block(compr: u16, input: &[u8], len: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; len];
    match compr {
        0 => {
            let src = input.get(..len).ok_or("stored block is short")?;
            out.copy_from_slice(src);
        }
        1 => {
            let (got, err) = rust_lzo::LZOContext::decompress_to_slice(input, &mut out);
            let n = got.len();
            if err != rust_lzo::LZOError::OK || n != len {
                return Err(format!("lzo error {} ({n} of {len} bytes)", err as i32));
            }
        }
        2 => {
            // The kernel's "deflate" crypto compressor: raw deflate.
            let mut buf = Vec::with_capacity(len);
            flate2::read::DeflateDecoder::new(input)
                .take(len as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("zlib: {e}"))?;
            if buf.len() != len {
                return Err(format!("zlib: {} of {len} bytes", buf.len()));
            }
            out = buf;
        }
        3 => {
            let mut buf = Vec::with_capacity(len);
            zstd::stream::read::Decoder::new(input)
                .map_err(|e| format!("zstd: {e}"))?
                .take(len as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("zstd: {e}"))?;
            if buf.len() != len {
                return Err(format!("zstd: {} of {len} bytes", buf.len()));
            }
            out = buf;
        }
        other => return Err(format!("compression {other} is not read")),
    }
    Ok(out)
}
