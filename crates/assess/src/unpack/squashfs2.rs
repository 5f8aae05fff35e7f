//! squashfs 2.x (little and big endian; zlib, or LZMA as vendors built it), hand-written:
//! `backhand`, the crate that reads squashfs 3 and 4 here, does not read version 2, and no
//! maintained crate does.
//!
//! Layout from Linux 2.6's `include/linux/squashfs_fs.h` (squashfs 2.x and the `_2`
//! structures of 3.x): a 63-byte superblock; data blocks; the inode table and the directory
//! table as metadata blocks (a 16-bit length, bit 15 set when stored, then at most 8 KiB);
//! the fragment entries in metadata blocks, found through an index of 32-bit pointers at
//! `fragment_table_start`. Inodes and directory entries are packed bit fields: in a
//! little-endian filesystem the first field takes the low bits of the first byte, in a
//! big-endian one the high bits ([`Bits`]). Data and metadata blocks are zlib streams or,
//! in vendor images, LZMA: a raw stream (lc 3, lp 0, pb 2), or one behind a 5-byte
//! properties-and-dictionary header or a 13-byte `.lzma` header ([`decompress`]).
//!
//! Bounds: every position is checked against the image; the decoded metadata is held to the
//! limits; the files' declared sizes are summed and checked before a data block is decoded;
//! every block's output is capped at the block size; each directory is read at most once.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use super::compress::LZMA_MEMORY_LIMIT;
use super::field::{Endian, Field};
use super::{at_name, ErrorKind, Member, UnpackError, Unpacker};

/// `struct squashfs_super_block` (v2 fields), in the byte order the magic announces.
mod field {
    use super::Field;
    /// `bytes_used_2`.
    pub const BYTES_USED: Field = 8..12;
    /// `inode_table_start_2`.
    pub const INODE_TABLE_START: Field = 20..24;
    /// `directory_table_start_2`.
    pub const DIRECTORY_TABLE_START: Field = 24..28;
    /// `root_inode`: (metadata block from the inode table's start) << 16 | offset in it.
    pub const ROOT_INODE: Field = 43..51;
    /// `block_size`.
    pub const BLOCK_SIZE: Field = 51..55;
    /// `fragments`.
    pub const FRAGMENTS: Field = 55..59;
    /// `fragment_table_start_2`.
    pub const FRAGMENT_TABLE_START: Field = 59..63;
    /// Bytes of the superblock.
    pub const SIZE: usize = 63;
}

/// Inode types (`SQUASHFS_DIR_TYPE` …).
mod inode_type {
    pub const DIR: u64 = 1;
    pub const FILE: u64 = 2;
    pub const SYMLINK: u64 = 3;
    pub const LDIR: u64 = 8;
}

/// Bit widths of the packed structures, field by field.
mod bits {
    /// `SQUASHFS_BASE_INODE_HEADER_2`: `inode_type:4, mode:12, uid:8, guid:8`.
    pub const BASE: [u32; 4] = [4, 12, 8, 8];
    /// `struct squashfs_reg_inode_header_2` after the base: `mtime, start_block, fragment,
    /// offset, file_size` (32 bits each), then the 32-bit block list.
    pub const REG: [u32; 5] = [32, 32, 32, 32, 32];
    /// `struct squashfs_dir_inode_header_2` after the base: `file_size:19, offset:13, mtime,
    /// start_block:24`.
    pub const DIR: [u32; 4] = [19, 13, 32, 24];
    /// `struct squashfs_ldir_inode_header_2` after the base: `file_size:27, offset:13,
    /// mtime, start_block:24, i_count:16` (the index that follows is not needed).
    pub const LDIR: [u32; 5] = [27, 13, 32, 24, 16];
    /// `struct squashfs_symlink_inode_header_2` after the base: `symlink_size:16`.
    pub const SYMLINK: [u32; 1] = [16];
    /// `struct squashfs_dir_header_2`: `count:8` (entries − 1), `start_block:24`.
    pub const DIR_HEADER: [u32; 2] = [8, 24];
    /// `struct squashfs_dir_entry_2`: `offset:13, type:3, size:8` (name length − 1).
    pub const DIR_ENTRY: [u32; 3] = [13, 3, 8];
}

/// `SQUASHFS_METADATA_SIZE`: bytes of a metadata block once decoded.
const METADATA_SIZE: usize = 8192;
/// `SQUASHFS_COMPRESSED_BIT`: a metadata block stored as is.
const METADATA_STORED: u16 = 0x8000;
/// `SQUASHFS_COMPRESSED_BIT_BLOCK`: a data block stored as is.
const BLOCK_STORED: u32 = 1 << 24;
/// `SQUASHFS_INVALID_FRAG`: the file has no fragment.
const NO_FRAGMENT: u32 = 0xffff_ffff;
/// Bytes of a fragment entry (`struct squashfs_fragment_entry_2`: start, size).
const FRAGMENT_ENTRY: usize = 8;
/// Largest block size accepted (squashfs 2 writes at most 64 KiB; vendors no more than 1 MiB).
const MAX_BLOCK_SIZE: u32 = 1 << 20;

/// Packed bit fields read in order: LSB first in a little-endian filesystem, MSB first in a
/// big-endian one (as the compilers that wrote them allocate bit fields).
struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
    e: Endian,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], e: Endian) -> Self {
        Bits { data, bit: 0, e }
    }

    /// The next `N` fields of these widths, or `None` past the end.
    fn read<const N: usize>(&mut self, widths: [u32; N]) -> Option<[u64; N]> {
        let mut out = [0; N];
        for (o, w) in out.iter_mut().zip(widths) {
            let mut v = 0u64;
            for i in 0..w as usize {
                let at = self.bit + i;
                let byte = *self.data.get(at / 8)?;
                let b = match self.e {
                    Endian::Little => (byte >> (at % 8)) & 1,
                    Endian::Big => (byte >> (7 - at % 8)) & 1,
                };
                match self.e {
                    Endian::Little => v |= u64::from(b) << i,
                    Endian::Big => v = (v << 1) | u64::from(b),
                }
            }
            self.bit += w as usize;
            *o = v;
        }
        Some(out)
    }

    /// Bytes consumed so far (fields end on byte boundaries where the structures do).
    fn bytes(&self) -> usize {
        self.bit.div_ceil(8)
    }
}

/// One metadata table decoded: its bytes, and where each block (by its offset from the
/// table's start) begins in them.
struct Table {
    bytes: Vec<u8>,
    blocks: HashMap<u64, usize>,
}

impl Table {
    /// The decoded position of (block, offset), when the block is one of the table's.
    fn at(&self, block: u64, offset: usize) -> Option<usize> {
        self.blocks.get(&block).map(|b| b + offset)
    }
}

/// A file found in the walk, to be read once the declared sizes are checked.
struct File {
    path: Vec<u8>,
    mode: u32,
    inode: u64,
    start: u64,
    fragment: u32,
    frag_offset: usize,
    size: u64,
    blocks: Vec<u32>,
}

impl Unpacker<'_> {
    /// A squashfs 2.x filesystem (see the module's documentation). Returns the bytes used.
    pub(super) fn squashfs2(
        &mut self,
        name: &'static str,
        region: &str,
        data: &[u8],
        e: Endian,
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let bad = |detail: String| UnpackError::malformed(at_name(region), name, detail);
        if data.len() < field::SIZE {
            return Err(UnpackError::truncated(
                at_name(region),
                name,
                "shorter than its superblock",
            ));
        }
        let used = e.u32(data, field::BYTES_USED) as usize;
        if used > data.len() {
            return Err(UnpackError::truncated(
                at_name(region),
                name,
                format!("superblock says {used} bytes, only {} present", data.len()),
            ));
        }
        if used < field::SIZE {
            return Err(bad(format!(
                "superblock says {used} bytes, less than itself"
            )));
        }
        let fs = &data[..used];
        let block_size = e.u32(fs, field::BLOCK_SIZE);
        if !block_size.is_power_of_two() || !(4096..=MAX_BLOCK_SIZE).contains(&block_size) {
            return Err(bad(format!("block size {block_size}")));
        }
        let block_size = block_size as usize;
        let inode_start = e.u32(fs, field::INODE_TABLE_START) as usize;
        let dir_start = e.u32(fs, field::DIRECTORY_TABLE_START) as usize;
        let frag_index = e.u32(fs, field::FRAGMENT_TABLE_START) as usize;
        let fragments = e.u32(fs, field::FRAGMENTS) as usize;
        if !(field::SIZE <= inode_start && inode_start <= dir_start && dir_start <= used) {
            return Err(bad(format!(
                "tables out of order (inodes at {inode_start}, directories at {dir_start})"
            )));
        }
        // The fragment index: one 32-bit pointer per metadata block of entries.
        let index_len = (fragments * FRAGMENT_ENTRY).div_ceil(METADATA_SIZE);
        let frag_pointers: Vec<usize> = (0..index_len)
            .map(|i| {
                let at = frag_index + i * 4;
                fs.get(at..at + 4)
                    .map(|_| e.u32(fs, at..at + 4) as usize)
                    .ok_or_else(|| bad("fragment index runs past the end".into()))
            })
            .collect::<Result<_, _>>()?;
        // The directory table ends where the fragment entries (or the next table) begin.
        let dir_end = frag_pointers
            .iter()
            .copied()
            .filter(|&p| p >= dir_start)
            .min()
            .unwrap_or(frag_index)
            .min(used);
        let mut metadata_budget = self.stream_cap(used as u64);
        let inodes = self.metadata2(
            name,
            region,
            fs,
            e,
            inode_start,
            dir_start,
            &mut metadata_budget,
        )?;
        let dirs = self.metadata2(
            name,
            region,
            fs,
            e,
            dir_start,
            dir_end,
            &mut metadata_budget,
        )?;
        let mut frag_table = Vec::with_capacity(fragments.min(used / FRAGMENT_ENTRY));
        for &p in &frag_pointers {
            // One metadata block of entries at each pointer.
            let one = fs
                .get(p..p.saturating_add(2))
                .map(|_| p + 2 + usize::from(e.u16(fs, p..p + 2) & !METADATA_STORED))
                .ok_or_else(|| bad(format!("fragment entries at {p} lie outside the image")))?;
            let t = self.metadata2(name, region, fs, e, p, one.min(used), &mut metadata_budget)?;
            let first = t.at(0, 0).unwrap_or(0);
            for entry in t.bytes[first..].chunks_exact(FRAGMENT_ENTRY) {
                if frag_table.len() == fragments {
                    break;
                }
                frag_table.push((e.u32(entry, 0..4) as u64, e.u32(entry, 4..8)));
            }
        }
        // Walk the tree from the root, collecting files, links and directories.
        let inode_at = |r: u64| -> Result<&[u8], UnpackError> {
            inodes
                .at(r >> 16, (r & 0xffff) as usize)
                .and_then(|p| inodes.bytes.get(p..))
                .ok_or_else(|| bad(format!("inode {:#x} lies outside the inode table", r)))
        };
        let root = e.u64(fs, field::ROOT_INODE);
        let mut members: Vec<(Vec<u8>, u32, Member)> = Vec::new();
        let mut files: Vec<File> = Vec::new();
        let mut seen_dirs = HashSet::new();
        let mut stack = vec![(Vec::new(), root)];
        let max_entries = self.limits.max_entries;
        while let Some((dir, dref)) = stack.pop() {
            if !seen_dirs.insert(dref) {
                return Err(bad(format!(
                    "directory inode {dref:#x} is reached twice (a loop)"
                )));
            }
            let raw = inode_at(dref)?;
            let mut b = Bits::new(raw, e);
            let short = || bad(format!("inode {dref:#x} runs past the inode table"));
            let [kind, ..] = b.read(bits::BASE).ok_or_else(short)?;
            let (size, offset, start) = match kind {
                inode_type::DIR => {
                    let [size, offset, _, start] = b.read(bits::DIR).ok_or_else(short)?;
                    (size, offset, start)
                }
                inode_type::LDIR => {
                    let [size, offset, _, start, _] = b.read(bits::LDIR).ok_or_else(short)?;
                    (size, offset, start)
                }
                other => {
                    return Err(bad(format!(
                        "inode {dref:#x} is a directory's, but of type {other}"
                    )))
                }
            };
            let from = dirs.at(start, offset as usize).ok_or_else(|| {
                bad(format!(
                    "directory {:?} lies outside the directory table",
                    String::from_utf8_lossy(&dir)
                ))
            })?;
            let listing = dirs
                .bytes
                .get(from..from.saturating_add(size as usize))
                .ok_or_else(|| {
                    bad(format!(
                        "directory {:?} runs past the directory table",
                        String::from_utf8_lossy(&dir)
                    ))
                })?;
            let mut pos = 0;
            while pos + 4 <= listing.len() {
                let mut h = Bits::new(&listing[pos..], e);
                let [count, block] = h
                    .read(bits::DIR_HEADER)
                    .ok_or_else(|| bad("directory header".into()))?;
                pos += h.bytes();
                for _ in 0..=count {
                    let mut d = Bits::new(listing.get(pos..).unwrap_or_default(), e);
                    let [off, _type, len] = d.read(bits::DIR_ENTRY).ok_or_else(|| {
                        bad(format!(
                            "directory {:?}: entry runs past it",
                            String::from_utf8_lossy(&dir)
                        ))
                    })?;
                    let name_at = pos + d.bytes();
                    let name_end = name_at + len as usize + 1;
                    let entry_name = listing.get(name_at..name_end).ok_or_else(|| {
                        bad(format!(
                            "directory {:?}: name runs past it",
                            String::from_utf8_lossy(&dir)
                        ))
                    })?;
                    pos = name_end;
                    if members.len() + files.len() >= max_entries {
                        return Err(UnpackError::new(
                            at_name(region),
                            ErrorKind::Limit {
                                what: "entry count",
                                limit: max_entries as u64,
                            },
                        ));
                    }
                    let path = [dir.as_slice(), b"/", entry_name].concat();
                    let iref = (block << 16) | off;
                    let raw = inode_at(iref)?;
                    let mut b = Bits::new(raw, e);
                    let short = || {
                        bad(format!(
                            "{}: inode runs past the inode table",
                            String::from_utf8_lossy(&path)
                        ))
                    };
                    let [kind, mode, _, _] = b.read(bits::BASE).ok_or_else(short)?;
                    let mode = mode as u32;
                    match kind {
                        inode_type::DIR | inode_type::LDIR => {
                            members.push((path.clone(), mode, Member::Dir));
                            stack.push((path, iref));
                        }
                        inode_type::FILE => {
                            let [_, start, fragment, frag_offset, size] =
                                b.read(bits::REG).ok_or_else(short)?;
                            let fragment = fragment as u32;
                            let whole = size / block_size as u64;
                            let count = if fragment == NO_FRAGMENT {
                                size.div_ceil(block_size as u64)
                            } else {
                                whole
                            } as usize;
                            let list_at = b.bytes();
                            let list = raw
                                .get(list_at..list_at.saturating_add(count.saturating_mul(4)))
                                .ok_or_else(short)?;
                            let blocks = list.chunks_exact(4).map(|c| e.u32(c, 0..4)).collect();
                            files.push(File {
                                path,
                                mode,
                                inode: iref,
                                start,
                                fragment,
                                frag_offset: frag_offset as usize,
                                size,
                                blocks,
                            });
                        }
                        inode_type::SYMLINK => {
                            let [len] = b.read(bits::SYMLINK).ok_or_else(short)?;
                            let at = b.bytes();
                            let target = raw.get(at..at + len as usize).ok_or_else(short)?;
                            members.push((
                                path,
                                mode,
                                Member::Symlink(String::from_utf8_lossy(target).into_owned()),
                            ));
                        }
                        _ => members.push((path, mode, Member::Special)),
                    }
                }
            }
        }
        // Declared sizes first (each inode once: hard links share it): a bomb is refused
        // before a byte of it is decoded.
        let mut unique = HashSet::new();
        let declared: u64 = files
            .iter()
            .filter(|f| unique.insert(f.inode))
            .map(|f| f.size)
            .fold(0, u64::saturating_add);
        let cap = self.stream_cap(used as u64);
        if declared > cap {
            return Err(self.cap_error(cap, used as u64, region));
        }
        for (path, mode, _) in members.iter().filter(|m| matches!(m.2, Member::Dir)) {
            let mut none = Vec::new();
            self.add_member(region, path, *mode, Member::Dir, &mut none)?;
        }
        let mut nested = Vec::new();
        let mut fragment_cache: HashMap<u32, Vec<u8>> = HashMap::new();
        let mut read: HashMap<u64, Arc<Vec<u8>>> = HashMap::new();
        for f in &files {
            if let Some(bytes) = read.get(&f.inode) {
                self.add_shared(region, &f.path, f.mode, Arc::clone(bytes))?;
                continue;
            }
            let shown = String::from_utf8_lossy(&f.path).into_owned();
            let at = || format!("{} {shown}", at_name(region));
            let mut out = Vec::with_capacity(f.size.min(cap) as usize);
            let mut pos = f.start as usize;
            for (i, &entry) in f.blocks.iter().enumerate() {
                let want = (f.size as usize - out.len()).min(block_size);
                let len = (entry & !BLOCK_STORED) as usize;
                if len == 0 {
                    out.resize(out.len() + want, 0);
                    continue;
                }
                let raw = fs.get(pos..pos.saturating_add(len)).ok_or_else(|| {
                    UnpackError::malformed(at(), name, format!("block {i} lies outside the image"))
                })?;
                pos += len;
                if entry & BLOCK_STORED != 0 {
                    out.extend_from_slice(&raw[..want.min(raw.len())]);
                } else {
                    let block = decompress(raw, block_size).map_err(|d| {
                        UnpackError::malformed(at(), name, format!("block {i}: {d}"))
                    })?;
                    out.extend_from_slice(&block[..want.min(block.len())]);
                }
            }
            if f.fragment != NO_FRAGMENT && (out.len() as u64) < f.size {
                let frag = match fragment_cache.get(&f.fragment) {
                    Some(b) => b,
                    None => {
                        let &(start, entry) =
                            frag_table.get(f.fragment as usize).ok_or_else(|| {
                                UnpackError::malformed(
                                    at(),
                                    name,
                                    format!("fragment {} is not in the fragment table", f.fragment),
                                )
                            })?;
                        let len = (entry & !BLOCK_STORED) as usize;
                        let raw = fs
                            .get(start as usize..(start as usize).saturating_add(len))
                            .ok_or_else(|| {
                                UnpackError::malformed(
                                    at(),
                                    name,
                                    format!("fragment {} lies outside the image", f.fragment),
                                )
                            })?;
                        let bytes = if entry & BLOCK_STORED != 0 {
                            raw[..raw.len().min(block_size)].to_vec()
                        } else {
                            decompress(raw, block_size).map_err(|d| {
                                UnpackError::malformed(
                                    at(),
                                    name,
                                    format!("fragment {}: {d}", f.fragment),
                                )
                            })?
                        };
                        fragment_cache.entry(f.fragment).or_insert(bytes)
                    }
                };
                let tail = (f.size as usize) - out.len();
                let piece = frag
                    .get(f.frag_offset..f.frag_offset.saturating_add(tail))
                    .ok_or_else(|| {
                        UnpackError::truncated(
                            at(),
                            name,
                            format!("its tail runs past fragment {}", f.fragment),
                        )
                    })?;
                out.extend_from_slice(piece);
            }
            if out.len() as u64 != f.size {
                return Err(UnpackError::truncated(
                    at(),
                    name,
                    format!("{} of {} bytes in its blocks", out.len(), f.size),
                ));
            }
            let bytes = Arc::new(out);
            read.insert(f.inode, Arc::clone(&bytes));
            self.add_member(region, &f.path, f.mode, Member::File(bytes), &mut nested)?;
        }
        for (path, mode, member) in members {
            if !matches!(member, Member::Dir) {
                let mut none = Vec::new();
                self.add_member(region, &path, mode, member, &mut none)?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(used)
    }

    /// The metadata blocks from `start` up to `end`, decoded, each charged to `budget`.
    #[allow(clippy::too_many_arguments)]
    fn metadata2(
        &self,
        name: &'static str,
        region: &str,
        fs: &[u8],
        e: Endian,
        start: usize,
        end: usize,
        budget: &mut u64,
    ) -> Result<Table, UnpackError> {
        let bad = |detail: String| UnpackError::malformed(at_name(region), name, detail);
        let mut table = Table {
            bytes: Vec::new(),
            blocks: HashMap::new(),
        };
        let mut pos = start;
        while pos + 2 <= end {
            let header = e.u16(fs, pos..pos + 2);
            let len = usize::from(header & !METADATA_STORED);
            let raw = fs
                .get(pos + 2..pos + 2 + len)
                .ok_or_else(|| bad(format!("metadata block at {pos} runs past the end")))?;
            let block = if header & METADATA_STORED != 0 {
                raw[..len.min(METADATA_SIZE)].to_vec()
            } else {
                decompress(raw, METADATA_SIZE)
                    .map_err(|d| bad(format!("metadata block at {pos}: {d}")))?
            };
            *budget = budget.checked_sub(block.len() as u64).ok_or_else(|| {
                UnpackError::new(
                    at_name(region),
                    ErrorKind::Limit {
                        what: "compression ratio (decompression bomb)",
                        limit: self.limits.max_ratio,
                    },
                )
            })?;
            table.blocks.insert((pos - start) as u64, table.bytes.len());
            table.bytes.extend_from_slice(&block);
            pos += 2 + len;
            if len == 0 {
                break;
            }
        }
        Ok(table)
    }
}

/// One block, at most `max` bytes once decoded: zlib when it has a zlib header, otherwise
/// LZMA as vendors wrote it: a raw stream (its first byte is the range coder's 0) with the
/// default properties, or a stream behind a 5-byte (properties, dictionary) or a 13-byte
/// `.lzma` header.
fn decompress(raw: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let zlib = raw.len() >= 2
        && raw[0] & 0x0f == 8
        && raw[0] >> 4 <= 7
        && (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 == 0;
    if zlib {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(raw)
            .take(max as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("zlib: {e}"))?;
        if out.len() > max {
            return Err(format!("zlib: more than the {max} bytes of a block"));
        }
        return Ok(out);
    }
    let (props, stream) = match raw.first() {
        Some(0) => (0x5d, raw),
        Some(&p) if raw.get(5) == Some(&0) => (p, &raw[5..]),
        Some(&p) if raw.len() > 13 && raw[13] == 0 => (p, &raw[13..]),
        _ => return Err("neither zlib nor LZMA".into()),
    };
    lzma_raw(props, stream, max).map_err(|e| format!("LZMA: {e}"))
}

/// A raw LZMA stream with properties byte `props`, decoded until its end marker, the end of
/// its input, or `max` bytes. The dictionary is the block's size (no distance in a block can
/// reach further back than the block), never what a header asks for.
fn lzma_raw(props: u8, stream: &[u8], max: usize) -> Result<Vec<u8>, String> {
    use liblzma::stream::{Action, Filters, LzmaOptions, Status, Stream};
    if props >= 9 * 5 * 5 {
        return Err(format!("properties byte {props:#x}"));
    }
    let (lc, lp, pb) = (props % 9, (props / 9) % 5, props / 45);
    let dict = (max.max(4096) as u64).min(LZMA_MEMORY_LIMIT) as u32;
    let mut opts = LzmaOptions::new_preset(6).map_err(|e| e.to_string())?;
    opts.literal_context_bits(lc.into())
        .literal_position_bits(lp.into())
        .position_bits(pb.into())
        .dict_size(dict);
    let mut filters = Filters::new();
    filters.lzma1(&opts);
    let mut s = Stream::new_raw_decoder(&filters).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(max);
    loop {
        let used = s.total_in() as usize;
        let before = out.len();
        match s.process_vec(&stream[used..], &mut out, Action::Run) {
            Ok(Status::StreamEnd) => break,
            Ok(_) => {}
            // Past the last symbol of a stream without an end marker, the decoder reads the
            // next block's bytes (or runs out): what it produced so far is the block.
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(e.to_string()),
        }
        if out.len() >= max || (out.len() == before && s.total_in() as usize == used) {
            break;
        }
    }
    Ok(out)
}
