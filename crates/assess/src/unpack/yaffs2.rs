//! YAFFS2 images as `mkyaffs2image` writes them: chunks of one NAND page followed by its
//! spare area, the tags (`struct yaffs_packed_tags2_tags_only` in yaffs2's
//! `yaffs_packedtags2.h`) in the spare area, object headers as `struct yaffs_obj_hdr`
//! (`yaffs_guts.h`). Hand-written: no maintained crate reads YAFFS2 (the readers are
//! Python or C tools). The page and spare sizes and the byte order are not recorded in the
//! image; like binwalk's `yaffshiv`, the reader tries the usual geometries and keeps the
//! one whose first two chunks carry valid tags. The newest chunk (highest sequence number)
//! of each (object, chunk) wins; every size is checked against the image and the limits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::field::{Endian, Field};
use super::{at_name, Member, UnpackError, Unpacker};

/// `struct yaffs_obj_hdr`.
mod obj {
    use super::Field;
    /// `type` (1 file, 2 symlink, 3 directory, 4 hard link, 5 special).
    pub const TYPE: Field = 0..4;
    /// `parent_obj_id`.
    pub const PARENT: Field = 4..8;
    /// `sum_no_longer_used`: 0xFFFF.
    pub const SUM: Field = 8..10;
    /// `name[256]`.
    pub const NAME: Field = 10..266;
    /// `yst_mode`.
    pub const MODE: Field = 268..272;
    /// `file_size_low`.
    pub const SIZE_LOW: Field = 292..296;
    /// `equiv_id`: a hard link's object.
    pub const EQUIV_ID: Field = 296..300;
    /// `alias[160]`: a symlink's target.
    pub const ALIAS: Field = 300..460;
    /// `file_size_high` (0xFFFFFFFF when unused).
    pub const SIZE_HIGH: Field = 496..500;
    /// Bytes of the header.
    pub const SIZE: usize = 512;
}

/// `struct yaffs_packed_tags2_tags_only`.
mod tags {
    use super::Field;
    pub const SEQ: Field = 0..4;
    pub const OBJ_ID: Field = 4..8;
    pub const CHUNK_ID: Field = 8..12;
    pub const N_BYTES: Field = 12..16;
    pub const SIZE: usize = 16;
}

/// `YAFFS_LOWEST_SEQUENCE_NUMBER` and `YAFFS_HIGHEST_SEQUENCE_NUMBER`.
const SEQUENCES: std::ops::RangeInclusive<u32> = 0x1000..=0xefff_ff00;
/// `EXTRA_HEADER_INFO_FLAG`: a header chunk whose tags carry extra fields.
const EXTRA_HEADER_INFO: u32 = 0x8000_0000;
/// Object ids: the bits below the 4 type bits extra header tags put on top.
const OBJ_ID_MASK: u32 = 0x0fff_ffff;
/// `YAFFS_OBJECT_SPACE`: every object id is below it.
const OBJECT_SPACE: u32 = 0x40000;
/// `YAFFS_OBJECTID_ROOT`.
const ROOT: u32 = 1;

const TYPE_FILE: u32 = 1;
const TYPE_SYMLINK: u32 = 2;
const TYPE_DIRECTORY: u32 = 3;
const TYPE_HARDLINK: u32 = 4;

/// Page and spare sizes of the NAND chips YAFFS2 runs on, and where in the spare area the
/// tags start (0, or 2 after the bad-block marker).
const PAGES: [usize; 6] = [2048, 4096, 512, 1024, 8192, 16384];
const SPARES: [usize; 6] = [64, 128, 16, 32, 256, 512];
const TAG_OFFSETS: [usize; 2] = [0, 2];

/// One geometry: page size, spare size, tag offset, byte order.
#[derive(Clone, Copy)]
struct Geometry {
    page: usize,
    spare: usize,
    tag_at: usize,
    e: Endian,
}

/// (sequence, object, chunk, bytes) of a chunk's tags, when they are in use.
fn chunk_tags(data: &[u8], g: Geometry, i: usize) -> Option<(u32, u32, u32, u32)> {
    let at = i
        .checked_mul(g.page + g.spare)?
        .checked_add(g.page + g.tag_at)?;
    let t = data.get(at..at.checked_add(tags::SIZE)?)?;
    let seq = g.e.u32(t, tags::SEQ);
    let mut obj = g.e.u32(t, tags::OBJ_ID);
    let mut chunk = g.e.u32(t, tags::CHUNK_ID);
    if !SEQUENCES.contains(&seq) || obj == u32::MAX {
        return None;
    }
    if chunk & EXTRA_HEADER_INFO != 0 {
        chunk = 0;
        obj &= OBJ_ID_MASK;
    }
    if obj >= OBJECT_SPACE {
        return None;
    }
    Some((seq, obj, chunk, g.e.u32(t, tags::N_BYTES)))
}

/// Whether `data` starts with an object header (a file or directory in the root).
pub(super) fn header_at(data: &[u8], e: Endian) -> bool {
    data.len() >= obj::SIZE
        && (1..=5).contains(&e.u32(data, obj::TYPE))
        && e.u32(data, obj::PARENT) == ROOT
        && data[obj::SUM] == [0xff, 0xff]
}

/// The geometry whose first two chunks (or the only one) hold valid tags, the first a header.
fn geometry(data: &[u8]) -> Option<Geometry> {
    for e in [Endian::Little, Endian::Big] {
        if !header_at(data, e) {
            continue;
        }
        for page in PAGES {
            for spare in SPARES {
                for tag_at in TAG_OFFSETS {
                    let g = Geometry {
                        page,
                        spare,
                        tag_at,
                        e,
                    };
                    let first = chunk_tags(data, g, 0).filter(|t| t.2 == 0);
                    let chunks = data.len() / (page + spare);
                    if first.is_some() && (chunks < 2 || chunk_tags(data, g, 1).is_some()) {
                        return Some(g);
                    }
                }
            }
        }
    }
    None
}

/// Whether `data` starts with a YAFFS2 image this reader can place.
pub(super) fn is_yaffs2(data: &[u8]) -> bool {
    geometry(data).is_some()
}

/// The NUL-terminated string in a fixed field.
fn cstr(b: &[u8]) -> &[u8] {
    &b[..memchr::memchr(0, b).unwrap_or(b.len())]
}

impl Unpacker<'_> {
    /// A YAFFS2 image. Returns the bytes of whole chunks read.
    pub(super) fn yaffs2(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "YAFFS2";
        let bad = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        let g =
            geometry(data).ok_or_else(|| bad("no page geometry fits the first chunks".into()))?;
        let e = g.e;
        let stride = g.page + g.spare;
        let chunks = data.len() / stride;
        // (object, chunk) → (sequence, chunk index, bytes in it); newest wins, later in the
        // image wins among equal sequence numbers (written later within the block).
        let mut newest: HashMap<(u32, u32), (u32, usize, u32)> = HashMap::new();
        let mut used = 0;
        for i in 0..chunks {
            let Some((seq, obj, chunk, n)) = chunk_tags(data, g, i) else {
                continue;
            };
            used = (i + 1) * stride;
            if newest.get(&(obj, chunk)).is_none_or(|&(s, _, _)| seq >= s) {
                newest.insert((obj, chunk), (seq, i, n));
            }
        }
        let page = |i: usize| &data[i * stride..i * stride + g.page];
        // Objects: header chunk → (parent, name, type, header bytes).
        let mut children: BTreeMap<u32, Vec<(Vec<u8>, u32)>> = BTreeMap::new();
        let mut headers: HashMap<u32, &[u8]> = HashMap::new();
        let mut data_chunks: HashMap<u32, Vec<(u32, usize, u32)>> = HashMap::new();
        for (&(obj, chunk), &(_, i, n)) in &newest {
            if chunk == 0 {
                let h = page(i);
                if h.len() < obj::SIZE {
                    continue;
                }
                headers.insert(obj, h);
                children
                    .entry(e.u32(h, obj::PARENT))
                    .or_default()
                    .push((cstr(&h[obj::NAME]).to_vec(), obj));
            } else {
                data_chunks.entry(obj).or_default().push((chunk, i, n));
            }
        }
        let cap = self.stream_cap(data.len() as u64);
        let mut files: HashMap<u32, Arc<Vec<u8>>> = HashMap::new();
        let mut hardlinks = Vec::new();
        let mut nested = Vec::new();
        let mut seen = HashSet::from([ROOT]);
        let mut dirs = vec![(Vec::new(), ROOT)];
        while let Some((dir, dobj)) = dirs.pop() {
            let mut list = children.remove(&dobj).unwrap_or_default();
            list.sort();
            for (name, id) in list {
                let path = [dir.as_slice(), b"/", name.as_slice()].concat();
                let h = headers[&id];
                let mode = e.u32(h, obj::MODE);
                let member = match e.u32(h, obj::TYPE) {
                    TYPE_DIRECTORY => {
                        if !seen.insert(id) {
                            return Err(bad(format!("directory object {id} is reached twice")));
                        }
                        dirs.push((path.clone(), id));
                        Member::Dir
                    }
                    TYPE_SYMLINK => {
                        Member::Symlink(String::from_utf8_lossy(cstr(&h[obj::ALIAS])).into())
                    }
                    TYPE_HARDLINK => {
                        hardlinks.push((path, e.u32(h, obj::EQUIV_ID), mode));
                        continue;
                    }
                    TYPE_FILE => {
                        let high = e.u32(h, obj::SIZE_HIGH);
                        let high = if high == u32::MAX { 0 } else { u64::from(high) };
                        let size = high << 32 | u64::from(e.u32(h, obj::SIZE_LOW));
                        if size > cap {
                            return Err(self.cap_error(cap, data.len() as u64, region));
                        }
                        let mut out = vec![0u8; size as usize];
                        for &(chunk, i, n) in
                            data_chunks.get(&id).map(Vec::as_slice).unwrap_or_default()
                        {
                            let start = (chunk as usize - 1).saturating_mul(g.page);
                            let len = (n as usize).min(g.page);
                            let end = start.saturating_add(len).min(out.len());
                            if start < end {
                                out[start..end].copy_from_slice(&page(i)[..end - start]);
                            }
                        }
                        let bytes = Arc::new(out);
                        files.insert(id, Arc::clone(&bytes));
                        Member::File(bytes)
                    }
                    _ => Member::Special,
                };
                self.add_member(region, &path, mode, member, &mut nested)?;
            }
        }
        for (path, target, mode) in hardlinks {
            if let Some(bytes) = files.get(&target) {
                self.add_shared(region, &path, mode, Arc::clone(bytes))?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(used)
    }
}
